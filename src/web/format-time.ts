import { formatDuration } from '../model/durations.js';

/** "12:03:04 UTC": times on the page are UTC, the same for everyone looking at one release. */
export function clockTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

/** "2026-11-25 12:03 UTC" */
export function dateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "3m 10s ago", "just now". */
export function ago(ms: number, now: number): string {
  return now - ms < 1000 ? 'just now' : `${formatDuration(now - ms)} ago`;
}

export { formatDuration };
