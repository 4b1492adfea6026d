import type { EngineDeps } from './engine-deps.js';
import { WorkLoop, type PassResult } from './work-loop.js';
import { runRingStep } from './ring-runner.js';
import { NO_DEADLINE } from '../store/schema.js';
import { runGroupStep } from './group-runner.js';
import { RING_STATES_PENDING_WORK } from '../model/ring-states.js';
import { IG_STATES_ACTIVE } from '../model/installation-group-states.js';

const ROLLING_GROUP_STATES = IG_STATES_ACTIVE;
/** Group steps talk to the provisioner; this many run at once. */
const GROUP_CONCURRENCY = 16;

export interface SupervisorOptions {
  pollSeconds: number;
  rings: boolean;
  groups: boolean;
}

/**
 * Walks rings and installation groups. Ring steps run in release order in each pass; group steps (which wait
 * on the provisioner) run concurrently in the background and nudge the supervisor when they finish, so a slow
 * provisioner call never holds up another ring.
 */
export class Supervisor {
  readonly loop: WorkLoop;
  readonly #deps: EngineDeps;
  readonly #options: SupervisorOptions;
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(deps: EngineDeps, options: SupervisorOptions) {
    this.#deps = deps;
    this.#options = options;
    this.loop = new WorkLoop({ name: 'supervisor', pass: (full) => this.#pass(full), clock: deps.clock, log: deps.log, pollSeconds: options.pollSeconds });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled(this.#inFlight.values());
  }

  /** Look at due work now (coalesced). */
  nudge(): void {
    this.loop.nudge();
  }

  /** For tests and `elrond demo`: run passes until nothing is due and no group step is in flight. */
  async runUntilIdle(maxPasses = 500): Promise<void> {
    for (let i = 0; i < maxPasses; i++) {
      await this.loop.settle();
      const result = await this.#pass(i === 0);
      await Promise.allSettled([...this.#inFlight.values()]);
      const now = this.#deps.clock.now();
      if (!result.again && this.#inFlight.size === 0 && (result.nextDeadline === null || result.nextDeadline > now) && !(await this.#anythingDue(now))) return;
    }
    throw new Error(`supervisor still busy after ${maxPasses} passes`);
  }

  async #anythingDue(now: number): Promise<boolean> {
    const { db } = this.#deps.store;
    const ring = this.#options.rings
      ? await db.selectFrom('rings').select('id').where('state', 'in', [...RING_STATES_PENDING_WORK]).where('next_check_at', '<=', now).executeTakeFirst()
      : undefined;
    const group = this.#options.groups
      ? await db.selectFrom('installation_groups').select('id').where('state', 'in', ROLLING_GROUP_STATES).where('next_check_at', '<=', now).executeTakeFirst()
      : undefined;
    return Boolean(ring || group);
  }

  async #pass(full: boolean): Promise<PassResult> {
    const { store, clock, log } = this.#deps;
    const now = clock.now();
    let again = false;
    if (this.#options.rings) {
      let query = store.db.selectFrom('rings').select(['id', 'next_check_at']).where('state', 'in', [...RING_STATES_PENDING_WORK]).orderBy('priority').orderBy('create_seq');
      if (!full) query = query.where('next_check_at', '<=', now);
      for (const { id, next_check_at: nextCheckAt } of await query.execute()) {
        try {
          if ((await runRingStep(this.#deps, id, nextCheckAt > now)) === 'progressed') again = true;
        } catch (error) {
          log.error({ err: error, ringId: id }, 'ring step failed; it will be retried');
          this.loop.failures++;
        }
        // On SQLite a step never waits on I/O, so without this a pass over 500 queued rings (the backstop's
        // full pass, or the start of a 500-ring release) held the event loop for ~0.9 s: requests wait for no
        // step longer than one.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (this.#options.groups) {
      // Only groups that are due, even on a full pass: a group's deadline is its retry backoff, its next status
      // poll or the end of its soak, never a wait on something else, so stepping it early would break the backoff.
      const query = store.db.selectFrom('installation_groups').select('id').where('state', 'in', ROLLING_GROUP_STATES).where('next_check_at', '<=', now).orderBy('next_check_at');
      for (const { id } of await query.execute()) {
        if (this.#inFlight.has(id) || this.#inFlight.size >= GROUP_CONCURRENCY) continue;
        const task = runGroupStep(this.#deps, id)
          .then((result) => {
            if (result === 'progressed' || result === 'waiting') this.nudge();
          })
          .catch((error: unknown) => {
            log.error({ err: error, groupId: id }, 'group step failed; it will be retried');
            this.loop.failures++;
          })
          .finally(() => this.#inFlight.delete(id));
        this.#inFlight.set(id, task);
      }
    }
    return { again, nextDeadline: await this.#nextDeadline() };
  }

  /**
   * When this loop next has something to do. A row leased by a step in progress (another replica's, or one of
   * this process's group steps) cannot be stepped before its lease ends, so it counts from then: otherwise a
   * step waiting on a slow provisioner call would have every replica re-run passes back to back until it ends.
   * Its holder nudges its own loop when it finishes; a lease that expires is due at once.
   */
  async #nextDeadline(): Promise<number | null> {
    const { db } = this.#deps.store;
    const ring = await db
      .selectFrom('rings')
      .select((eb) => eb.fn.min(eb.case().when('locked_until', '>', eb.ref('next_check_at')).then(eb.ref('locked_until')).else(eb.ref('next_check_at')).end()).as('at'))
      .where('state', 'in', [...RING_STATES_PENDING_WORK])
      .executeTakeFirst();
    const group = await db
      .selectFrom('installation_groups')
      .select((eb) => eb.fn.min(eb.case().when('locked_until', '>', eb.ref('next_check_at')).then(eb.ref('locked_until')).else(eb.ref('next_check_at')).end()).as('at'))
      .where('state', 'in', ROLLING_GROUP_STATES)
      .executeTakeFirst();
    const candidates = [ring?.at, group?.at].map((v) => (v === null || v === undefined ? NO_DEADLINE : Number(v))).filter((v) => v < NO_DEADLINE);
    return candidates.length ? Math.min(...candidates) : null;
  }
}
