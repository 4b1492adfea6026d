import type { Ring } from './ring.js';
import { describeSoak } from './ring-decision.js';

/** First retry of a failed SLO check; each further failure doubles the wait, up to SLO_RETRY_MAX_MS. */
export const SLO_RETRY_FIRST_MS = 5_000;
export const SLO_RETRY_MAX_MS = 5 * 60_000;

/** How long to wait after the `failures`-th failed SLO check in a row: 5 s, 10 s, 20 s … 5 min. */
export function sloRetryDelayMs(failures: number): number {
  return Math.min(SLO_RETRY_MAX_MS, SLO_RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

type SloRing = Pick<Ring, 'soakUntil' | 'nextCheckAt' | 'sloFailures' | 'sloError' | 'sloHealthyAt'>;

const iso = (ms: number) => new Date(ms).toISOString();

/** The soak part of a soaking ring's wait, SLO gate or not. */
export function describeSoakTime(ring: SloRing, now: number): string {
  const until = ring.soakUntil ?? now;
  return now < until ? describeSoak(until, now) : `soak time over since ${iso(until)}; the ring completes after a healthy SLO check`;
}

/**
 * What the SLO gate of a soaking ring knows: failing (how often, Prometheus' error, the next try), healthy
 * (since when), or not checked yet. `maxFailures` adds when the soak fails.
 */
export function describeSloCheck(ring: SloRing, maxFailures?: number): string {
  if (ring.sloFailures > 0) {
    const times = ring.sloFailures === 1 ? 'once' : `${ring.sloFailures} times in a row`;
    const limit = maxFailures ? ` (the soak fails at ${maxFailures})` : '';
    return `SLO check failed ${times}${limit}: ${ring.sloError ?? 'no error text'}; next check at ${iso(ring.nextCheckAt)}`;
  }
  if (ring.sloHealthyAt !== null) return `SLO healthy at ${iso(ring.sloHealthyAt)}`;
  return 'SLO not checked yet';
}

/**
 * A soaking ring in one line: its soak and, once checked, its SLO gate (the ring's status message). The card,
 * redrawn only on events, leaves out "healthy at" (it would go stale) and shows failures only.
 */
export function describeRingSoak(ring: SloRing, now: number, options: { maxFailures?: number; healthy?: boolean } = {}): string {
  const shown = ring.sloFailures > 0 || (ring.sloHealthyAt !== null && options.healthy !== false);
  return shown ? `${describeSoakTime(ring, now)}; ${describeSloCheck(ring, options.maxFailures)}` : describeSoakTime(ring, now);
}
