import type { EngineDeps } from './engine-deps.js';
import { WorkLoop, type PassResult } from './work-loop.js';
import { ringsToRefresh, runRingStep, type StepResult } from './ring-runner.js';
import { runGroupStep } from './group-runner.js';
import { anythingDue, groupsDue, nextWorkDueAt, ringsWithWork } from '../store/work-queue.js';
import { ringOfGroup } from '../store/rings.js';

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
    return anythingDue(this.#deps.store.db, now, this.#options);
  }

  async #pass(full: boolean): Promise<PassResult> {
    const { store, clock } = this.#deps;
    // Group steps wait on the provisioner: start them before the ring steps, whose SQLite work never waits on I/O
    // (a woken group would otherwise sit out every other ring's step), and again after, for the groups a ring
    // step has just queued.
    await this.#startDueGroups();
    let again = false;
    if (this.#options.rings) {
      const now = clock.now();
      const rings = await ringsWithWork(store.db, now, full);
      // A full pass also looks at rings not due; only those whose stored wait is out of date get a step.
      const refresh = await ringsToRefresh(this.#deps, rings.filter((ring) => ring.nextCheckAt > now).map((ring) => ring.id));
      for (const { id, nextCheckAt } of rings) {
        const early = nextCheckAt > now;
        if (early && !refresh.has(id)) continue;
        if ((await this.#ringStep(id, early)) === 'progressed') {
          again = true;
          // The groups this step started go to the provisioner now, not after every other ring's step: at the start
          // of a forced release of ten rings the last ring's first PUT waited ~35 ms for nine steps (bench/, urgent).
          await this.#startDueGroups();
        }
        // On SQLite a step never waits on I/O, so without this a pass over 500 queued rings (the backstop's
        // full pass, or the start of a 500-ring release) held the event loop for ~0.9 s: requests wait for no
        // step longer than one.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (rings.length > 0) await this.#startDueGroups();
    }
    return { again, nextDeadline: await this.#nextDeadline() };
  }

  /**
   * Only groups that are due, even on a full pass: a group's deadline is its retry backoff, its next status poll
   * or the end of its soak, never a wait on something else, so stepping it early would break the backoff.
   */
  async #startDueGroups(): Promise<void> {
    if (!this.#options.groups) return;
    const { store, clock, log } = this.#deps;
    for (const id of await groupsDue(store.db, clock.now())) {
      if (this.#inFlight.has(id) || this.#inFlight.size >= GROUP_CONCURRENCY) continue;
      const task = runGroupStep(this.#deps, id)
        .then(async (result) => {
          if (result === 'progressed') await this.#stepRingOf(id);
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

  /**
   * A group that moved (rolled out, soaked, failed) hands its ring the next decision at once, and the groups that
   * decision starts are started at once, instead of waiting for a pass that steps every due ring in release order:
   * when ten rings' groups end together, the last ring's next PUT waited behind the other nine (bench/, urgent).
   * The ring stays due until stepped, so a pass still steps it if this does not (lease held elsewhere, an error).
   */
  async #stepRingOf(groupId: string): Promise<void> {
    if (!this.#options.rings) return;
    const { store, clock } = this.#deps;
    const ring = await ringOfGroup(store.db, groupId).catch(() => undefined);
    if (!ring || ring.nextCheckAt > clock.now()) return;
    if ((await this.#ringStep(ring.id, false)) === 'progressed') await this.#startDueGroups();
  }

  /** One ring step; a failure is logged and counted, and the ring stays due for the next pass. */
  async #ringStep(ringId: string, early: boolean): Promise<StepResult | 'failed'> {
    try {
      return await runRingStep(this.#deps, ringId, early);
    } catch (error) {
      this.#deps.log.error({ err: error, ringId }, 'ring step failed; it will be retried');
      this.loop.failures++;
      return 'failed';
    }
  }

  /**
   * When this loop next has something to do. A row leased by a step in progress (another replica's, or one of
   * this process's group steps) cannot be stepped before its lease ends, so it counts from then: otherwise a
   * step waiting on a slow provisioner call would have every replica re-run passes back to back until it ends.
   * Its holder nudges its own loop when it finishes; a lease that expires is due at once.
   */
  async #nextDeadline(): Promise<number | null> {
    return nextWorkDueAt(this.#deps.store.db);
  }
}
