import type { Store } from '../store/connect.js';
import type { Clock } from '../model/clock.js';
import { ElrondError, conflict } from '../model/errors.js';
import { leaseHolder } from '../store/leases.js';

/** How long a request waits for a supervisor step holding a ring's lease before answering 409 (ms). */
export const DEFAULT_LEASE_WAIT_MS = 5_000;
/** How often the waiting request looks at the lease again (ms). */
const LEASE_POLL_MS = 20;

/**
 * A request met a ring whose lease a supervisor step holds. Thrown inside the request's transaction (which
 * rolls back), caught by {@link waitForRunningSteps}, which waits for the step and runs the request again.
 */
export class RingLeaseHeld extends ElrondError {
  constructor(
    readonly ring: { id: string; name: string },
    readonly holder: string,
    readonly until: number,
    readonly what: string,
  ) {
    super('Conflict', `ring ${ring.name} (${ring.id}) is being worked on by ${holder} right now; try again in a few seconds`);
  }
}

export interface LeaseWaitDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  /** Bound on the wait (ms); default {@link DEFAULT_LEASE_WAIT_MS}. */
  leaseWaitMs?: number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Run `attempt`; when it meets a ring leased by a running step, wait until the holder gives the lease back (steps
 * hold it for milliseconds) and run it again. Only a holder that keeps it past the bound, a stuck or dead
 * replica, makes it a 409, naming the holder and when its lease runs out. Before, `ring create` then at once
 * `installation-group register` on two replicas met the supervisor's creation step and failed 1-2 times in 3.
 *
 * The bound is real time, not the injected clock's: the holder is another task or process that gives the lease
 * back as it finishes, whatever a test's clock says.
 */
export async function waitForRunningSteps<T>(deps: LeaseWaitDeps, attempt: () => Promise<T>): Promise<T> {
  const boundMs = deps.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS;
  const giveUpAt = Date.now() + boundMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof RingLeaseHeld)) throw error;
      if (!(await leaseGivenBack(deps, error, giveUpAt))) throw stuckHolder(error, boundMs);
    }
  }
}

async function leaseGivenBack(deps: LeaseWaitDeps, held: RingLeaseHeld, giveUpAt: number): Promise<boolean> {
  for (;;) {
    const now = await leaseHolder(deps.store.db, 'rings', held.ring.id, deps.clock.now());
    // A new holder is a new step: worth waiting for too, within the same bound.
    if (!now) return true;
    if (Date.now() >= giveUpAt) return false;
    await pause(LEASE_POLL_MS);
  }
}

function stuckHolder(held: RingLeaseHeld, boundMs: number): ElrondError {
  const seconds = Math.max(1, Math.round(boundMs / 1000));
  return conflict(
    `ring ${held.ring.name} (${held.ring.id}) is being worked on by ${held.holder}, whose step has not finished in ${seconds} s: that replica is stuck or has died, so the ring cannot be ${held.what} yet. ` +
      `Its lease runs out at ${new Date(held.until).toISOString()}, when another replica takes the ring over; try again after that`,
  );
}
