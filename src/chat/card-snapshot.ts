import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { InstallationGroup, Release, Ring, Rollout } from '../model/ring.js';
import { findRollout } from '../store/rollouts.js';
import { findRelease, releasesById } from '../store/releases.js';
import { groupsOfRings } from '../store/installation-groups.js';
import { ringsInOrderByIds } from '../store/rings.js';
import { ringHistoryOfRollout } from '../store/rollout-events.js';
import { describeRelease } from '../model/release-target.js';
import { RING_STATES_FAILED, RING_STATES_RELEASE_IN_PROGRESS, isRingState, ringStateIn } from '../model/ring-states.js';
import { activeFreezeFor } from '../model/freeze.js';
import { liveFreezes } from '../store/freezes.js';
import { rolloutHistory } from '../store/rollout-history.js';
import { latestGroupFacts, type GroupFacts } from '../store/group-facts.js';

/** Everything a release card shows, read from the database (the card is always rebuilt from stored state). */
export interface CardSnapshot {
  rollout: Rollout;
  release: Release;
  /** Every ring the rollout touched, in release order; only `shown` ones have their groups read. */
  rings: CardRing[];
  now: number;
  /** Estimated rollout time of each shown group that has rolled before (its last rollouts), by group id. */
  estimates: Map<string, number>;
  /** What each rolling group of a shown ring last said about itself (stuck installations, MaxRolling 0), by id. */
  groupFacts: Map<string, GroupFacts>;
  /** Forces and approvals during this rollout, in order: the card's summary names them with who. */
  forced: Array<{ ring: string; by: string }>;
  approved: Array<{ ring: string; by: string }>;
}

export interface CardRing {
  ring: Ring;
  groups: InstallationGroup[];
  active: Release | undefined;
  target: Release;
  onThisRollout: boolean;
  /** Drawn as a line of its own; the others are counted in one summary line. */
  shown: boolean;
  /** When its release on this rollout last started and, after that, ended (from the rollout's events). */
  startedAt: number | null;
  endedAt: number | null;
  /** A freeze holding it now (unless the rollout overrode freezes). */
  freeze: { until: number; reason: string; by: string } | null;
}

/** The parts of a ring's timeline on a rollout the card shows, from its events. */
function timelines(rows: ReadonlyArray<{ ring_id: string | null; kind: string; at: number; actor: string; source: string; old_state: string | null; new_state: string | null }>) {
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  const forced: Array<{ ringId: string; by: string }> = [];
  const approved: Array<{ ringId: string; by: string }> = [];
  for (const row of rows) {
    const ringId = row.ring_id!;
    if (row.kind === 'ring.forced') forced.push({ ringId, by: row.actor });
    else if (row.kind === 'ring.approved') approved.push({ ringId, by: row.actor });
    if (row.kind !== 'ring.state' || row.source !== 'supervisor' || !row.new_state || !isRingState(row.new_state)) continue;
    const from = row.old_state && isRingState(row.old_state) ? row.old_state : undefined;
    if (row.new_state === 'release-requested' || (row.new_state === 'release-rollback-requested' && from === row.new_state)) {
      started.set(ringId, row.at);
      ended.delete(ringId);
    } else if (from && ringStateIn(from, RING_STATES_RELEASE_IN_PROGRESS) && (row.new_state === 'stable' || row.new_state === 'release-rollback-complete' || ringStateIn(row.new_state, RING_STATES_FAILED))) {
      ended.set(ringId, row.at);
    }
  }
  return { started, ended, forced, approved };
}

/** Rings drawn line by line on a card; a bigger rollout shows the rings that matter now and counts the rest. */
export const MAX_CARD_RING_LINES = 20;

type RingEntry = Pick<CardRing, 'ring' | 'active' | 'target' | 'onThisRollout'>;

/** Done on this rollout: nothing left to show but a count. */
const isDone = (e: RingEntry) => e.onThisRollout && e.ring.state === 'stable' && e.ring.activeReleaseId === e.target.id;
/** Waiting its turn, with nothing asked of anyone. */
const isQueued = (e: RingEntry) => e.onThisRollout && e.ring.state === 'release-pending' && !(e.ring.approvalRequired && !e.ring.approvedBy) && !e.ring.forceRequestedBy;

/**
 * Which rings get a line when there are more than {@link MAX_CARD_RING_LINES}: every ring that is moving, failed,
 * paused, waiting for approval or has left the rollout, then the next rings in line, then the last ones done.
 */
function chooseShown(entries: readonly RingEntry[]): Set<string> {
  if (entries.length <= MAX_CARD_RING_LINES) return new Set(entries.map((e) => e.ring.id));
  const active = entries.filter((e) => !isDone(e) && !isQueued(e));
  const next = entries.filter(isQueued);
  const done = entries.filter(isDone).reverse();
  return new Set([...active, ...next, ...done].slice(0, MAX_CARD_RING_LINES).map((e) => e.ring.id));
}

export async function loadCardSnapshot(db: Kysely<Database>, rolloutId: string, now: number): Promise<CardSnapshot | undefined> {
  const rollout = await findRollout(db, rolloutId);
  if (!rollout) return undefined;
  const release = await findRelease(db, rollout.releaseId);
  if (!release) return undefined;
  const history = await ringHistoryOfRollout(db, rolloutId);
  const ringIds = [...new Set(history.map((r) => r.ring_id as string))];
  if (ringIds.length === 0) return { rollout, release, rings: [], now, estimates: new Map(), groupFacts: new Map(), forced: [], approved: [] };
  const timeline = timelines(history);
  const rings = await ringsInOrderByIds(db, ringIds);
  const releases = await releasesById(db, rings.flatMap((r) => [r.activeReleaseId, r.desiredReleaseId]));
  const entries = rings.map((ring) => {
    const onThisRollout = ring.rolloutId === rolloutId;
    // A rollback's target differs per ring; a release's is the rollout's.
    const target = (onThisRollout ? releases.get(ring.desiredReleaseId) : undefined) ?? release;
    return { ring, active: releases.get(ring.activeReleaseId), target, onThisRollout };
  });
  const shown = chooseShown(entries);
  const groups = await groupsOfRings(db, [...shown]);
  const estimates = await rolloutHistory(db, [...groups.values()].flat().map((g) => g.id));
  const rolling = [...groups.values()].flat().filter((g) => g.state === 'release-requested' && g.phase === 'rolling');
  const groupFacts = await latestGroupFacts(db, new Map(rolling.map((g) => [g.id, g.rolloutStartedAt ?? 0])));
  const freezes = rollout.freezeOverride ? [] : await liveFreezes(db);
  const name = new Map(rings.map((r) => [r.id, r.name]));
  return {
    rollout,
    release,
    rings: entries.map((e) => {
      const frozen = e.onThisRollout ? activeFreezeFor(freezes, e.ring.id, now) : null;
      return {
        ...e,
        groups: groups.get(e.ring.id) ?? [],
        shown: shown.has(e.ring.id),
        startedAt: timeline.started.get(e.ring.id) ?? null,
        endedAt: timeline.ended.get(e.ring.id) ?? null,
        freeze: frozen ? { until: frozen.until, reason: frozen.freeze.reason, by: frozen.freeze.author } : null,
      };
    }),
    now,
    estimates,
    groupFacts,
    forced: timeline.forced.map((f) => ({ ring: name.get(f.ringId) ?? f.ringId, by: f.by })),
    approved: timeline.approved.map((a) => ({ ring: name.get(a.ringId) ?? a.ringId, by: a.by })),
  };
}

/** What a dialog about a rollout names: its release and the rings still on it. */
export interface RolloutSummary {
  release: string;
  rings: string[];
}

export async function summarizeRollout(db: Kysely<Database>, rolloutId: string, now: number): Promise<RolloutSummary | undefined> {
  const snapshot = await loadCardSnapshot(db, rolloutId, now);
  if (!snapshot) return undefined;
  return { release: describeRelease(snapshot.release), rings: snapshot.rings.filter((e) => e.onThisRollout).map((e) => e.ring.name) };
}
