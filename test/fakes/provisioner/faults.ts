/**
 * Test-controlled fault injection for the fake provisioner. All randomness comes from the
 * seeded PRNG passed in, so a given seed and request sequence always fail the same way.
 */
import type { FaultRoute, RouteName } from './types.js';

/** Extra delay drawn uniformly from [minMs, maxMs] for every answered request. */
export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

/** What to do with one request. */
export type FaultDecision =
  | { kind: 'hang' }
  | { kind: 'fail'; status: number; delayMs: number }
  | { kind: 'pass'; delayMs: number };

interface Queued {
  route: FaultRoute;
  remaining: number;
  status: number;
}

/** Pops one use of the first queued entry for `route`, preferring exact routes over `'any'`. */
function take(queue: Queued[], route: RouteName): Queued | undefined {
  const entry = queue.find((q) => q.route === route) ?? queue.find((q) => q.route === 'any');
  if (entry === undefined) return undefined;
  entry.remaining -= 1;
  if (entry.remaining <= 0) queue.splice(queue.indexOf(entry), 1);
  return entry;
}

function assertCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
}

/** Queues of one-shot faults plus a random error rate and latency. */
export class FaultInjector {
  private readonly failures: Queued[] = [];
  private readonly hangs: Queued[] = [];
  private errorRate = 0;
  private errorStatus = 503;
  private errorRoutes: readonly RouteName[] | null = null;
  private latency: LatencyRange | null = null;

  constructor(private readonly random: () => number) {}

  /** The next `count` requests to `route` answer `status` with an empty body. */
  failNext(route: FaultRoute, status: number, count: number): void {
    assertCount(count);
    this.failures.push({ route, status, remaining: count });
  }

  /** The next `count` requests to `route` are never answered. */
  hangNext(route: FaultRoute, count: number): void {
    assertCount(count);
    this.hangs.push({ route, status: 0, remaining: count });
  }

  /** Each request to `routes` (default: all) fails with `status` with probability `rate`. */
  setErrorRate(rate: number, status: number, routes?: readonly RouteName[]): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`rate must be within [0, 1], got ${rate}`);
    this.errorRate = rate;
    this.errorStatus = status;
    this.errorRoutes = routes ?? null;
  }

  /** Adds a random delay to every answered request; null turns it off. */
  setLatency(range: LatencyRange | null): void {
    if (range !== null && !(range.minMs >= 0 && range.maxMs >= range.minMs)) {
      throw new RangeError('latency needs 0 <= minMs <= maxMs');
    }
    this.latency = range;
  }

  /** Drops every queued fault, the error rate and the latency. */
  clear(): void {
    this.failures.length = 0;
    this.hangs.length = 0;
    this.errorRate = 0;
    this.errorRoutes = null;
    this.latency = null;
  }

  /** Decides the fate of one request: hang, fail or pass (with latency). */
  decide(route: RouteName): FaultDecision {
    if (take(this.hangs, route) !== undefined) return { kind: 'hang' };
    const failure = take(this.failures, route);
    if (failure !== undefined) return { kind: 'fail', status: failure.status, delayMs: this.delay() };
    if (this.randomFailure(route)) return { kind: 'fail', status: this.errorStatus, delayMs: this.delay() };
    return { kind: 'pass', delayMs: this.delay() };
  }

  private randomFailure(route: RouteName): boolean {
    if (this.errorRate === 0) return false;
    if (this.errorRoutes !== null && !this.errorRoutes.includes(route)) return false;
    return this.random() < this.errorRate;
  }

  private delay(): number {
    if (this.latency === null) return 0;
    const { minMs, maxMs } = this.latency;
    return minMs + this.random() * (maxMs - minMs);
  }
}
