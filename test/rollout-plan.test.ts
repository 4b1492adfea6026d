import { describe, it, expect, afterEach } from 'vitest';
import { groupSchedule, planRollout, ringReleaseMs, ringRemainingMs } from '../src/model/rollout-eta.js';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { TEST_DIALECTS } from './helpers/temp-database.js';

const MIN = 60_000;
const groups = (n: number, rolloutMs = 5 * MIN, soakSeconds = 0) => Array.from({ length: n }, () => ({ rolloutMs, soakSeconds }));

describe('planRollout: the engine\'s group parallelism (--max-parallel-groups)', () => {
  it('3 groups with max-parallel 3 take one group\'s time; with 1, three', () => {
    expect(ringReleaseMs(groups(3), 0, 3)).toBe(5 * MIN);
    expect(ringReleaseMs(groups(3), 0, 1)).toBe(15 * MIN);
    expect(ringReleaseMs(groups(3), 60, 3)).toBe(6 * MIN);
  });

  it('a group starts when a slot frees, its soak included, in order', () => {
    expect(groupSchedule([{ rolloutMs: 10 * MIN, soakSeconds: 0 }, { rolloutMs: 2 * MIN, soakSeconds: 60 }, { rolloutMs: 4 * MIN, soakSeconds: 0 }], 2)).toEqual([
      { start: 0, end: 10 * MIN },
      { start: 0, end: 3 * MIN },
      { start: 3 * MIN, end: 7 * MIN },
    ]);
  });

  it('a releasing ring\'s remaining time schedules its waiting groups on the slots its rolling and soaking ones free', () => {
    const now = 100 * MIN;
    const rolling = { rolloutMs: 5 * MIN, soakSeconds: 0, standing: { kind: 'rolling' as const, startedAt: now - 2 * MIN } };
    const soaking = { rolloutMs: 5 * MIN, soakSeconds: 60, standing: { kind: 'soaking' as const, until: now + MIN } };
    const waiting = { rolloutMs: 5 * MIN, soakSeconds: 0, standing: { kind: 'waiting' as const } };
    const ring = { soakSeconds: 0, soakUntil: null };
    // One group rolling (3 min left), two waiting: with 3 slots all end together; with 1 they queue.
    expect(ringRemainingMs([rolling, waiting, waiting], ring, now, 3)).toBe(5 * MIN);
    expect(ringRemainingMs([rolling, waiting, waiting], ring, now, 1)).toBe(13 * MIN);
    // Two slots, both busy: the waiting group takes the first to free (the soaking one's, in 1 min).
    expect(ringRemainingMs([rolling, soaking, waiting], ring, now, 2)).toBe(6 * MIN);
    // The ring's own soak comes after its groups; a ring already soaking needs only the rest of it.
    expect(ringRemainingMs([waiting, waiting], { soakSeconds: 60, soakUntil: null }, now, 2)).toBe(6 * MIN);
    expect(ringRemainingMs([waiting], { soakSeconds: 600, soakUntil: now + 2 * MIN }, now, 1)).toBe(2 * MIN);
  });

  it('more groups active than slots (the setting was lowered): a waiting group starts when enough of them end', () => {
    expect(groupSchedule([{ rolloutMs: MIN, soakSeconds: 0 }], 1, [2 * MIN, 4 * MIN])).toEqual([{ start: 4 * MIN, end: 5 * MIN }]);
  });

  it('rings go one after another, a forced release starts them all now, a hold moves a ring\'s start', () => {
    const rings = [
      { id: 'a', groups: groups(3), soakSeconds: 0 },
      { id: 'b', groups: groups(2), soakSeconds: 60 },
    ];
    expect(planRollout(rings, { now: 0, maxParallelGroups: 3, force: false })).toEqual([
      { id: 'a', ready: 0, start: 0, end: 5 * MIN },
      { id: 'b', ready: 5 * MIN, start: 5 * MIN, end: 11 * MIN },
    ]);
    expect(planRollout(rings, { now: 0, maxParallelGroups: 1, force: true }).map((r) => r.start)).toEqual([0, 0]);
    const held = planRollout(rings, { now: 0, maxParallelGroups: 3, force: false, holdUntil: (id, from) => (id === 'b' ? from + 30 * MIN : from) });
    expect(held[1]).toEqual({ id: 'b', ready: 5 * MIN, start: 35 * MIN, end: 41 * MIN });
  });
});

for (const dialect of TEST_DIALECTS) {
  describe(`release plan ETAs (${dialect})`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('with --max-parallel-groups 3 a ring of 3 groups is planned at one group\'s time, as the engine runs it', async () => {
      h = await startHarness({ dialect, config: { maxParallelGroups: 3 } });
      const ring = await h.ring('wide', 1, { groups: 3, soak: 0 });
      const plan = await h.api('POST', `/ring/${ring.id}/release/plan`, { image: IMAGE, version: 'v2' });
      expect(plan.status).toBe(200);
      const [planned] = plan.body.rings;
      expect(planned.groups).toHaveLength(3);
      // No history yet: each group is estimated at the default 5 minutes, and all three roll at once.
      expect(planned.endEta - planned.startEta).toBe(plan.body.defaultRolloutEstimateMs);
    });
  });
}
