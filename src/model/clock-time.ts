const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * An instant as people read it in a thread: "14:05 UTC" on the same (UTC) day as `now`, "Nov 26, 14:05 UTC" on
 * another. Everyone in a channel sees the same text, so it is UTC, said so.
 */
export function formatClockTime(ms: number, now: number): string {
  const at = new Date(ms);
  const time = `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`;
  const today = new Date(now);
  const sameDay = at.getUTCFullYear() === today.getUTCFullYear() && at.getUTCMonth() === today.getUTCMonth() && at.getUTCDate() === today.getUTCDate();
  return sameDay ? time : `${MONTHS[at.getUTCMonth()]} ${at.getUTCDate()}, ${time}`;
}
