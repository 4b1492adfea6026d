import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { InstallationGroup, Release, Ring, Rollout } from '../model/ring.js';
import { compareRingOrder } from '../model/ring.js';
import { findRollout } from '../store/rollouts.js';
import { findRelease, releasesById } from '../store/releases.js';
import { groupsOfRings } from '../store/installation-groups.js';
import { ringRowToRing } from '../store/rows.js';

/** Everything a release card shows, read from the database (the card is always rebuilt from stored state). */
export interface CardSnapshot {
  rollout: Rollout;
  release: Release;
  rings: Array<{ ring: Ring; groups: InstallationGroup[]; active: Release | undefined; target: Release; onThisRollout: boolean }>;
  now: number;
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
  const groups = await groupsOfRings(db, rings.map((r) => r.id));
  const releases = await releasesById(db, rings.flatMap((r) => [r.activeReleaseId, r.desiredReleaseId]));
  return {
    rollout,
    release,
    rings: rings.map((ring) => {
      const onThisRollout = ring.rolloutId === rolloutId;
      // A rollback's target differs per ring; a release's is the rollout's.
      const target = (onThisRollout ? releases.get(ring.desiredReleaseId) : undefined) ?? release;
      return { ring, groups: groups.get(ring.id) ?? [], active: releases.get(ring.activeReleaseId), target, onThisRollout };
    }),
    now,
  };
}
