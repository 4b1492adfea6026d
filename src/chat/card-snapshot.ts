import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { InstallationGroup, Release, Ring, Rollout } from '../model/ring.js';
import { compareRingOrder } from '../model/ring.js';
import { findRollout } from '../store/rollouts.js';
import { findRelease, releasesById } from '../store/releases.js';
import { groupsOfRings } from '../store/installation-groups.js';
import { ringRowToRing } from '../store/rows.js';
import { describeRelease } from '../model/release-target.js';

/** Everything a release card shows, read from the database (the card is always rebuilt from stored state). */
export interface CardSnapshot {
  rollout: Rollout;
  release: Release;
  /** Every ring the rollout touched, in release order; only `shown` ones have their groups read. */
  rings: CardRing[];
  now: number;
}

export interface CardRing {
  ring: Ring;
  groups: InstallationGroup[];
  active: Release | undefined;
  target: Release;
  onThisRollout: boolean;
  /** Drawn as a line of its own; the others are counted in one summary line. */
  shown: boolean;
}

/** Rings drawn line by line on a card; a bigger rollout shows the rings that matter now and counts the rest. */
export const MAX_CARD_RING_LINES = 20;

/** Done on this rollout: nothing left to show but a count. */
const isDone = (e: Omit<CardRing, 'shown' | 'groups'>) => e.onThisRollout && e.ring.state === 'stable' && e.ring.activeReleaseId === e.target.id;
/** Waiting its turn, with nothing asked of anyone. */
const isQueued = (e: Omit<CardRing, 'shown' | 'groups'>) => e.onThisRollout && e.ring.state === 'release-pending' && !(e.ring.approvalRequired && !e.ring.approvedBy) && !e.ring.forceRequestedBy;

/**
 * Which rings get a line when there are more than {@link MAX_CARD_RING_LINES}: every ring that is moving, failed,
 * paused, waiting for approval or has left the rollout, then the next rings in line, then the last ones done.
 */
function chooseShown(entries: ReadonlyArray<Omit<CardRing, 'shown' | 'groups'>>): Set<string> {
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
  const ringIds = (await db.selectFrom('events').select('ring_id').distinct().where('rollout_id', '=', rolloutId).where('ring_id', 'is not', null).execute()).map((r) => r.ring_id as string);
  if (ringIds.length === 0) return { rollout, release, rings: [], now };
  const rows = await db.selectFrom('rings').selectAll().where('id', 'in', ringIds).execute();
  const rings = rows.map(ringRowToRing).sort(compareRingOrder);
  const releases = await releasesById(db, rings.flatMap((r) => [r.activeReleaseId, r.desiredReleaseId]));
  const entries = rings.map((ring) => {
    const onThisRollout = ring.rolloutId === rolloutId;
    // A rollback's target differs per ring; a release's is the rollout's.
    const target = (onThisRollout ? releases.get(ring.desiredReleaseId) : undefined) ?? release;
    return { ring, active: releases.get(ring.activeReleaseId), target, onThisRollout };
  });
  const shown = chooseShown(entries);
  const groups = await groupsOfRings(db, [...shown]);
  return { rollout, release, rings: entries.map((e) => ({ ...e, groups: groups.get(e.ring.id) ?? [], shown: shown.has(e.ring.id) })), now };
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
