import { describe, it, expect } from 'vitest';
import { chooseTicks, layoutTimeline, TIMELINE_GEOMETRY, type TimelineEvent, type TimelineInput } from '../src/web/timeline-layout.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const s = (seconds: number) => T0 + seconds * 1000;
const { labelWidth, chartWidth } = TIMELINE_GEOMETRY;

let nextId = 1;
function ev(at: number, kind: string, fields: Partial<TimelineEvent> = {}): TimelineEvent {
  return { id: nextId++, at, kind, actor: 'elrond', ringId: null, groupId: null, oldState: null, newState: null, ...fields };
}
const ringState = (at: number, ringId: string, oldState: string, newState: string, extra: Partial<TimelineEvent> = {}) => ev(at, 'ring.state', { ringId, oldState, newState, ...extra });
const groupState = (at: number, ringId: string, groupId: string, oldState: string, newState: string, extra: Partial<TimelineEvent> = {}) => ev(at, 'group.state', { ringId, groupId, oldState, newState, ...extra });

const RINGS: TimelineInput['rings'] = [
  { id: 'canary', name: 'canary', groups: [{ id: 'c1', name: 'canary-1' }] },
  { id: 'prod', name: 'production', groups: [{ id: 'p1', name: 'prod-1' }, { id: 'p2', name: 'prod-2' }] },
];

/** canary: rolls 0–30 s, soaks 30–90 s, done; production: approved at 100 s, rolls from 100 s. */
function release(): TimelineEvent[] {
  nextId = 1;
  return [
    ringState(s(0), 'canary', 'stable', 'release-pending'),
    ringState(s(0), 'prod', 'stable', 'release-pending'),
    ringState(s(0), 'canary', 'release-pending', 'release-requested'),
    ringState(s(0), 'canary', 'release-requested', 'release-in-progress'),
    groupState(s(0), 'canary', 'c1', 'release-pending', 'release-requested'),
    groupState(s(30), 'canary', 'c1', 'release-requested', 'stable'),
    ringState(s(30), 'canary', 'release-in-progress', 'soaking-requested'),
    ringState(s(90), 'canary', 'soaking-requested', 'stable'),
    ev(s(100), 'ring.approved', { ringId: 'prod', actor: 'bob' }),
    ringState(s(100), 'prod', 'release-pending', 'release-requested'),
    ringState(s(100), 'prod', 'release-requested', 'release-in-progress'),
    groupState(s(100), 'prod', 'p1', 'release-pending', 'release-requested'),
  ];
}

const xAt = (seconds: number, spanSeconds: number) => Math.round((labelWidth + (seconds / spanSeconds) * chartWidth) * 10) / 10;

describe('layoutTimeline', () => {
  it('has one row per ring and group in release order, and a rollout and a soak bar where they happened', () => {
    const layout = layoutTimeline({ rings: RINGS, events: release(), start: T0, end: null, now: s(120) });
    expect(layout.rows.map((r) => `${r.kind}:${r.label}`)).toEqual(['ring:canary', 'group:canary-1', 'ring:production', 'group:prod-1', 'group:prod-2']);
    // Rows stack downwards without overlapping.
    for (let i = 1; i < layout.rows.length; i++) expect(layout.rows[i]!.y).toBe(layout.rows[i - 1]!.y + layout.rows[i - 1]!.height);

    const bars = layout.bars.map((b) => ({ row: b.row, phase: b.phase, status: b.status, x: b.x, end: Math.round((b.x + b.width) * 10) / 10 }));
    expect(bars).toEqual([
      { row: 'canary', phase: 'rollout', status: 'done', x: xAt(0, 120), end: xAt(30, 120) },
      { row: 'canary', phase: 'soak', status: 'done', x: xAt(30, 120), end: xAt(90, 120) },
      { row: 'c1', phase: 'rollout', status: 'done', x: xAt(0, 120), end: xAt(30, 120) },
      { row: 'prod', phase: 'rollout', status: 'running', x: xAt(100, 120), end: xAt(120, 120) },
      { row: 'p1', phase: 'rollout', status: 'running', x: xAt(100, 120), end: xAt(120, 120) },
    ]);
    expect(layout.bars.find((b) => b.row === 'canary' && b.phase === 'soak')!.title).toBe('canary: soak took 1m');
    expect(layout.bars.find((b) => b.row === 'p1')!.title).toBe('prod-1: rollout for 20s so far');
    // Each bar sits inside its row.
    for (const bar of layout.bars) {
      const row = layout.rows.find((r) => r.key === bar.row)!;
      expect(bar.y).toBeGreaterThan(row.y);
      expect(bar.y + bar.height).toBeLessThan(row.y + row.height);
    }
  });

  it('draws a "now" line while the rollout runs, and a running bar grows as time passes', () => {
    const events = release();
    const early = layoutTimeline({ rings: RINGS, events, start: T0, end: null, now: s(120) });
    const later = layoutTimeline({ rings: RINGS, events, start: T0, end: null, now: s(240) });
    expect(early.now!.x).toBe(xAt(120, 120));
    expect(later.now!.x).toBe(xAt(240, 240));
    const width = (l: typeof early) => l.bars.find((b) => b.row === 'p1')!.width;
    // 20 s of a 120 s window, then 140 s of a 240 s one: 3.5 times as wide.
    expect(width(later) / width(early)).toBeCloseTo(3.5, 1);
    expect(early.now!.y1).toBeLessThan(early.rows[0]!.y);
    expect(early.now!.y2).toBeGreaterThan(early.rows.at(-1)!.y + early.rows.at(-1)!.height);
  });

  it('has no "now" line once the rollout ended, and closes what was open at its end', () => {
    const events = release();
    const layout = layoutTimeline({ rings: RINGS, events, start: T0, end: s(150), now: s(600) });
    expect(layout.now).toBeNull();
    const prod = layout.bars.find((b) => b.row === 'prod')!;
    expect(prod.status).toBe('done');
    expect(prod.x + prod.width).toBeCloseTo(xAt(150, 150), 0);
  });

  it('marks approval, force, freeze, failure, retry and rollback on the row they concern, with who and why', () => {
    const events = [
      ...release(),
      ev(s(105), 'ring.forced', { ringId: 'prod', actor: 'alice', reason: 'customers waiting' }),
      ev(s(106), 'freeze.created', { actor: 'carol', reason: 'incident 1234' }),
      ev(s(107), 'freeze.created', { actor: 'carol', reason: 'demo', freezeRingIds: ['prod'] }),
      ev(s(108), 'group.retry', { ringId: 'prod', groupId: 'p1', reason: 'cannot reach the provisioner (ECONNREFUSED); retry 1 of 8 in 1s' }),
      groupState(s(110), 'prod', 'p1', 'release-requested', 'release-failed', { reason: 'rollout timed out' }),
      ringState(s(110), 'prod', 'release-in-progress', 'release-failed', { reason: 'group prod-1 failed: rollout timed out' }),
      ringState(s(115), 'prod', 'release-failed', 'release-pending', { actor: 'alice' }),
      ringState(s(116), 'canary', 'stable', 'release-rollback-requested', { actor: 'alice', reason: 'error rate up' }),
      ringState(s(117), 'canary', 'release-rollback-requested', 'release-rollback-requested'),
    ];
    const layout = layoutTimeline({ rings: RINGS, events, start: T0, end: null, now: s(120) });
    expect(layout.markers.map((m) => [m.kind, m.row, m.title])).toEqual([
      ['approval', 'prod', 'production approved by bob'],
      ['force', 'prod', 'production forced by alice: customers waiting'],
      ['freeze', 'canary', 'freeze by carol: incident 1234'],
      ['freeze', 'prod', 'freeze by carol: incident 1234'],
      ['freeze', 'prod', 'freeze by carol: demo'],
      ['retry', 'p1', 'prod-1 retried: cannot reach the provisioner (ECONNREFUSED); retry 1 of 8 in 1s'],
      ['failure', 'p1', 'prod-1 failed: rollout timed out'],
      ['failure', 'prod', 'production failed: group prod-1 failed: rollout timed out'],
      ['retry', 'prod', 'production retried'],
      ['rollback', 'canary', 'rollback of canary asked by alice: error rate up'],
    ]);
    const approval = layout.markers[0]!;
    const prodRow = layout.rows.find((r) => r.key === 'prod')!;
    expect(approval.x).toBe(xAt(100, 120));
    expect(approval.y).toBe(prodRow.y + prodRow.height / 2);
    // The failure ends the bars it interrupts; the rollback starts a rollback bar on the ring.
    expect(layout.bars.find((b) => b.row === 'p1')).toMatchObject({ status: 'failed' });
    expect(layout.bars.find((b) => b.row === 'prod')).toMatchObject({ status: 'failed' });
    expect(layout.bars.find((b) => b.row === 'canary' && b.rollback)).toMatchObject({ phase: 'rollout', status: 'running', x: xAt(117, 120) });
  });

  it('gives a group that only the events know (removed since) its own row under its ring', () => {
    nextId = 1;
    const events = [groupState(s(0), 'canary', 'gone', 'release-pending', 'release-requested', { groupName: 'canary-old' })];
    const layout = layoutTimeline({ rings: RINGS, events, start: T0, end: null, now: s(10) });
    expect(layout.rows.map((r) => r.label)).toEqual(['canary', 'canary-1', 'canary-old', 'production', 'prod-1', 'prod-2']);
    expect(layout.bars).toHaveLength(1);
    expect(layout.bars[0]).toMatchObject({ row: 'gone', status: 'running' });
  });

  it('spans at least a minute, keeps a step that just started visible, and ignores events of rings it does not show', () => {
    nextId = 1;
    const events = [
      groupState(s(0), 'canary', 'c1', 'release-pending', 'release-requested'),
      ringState(s(1), 'elsewhere', 'stable', 'release-failed'),
    ];
    const layout = layoutTimeline({ rings: RINGS, events, start: T0, end: null, now: s(0) });
    expect(layout.bars).toEqual([expect.objectContaining({ row: 'c1', x: labelWidth, width: TIMELINE_GEOMETRY.minBar })]);
    expect(layout.markers).toEqual([]);
    expect(layout.ticks.at(-1)!.x).toBe(labelWidth + chartWidth);
  });

  it('is pure: the same input gives the same boxes', () => {
    const input: TimelineInput = { rings: RINGS, events: release(), start: T0, end: null, now: s(120) };
    expect(layoutTimeline(input)).toEqual(layoutTimeline({ ...input, events: [...input.events].reverse() }));
  });
});

describe('chooseTicks', () => {
  it('picks a round step giving at most 8 ticks, from the start', () => {
    expect(chooseTicks(60_000)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    expect(chooseTicks(150_000)).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000]);
    expect(chooseTicks(3 * 3600_000)).toHaveLength(7);
    expect(chooseTicks(40 * 86_400_000).length).toBeLessThanOrEqual(9);
  });
});
