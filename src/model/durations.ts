import { badRequest } from './errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90m", "2h", "1d12h", "45s", or a bare number of seconds → milliseconds. */
export function parseDuration(text: string, field: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+)([smhdw])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw badRequest(`${field} "${text}" is not a duration: use e.g. 30m, 2h, 1d12h, or seconds`);
  }
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0);
}

/** Latest instant accepted anywhere (year 9999): beyond it a Date cannot be shown. */
const LATEST = Date.UTC(9999, 11, 31);

/**
 * An instant: ISO 8601 ("2026-12-24T18:00:00Z", "2026-12-24T18:00+01:00"), milliseconds since the epoch,
 * or relative to now ("+2h", "now").
 */
export function parseInstant(text: string, field: string, now: number): number {
  const at = parseInstantUnchecked(text, field, now);
  if (!Number.isFinite(at) || at < 0 || at > LATEST) throw badRequest(`${field} "${text}" is out of range: use a time between 1970 and 9999`);
  return at;
}

function parseInstantUnchecked(text: string, field: string, now: number): number {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  if (trimmed.startsWith('+')) return now + parseDuration(trimmed.slice(1), field);
  if (/^\d{12,}$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    throw badRequest(`${field} "${text}" is not a time: use ISO 8601 like 2026-12-24T18:00:00Z, or +2h`);
  }
  return at;
}

/** "45s", "10m 30s", "2h 5m", "1d 3h" for people (soak countdowns, plans, freezes). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? ` ${h % 24}h` : ''}`;
}

/** A lower time bound: a duration back from now ("2h", "-2h", "7d") or an instant (ISO 8601, ms). */
export function parseSince(text: string, field: string, now: number): number {
  const trimmed = text.trim().replace(/^-/, '');
  if (/^(\d+[smhdw])+$/.test(trimmed)) return now - parseDuration(trimmed, field);
  return parseInstant(text, field, now);
}
