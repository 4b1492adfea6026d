import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Ring } from '../model/ring.js';
import { gatedByOtherRings, type RingView } from '../model/ring-decision.js';
import { ringsGating } from './rings.js';
import { groupsOfRings } from './installation-groups.js';
import { releasesById } from './releases.js';
import { activeFreezeForRing, liveFreezes } from './freezes.js';
import { notFound } from '../model/errors.js';

/** The server settings a ring's decision reads. */
export interface RingViewSettings {
  now: number;
  maxParallelGroups: number;
  /** Who may approve, named in "waiting for approval". */
  approvers: readonly string[];
}

/**
 * Everything `decideRing` reads about each of `targets`, built one way for the engine and for `why`, so a ring's
 * stored status and the answer to "why" cannot disagree. `live`: every live ring, when the caller has read them
 * anyway (why over all rings); otherwise each ring reads only the rings its gates can name (store/rings.ts,
 * ringsGating), or none when no gate of its state names another ring (gatedByOtherRings): either decides the same.
 */
export async function loadRingViews(db: Kysely<Database>, targets: readonly Ring[], settings: RingViewSettings, live?: readonly Ring[]): Promise<RingView[]> {
  const [groups, releases, freezes] = await Promise.all([groupsOfRings(db, targets.map((r) => r.id)), releasesById(db, targets.map((r) => r.desiredReleaseId)), liveFreezes(db)]);
  return Promise.all(
    targets.map(async (ring): Promise<RingView> => {
      const release = releases.get(ring.desiredReleaseId);
      if (!release) throw notFound(`release ${ring.desiredReleaseId} of ring ${ring.name} (${ring.id}) not found`);
      const [rings, freeze] = await Promise.all([live ?? (gatedByOtherRings(ring) ? ringsGating(db, ring) : []), activeFreezeForRing(db, ring, settings.now, freezes)]);
      return { ring, groups: groups.get(ring.id) ?? [], release, rings, now: settings.now, maxParallelGroups: settings.maxParallelGroups, approvers: settings.approvers, freeze };
    }),
  );
}
