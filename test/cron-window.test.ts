import { describe, it, expect } from 'vitest';
import { activeOccurrence, cronMatches, nextOccurrence, parseCron } from '../src/model/cron-window.js';

describe('recurring windows', () => {
  it('parses the usual forms and names a bad field', () => {
    expect([...parseCron('*/15 22 * * 5').minute]).toEqual([0, 15, 30, 45]);
    expect([...parseCron('0 9-11 1,15 * *').hour]).toEqual([9, 10, 11]);
    expect(() => parseCron('0 25 * * *')).toThrow(/hour "25" is out of range/);
    expect(() => parseCron('0 22 * *')).toThrow(/5 fields/);
  });

  it('evaluates in the timezone, not UTC', () => {
    const fridays22 = parseCron('0 22 * * 5');
    // Friday 2026-11-27 22:00 in Berlin (UTC+1) is 21:00 UTC.
    expect(cronMatches(fridays22, Date.UTC(2026, 10, 27, 21, 0), 'Europe/Berlin')).toBe(true);
    expect(cronMatches(fridays22, Date.UTC(2026, 10, 27, 22, 0), 'Europe/Berlin')).toBe(false);
  });

  it('a window that crosses midnight in a non-UTC timezone covers the next morning', () => {
    // Every day 23:00 for 3 hours, in New York (UTC-5 in November): 04:00–07:00 UTC the next day.
    const nightly = parseCron('0 23 * * *');
    const zone = 'America/New_York';
    const afterMidnight = Date.UTC(2026, 10, 26, 6, 30); // 01:30 New York
    expect(activeOccurrence(nightly, zone, 3 * 3600_000, afterMidnight)).toEqual({ start: Date.UTC(2026, 10, 26, 4, 0), end: Date.UTC(2026, 10, 26, 7, 0) });
    expect(activeOccurrence(nightly, zone, 3 * 3600_000, Date.UTC(2026, 10, 26, 7, 0))).toBeNull();
    expect(nextOccurrence(nightly, zone, Date.UTC(2026, 10, 26, 12, 0), 24 * 3600_000)).toBe(Date.UTC(2026, 10, 27, 4, 0));
  });
});
