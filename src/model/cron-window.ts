/**
 * Recurring windows: a 5-field cron expression (minute hour day-of-month month day-of-week) evaluated in an
 * IANA timezone, each occurrence lasting `durationMs`. Pure; used by freeze windows.
 */
export interface CronFields {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
  /** Cron's rule: when both day fields are restricted, a day matches if either does. */
  dayOfMonthAny: boolean;
  dayOfWeekAny: boolean;
}

const RANGES: Array<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

function parseField(text: string, [min, max]: [number, number], name: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new Error(`cron ${name} "${part}" is not valid (use *, 5, 1-5, */15 or lists like 1,15)`);
    const [, range = '*', stepText] = match;
    const step = stepText ? Number(stepText) : 1;
    let from = min;
    let to = max;
    if (range !== '*') {
      const [a, b] = range.split('-').map(Number) as [number, number | undefined];
      from = a;
      to = b ?? a;
    }
    if (from < min || to > max || from > to || step < 1) throw new Error(`cron ${name} "${part}" is out of range ${min}-${max}`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** Parse "0 22 * * 5" etc.; throws an Error naming the bad field. */
export function parseCron(expression: string): CronFields {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`cron "${expression}" must have 5 fields: minute hour day-of-month month day-of-week (e.g. "0 22 * * 5" is Fridays 22:00)`);
  const [minute, hour, dom, month, dow] = fields.map((f, i) => parseField(f, RANGES[i]!, NAMES[i]!));
  if (dow!.has(7)) dow!.add(0);
  return { minute: minute!, hour: hour!, dayOfMonth: dom!, month: month!, dayOfWeek: dow!, dayOfMonthAny: fields[2] === '*', dayOfWeekAny: fields[4] === '*' };
}

export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall-clock fields of an instant in a timezone. */
function wallClock(at: number, zone: string) {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(zone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(at)) parts[part.type] = part.value;
  return { minute: Number(parts.minute), hour: Number(parts.hour), day: Number(parts.day), month: Number(parts.month), weekday: WEEKDAYS.indexOf(parts.weekday ?? '') };
}

export function cronMatches(cron: CronFields, at: number, zone: string): boolean {
  const t = wallClock(at, zone);
  if (!cron.minute.has(t.minute) || !cron.hour.has(t.hour) || !cron.month.has(t.month)) return false;
  const dom = cron.dayOfMonth.has(t.day);
  const dow = cron.dayOfWeek.has(t.weekday);
  if (cron.dayOfMonthAny || cron.dayOfWeekAny) return dom && dow;
  return dom || dow;
}

const MINUTE = 60_000;

/**
 * The occurrence covering `now`, if any: the latest start at or before `now` whose window (start + duration)
 * has not ended. Scans minute by minute back over one duration (durations are capped at 7 days).
 */
export function activeOccurrence(cron: CronFields, zone: string, durationMs: number, now: number): { start: number; end: number } | null {
  const latest = Math.floor(now / MINUTE) * MINUTE;
  for (let start = latest; start > now - durationMs; start -= MINUTE) {
    if (cronMatches(cron, start, zone)) return { start, end: start + durationMs };
  }
  return null;
}

/** The next occurrence starting after `now`, within `horizonMs` (for plans: "a freeze starts at …"). */
export function nextOccurrence(cron: CronFields, zone: string, now: number, horizonMs: number): number | null {
  const first = Math.floor(now / MINUTE) * MINUTE + MINUTE;
  for (let start = first; start <= now + horizonMs; start += MINUTE) if (cronMatches(cron, start, zone)) return start;
  return null;
}
