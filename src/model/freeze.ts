import { activeOccurrence, nextOccurrence, parseCron } from './cron-window.js';

/** A window during which no ring or group starts. One-off (start/end) or recurring (cron + duration in a timezone). */
export interface Freeze {
  id: string;
  /** Ring ids it applies to; empty means every ring. */
  ringIds: string[];
  startAt: number | null;
  endAt: number | null;
  cron: string | null;
  durationMs: number | null;
  timezone: string;
  reason: string;
  author: string;
  createAt: number;
}

export interface ActiveFreeze {
  freeze: Freeze;
  until: number;
}

export function appliesTo(freeze: Freeze, ringId: string): boolean {
  return freeze.ringIds.length === 0 || freeze.ringIds.includes(ringId);
}

/** Whether a freeze is in force at `now`, and until when. */
export function freezeWindowAt(freeze: Freeze, now: number): { start: number; end: number } | null {
  if (freeze.cron && freeze.durationMs) return activeOccurrence(parseCron(freeze.cron), freeze.timezone, freeze.durationMs, now);
  if (freeze.startAt !== null && freeze.endAt !== null && freeze.startAt <= now && now < freeze.endAt) return { start: freeze.startAt, end: freeze.endAt };
  return null;
}

/** The freeze holding `ringId` at `now` that lasts longest, or null. */
export function activeFreezeFor(freezes: readonly Freeze[], ringId: string, now: number): ActiveFreeze | null {
  let found: ActiveFreeze | null = null;
  for (const freeze of freezes) {
    if (!appliesTo(freeze, ringId)) continue;
    const window = freezeWindowAt(freeze, now);
    if (window && (!found || window.end > found.until)) found = { freeze, until: window.end };
  }
  return found;
}

/** Freeze windows that overlap [from, to) for a ring: for plans ("freeze windows in the way"). */
export function freezesBetween(freezes: readonly Freeze[], ringId: string, from: number, to: number): Array<{ freeze: Freeze; start: number; end: number }> {
  const found: Array<{ freeze: Freeze; start: number; end: number }> = [];
  for (const freeze of freezes) {
    if (!appliesTo(freeze, ringId)) continue;
    const current = freezeWindowAt(freeze, from);
    if (current) {
      found.push({ freeze, ...current });
      continue;
    }
    if (freeze.cron && freeze.durationMs) {
      const start = nextOccurrence(parseCron(freeze.cron), freeze.timezone, from, Math.min(to - from, 14 * 24 * 3600_000));
      if (start !== null && start < to) found.push({ freeze, start, end: start + freeze.durationMs });
    } else if (freeze.startAt !== null && freeze.endAt !== null && freeze.startAt < to && freeze.endAt > from) {
      found.push({ freeze, start: freeze.startAt, end: freeze.endAt });
    }
  }
  return found;
}

export function describeFreeze(active: ActiveFreeze): string {
  return `frozen until ${new Date(active.until).toISOString()}, reason: ${active.freeze.reason}, by ${active.freeze.author}`;
}
