import cron, { type ScheduledTask } from 'node-cron';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';

export interface PassResult {
  /** Something moved: run another pass right away. */
  again: boolean;
  /** Earliest stored deadline (ms) this loop must wake up for, or null. */
  nextDeadline: number | null;
}

export interface WorkLoopEvents {
  'pass:error': [error: unknown];
  'pass:done': [result: PassResult];
}

/** The longest a timer is armed for; the cron backstop covers anything later. */
const MAX_TIMER_MS = 60_000;

/**
 * Runs `pass` when poked (coalesced: a burst of nudges while a pass runs means one more pass), when the
 * earliest stored deadline arrives (a timer), and every `pollSeconds` as a backstop (node-cron) whose pass
 * looks at everything, not only what is due. Never two passes at once.
 */
export class WorkLoop extends EventEmitter<WorkLoopEvents> {
  readonly #name: string;
  readonly #pass: (full: boolean) => Promise<PassResult>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #pollSeconds: number;
  #running: Promise<void> | null = null;
  #again = false;
  #fullRequested = false;
  #timer: NodeJS.Timeout | null = null;
  #cron: ScheduledTask | null = null;
  #stopped = true;
  failures = 0;

  constructor(options: { name: string; pass: (full: boolean) => Promise<PassResult>; clock: Clock; log: Logger; pollSeconds: number }) {
    super();
    this.#name = options.name;
    this.#pass = options.pass;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#pollSeconds = options.pollSeconds;
  }

  start(): void {
    this.#stopped = false;
    if (this.#pollSeconds > 0) {
      this.#cron = cron.schedule(cronExpression(this.#pollSeconds), () => this.nudge(true), { name: this.#name });
    }
    this.nudge(true);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#cron?.stop();
    this.#cron = null;
    await this.#running;
  }

  /** Run a pass soon; `full` looks at everything, not only what is due. */
  nudge(full = false): void {
    if (this.#stopped) return;
    this.#fullRequested ||= full;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#loop());
  }

  /** Wait for the current pass (and any it scheduled) to finish. */
  async settle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #loop(): Promise<void> {
    try {
      for (let round = 0; round < 100; round++) {
        this.#again = false;
        const full = this.#fullRequested;
        this.#fullRequested = false;
        let result: PassResult = { again: false, nextDeadline: null };
        try {
          result = await this.#pass(full);
          this.emit('pass:done', result);
        } catch (error) {
          this.failures++;
          this.#log.error({ err: error, loop: this.#name }, `${this.#name} pass failed; it will run again`);
          this.emit('pass:error', error);
          result = { again: false, nextDeadline: this.#clock.now() + 1000 };
        }
        this.#arm(result.nextDeadline);
        if (this.#stopped || !(result.again || this.#again)) break;
      }
    } finally {
      this.#running = null;
    }
  }

  #arm(deadline: number | null): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (deadline === null || this.#stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, deadline - this.#clock.now()));
    this.#timer = setTimeout(() => this.nudge(), delay);
    this.#timer.unref();
  }
}

/** node-cron expression for "every N seconds". */
export function cronExpression(seconds: number): string {
  if (seconds < 60) return `*/${seconds} * * * * *`;
  const minutes = Math.max(1, Math.round(seconds / 60));
  return minutes < 60 ? `0 */${minutes} * * * *` : `0 0 */${Math.max(1, Math.round(minutes / 60))} * * *`;
}
