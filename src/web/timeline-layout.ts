import { BAR_LABELS, markerTitle, type MarkerKind } from './timeline-labels.js';
import { formatDuration } from '../model/durations.js';

/** One row of the events table, as the timeline needs it (oldest first or not: it is sorted by id). */
export interface TimelineEvent {
  id: number;
  at: number;
  kind: string;
  actor: string;
  ringId: string | null;
  groupId: string | null;
  oldState: string | null;
  newState: string | null;
  /** The group's name as the event recorded it: a group removed since still gets its row. */
  groupName?: string | undefined;
  /** A freeze's rings: [] or undefined means every ring. */
  freezeRingIds?: readonly string[] | undefined;
  reason?: string | undefined;
  message?: string | undefined;
}

export interface TimelineInput {
  /** Rings in release order, each with its groups. */
  rings: ReadonlyArray<{ id: string; name: string; groups: ReadonlyArray<{ id: string; name: string }> }>;
  events: readonly TimelineEvent[];
  /** When the rollout was asked for: the left edge. */
  start: number;
  /** When it ended, or null while it runs (then the right edge is `now`, and a "now" line is drawn). */
  end: number | null;
  now: number;
}

export interface TimelineRow {
  key: string;
  kind: 'ring' | 'group';
  label: string;
  y: number;
  height: number;
}

export interface TimelineBar {
  row: string;
  phase: keyof typeof BAR_LABELS;
  /** running: still under way (it reaches "now"); failed: ended in a failure. */
  status: 'done' | 'running' | 'failed';
  rollback: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
  title: string;
}

export interface TimelineMarker {
  row: string;
  kind: MarkerKind;
  x: number;
  y: number;
  title: string;
}

export interface TimelineLayout {
  width: number;
  height: number;
  rows: TimelineRow[];
  bars: TimelineBar[];
  markers: TimelineMarker[];
  /** The "now" line while the rollout runs. */
  now: { x: number; y1: number; y2: number } | null;
  ticks: Array<{ x: number; label: string }>;
  axisY: number;
}

/** Geometry, in SVG user units. */
export const TIMELINE_GEOMETRY = {
  labelWidth: 180,
  chartWidth: 760,
  rightPad: 24,
  axisHeight: 26,
  ringRow: 28,
  groupRow: 22,
  /** A bar is at least this wide, so a step that just started shows. */
  minBar: 3,
  /** The window spans at least this long, so a rollout of a few seconds is not one stretched blur. */
  minSpanMs: 60_000,
} as const;

const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400].map((s) => s * 1000);
const MAX_TICKS = 8;

const RING_FAILED = new Set(['creation-failed', 'release-failed', 'soaking-failed', 'release-rollback-failed', 'deletion-failed']);
const GROUP_FAILED = new Set(['release-failed', 'soaking-failed']);
const RING_DONE = new Set(['stable', 'release-rollback-complete']);
const RING_WAITING = new Set(['release-pending', 'release-paused']);

interface OpenPhase {
  phase: TimelineBar['phase'];
  from: number;
  rollback: boolean;
}

/**
 * Lay a rollout out as boxes: one row per ring and per group (release order), a bar per rollout and per soak,
 * a marker per approval, force, freeze, failure, retry and rollback request, and a "now" line while it runs.
 * Pure: the same events and `now` always give the same boxes, so the page, its tests and a later "replay" agree.
 *
 * @example layoutTimeline({ rings, events, start: rollout.createAt, end: rollout.endAt, now }).bars
 */
export function layoutTimeline(input: TimelineInput): TimelineLayout {
  const g = TIMELINE_GEOMETRY;
  const events = [...input.events].sort((a, b) => a.id - b.id);
  const lastAt = events.reduce((latest, e) => Math.max(latest, e.at), input.start);
  const right = Math.max(input.end ?? input.now, lastAt);
  const span = Math.max(right - input.start, g.minSpanMs);
  const x = (at: number) => g.labelWidth + (Math.min(Math.max(at, input.start), input.start + span) - input.start) / span * g.chartWidth;

  // Rows: each ring, then its groups (known ones first, then any only the events name).
  const rows: TimelineRow[] = [];
  const rowOf = new Map<string, TimelineRow>();
  const ringOfGroup = new Map<string, string>();
  let y = g.axisHeight;
  const addRow = (key: string, kind: TimelineRow['kind'], label: string) => {
    const height = kind === 'ring' ? g.ringRow : g.groupRow;
    const row = { key, kind, label, y, height };
    rows.push(row);
    rowOf.set(key, row);
    y += height;
  };
  for (const ring of input.rings) {
    addRow(ring.id, 'ring', ring.name);
    for (const group of ring.groups) {
      ringOfGroup.set(group.id, ring.id);
      addRow(group.id, 'group', group.name);
    }
    const seen = new Set(ring.groups.map((group) => group.id));
    for (const event of events) {
      if (event.ringId === ring.id && event.groupId && !seen.has(event.groupId) && event.kind.startsWith('group.')) {
        seen.add(event.groupId);
        ringOfGroup.set(event.groupId, ring.id);
        addRow(event.groupId, 'group', event.groupName ?? event.groupId);
      }
    }
  }

  const bars: TimelineBar[] = [];
  const markers: TimelineMarker[] = [];
  const open = new Map<string, OpenPhase>();
  const label = (key: string) => rowOf.get(key)?.label ?? key;

  const close = (key: string, at: number, status: TimelineBar['status']) => {
    const phase = open.get(key);
    const row = rowOf.get(key);
    open.delete(key);
    if (!phase || !row) return;
    const inset = row.kind === 'ring' ? 6 : 5;
    const x0 = x(phase.from);
    const width = Math.max(x(at) - x0, g.minBar);
    const took = formatDuration(at - phase.from);
    const title = `${row.label}: ${phase.rollback ? 'rollback' : BAR_LABELS[phase.phase]} ${status === 'running' ? `for ${took} so far` : status === 'failed' ? `failed after ${took}` : `took ${took}`}`;
    bars.push({ row: key, phase: phase.phase, status, rollback: phase.rollback, x: round(x0), y: row.y + inset, width: round(width), height: row.height - 2 * inset, title });
  };
  const begin = (key: string, phase: OpenPhase['phase'], at: number, rollback: boolean) => {
    const current = open.get(key);
    if (current && current.phase === phase) return;
    if (current) close(key, at, 'done');
    open.set(key, { phase, from: at, rollback });
  };
  const mark = (key: string, kind: MarkerKind, event: TimelineEvent) => {
    const row = rowOf.get(key);
    if (!row) return;
    markers.push({ row: key, kind, x: round(x(event.at)), y: row.y + row.height / 2, title: markerTitle(kind, { actor: event.actor, reason: event.reason, subject: label(key) }) });
  };

  for (const event of events) {
    const to = event.newState ?? '';
    if (event.kind === 'ring.state' && event.ringId && rowOf.has(event.ringId)) {
      const key = event.ringId;
      if (to === 'release-rollback-requested' && event.oldState !== to) mark(key, 'rollback', event);
      else if (to === 'release-requested' || to === 'release-in-progress') begin(key, 'rollout', event.at, false);
      else if (to === 'release-rollback-requested') begin(key, 'rollout', event.at, true);
      else if (to === 'soaking-requested') begin(key, 'soak', event.at, open.get(key)?.rollback ?? false);
      else if (RING_DONE.has(to)) close(key, event.at, 'done');
      else if (RING_FAILED.has(to)) {
        close(key, event.at, 'failed');
        mark(key, 'failure', event);
      } else if (RING_WAITING.has(to)) {
        close(key, event.at, 'done');
        if (RING_FAILED.has(event.oldState ?? '')) mark(key, 'retry', event);
      }
    } else if (event.kind === 'group.state' && event.groupId && rowOf.has(event.groupId)) {
      const key = event.groupId;
      if (to === 'release-requested') begin(key, 'rollout', event.at, open.get(event.ringId ?? '')?.rollback ?? false);
      else if (to === 'release-soaking-requested') begin(key, 'soak', event.at, open.get(key)?.rollback ?? false);
      else if (to === 'stable') close(key, event.at, 'done');
      else if (GROUP_FAILED.has(to)) {
        close(key, event.at, 'failed');
        mark(key, 'failure', event);
      }
    } else if (event.kind === 'group.retry' && event.groupId) {
      mark(event.groupId, 'retry', event);
    } else if (event.kind === 'ring.approved' && event.ringId) {
      mark(event.ringId, 'approval', event);
    } else if (event.kind === 'ring.forced' && event.ringId) {
      mark(event.ringId, 'force', event);
    } else if (event.kind === 'freeze.created' || event.kind === 'freeze.overridden') {
      const scope = event.freezeRingIds && event.freezeRingIds.length > 0 ? event.freezeRingIds : input.rings.map((r) => r.id);
      for (const ringId of scope) mark(ringId, 'freeze', event);
    }
  }
  // What is still under way reaches "now" (a rollout that ended closes at its end).
  for (const key of [...open.keys()]) close(key, input.end ?? input.now, input.end === null ? 'running' : 'done');
  // Ring rows first in the SVG so group bars draw over nothing of theirs; order is by row otherwise.
  const order = new Map(rows.map((row, index) => [row.key, index]));
  bars.sort((a, b) => order.get(a.row)! - order.get(b.row)! || a.x - b.x);

  const height = y + 8;
  const ticks = chooseTicks(span).map((offset) => ({ x: round(x(input.start + offset)), label: offset === 0 ? 'start' : `+${formatDuration(offset)}` }));
  const showNow = input.end === null;
  return {
    width: g.labelWidth + g.chartWidth + g.rightPad,
    height,
    rows,
    bars,
    markers,
    now: showNow ? { x: round(x(input.now)), y1: g.axisHeight - 6, y2: height - 4 } : null,
    ticks,
    axisY: g.axisHeight - 8,
  };
}

/** Offsets from the start at a round step, at most {@link MAX_TICKS} of them. */
export function chooseTicks(spanMs: number): number[] {
  const step = TICK_STEPS_MS.find((s) => spanMs / s <= MAX_TICKS) ?? Math.ceil(spanMs / MAX_TICKS / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let offset = 0; offset <= spanMs; offset += step) ticks.push(offset);
  return ticks;
}

const round = (value: number) => Math.round(value * 10) / 10;
