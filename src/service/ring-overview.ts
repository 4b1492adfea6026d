import { z } from 'zod';
import type { Kysely } from 'kysely';
import { readOperation } from './operation.js';
import type { Database } from '../store/schema.js';
import type { RingState } from '../model/ring-states.js';
import { releasesById } from '../store/releases.js';
import { ringOverviewRows } from '../store/rings.js';

/** One line of `elrond status`: a ring at a glance. Elrond's addition, so camelCase. */
export interface RingOverview {
  id: string;
  name: string;
  priority: number;
  state: RingState;
  /** The version the ring runs, or "(none)". */
  activeVersion: string;
  /** The version it is being moved to; equal to activeVersion when it is not releasing. */
  desiredVersion: string;
  /** Groups already on the desired release. */
  groupsDone: number;
  groupsTotal: number;
  /** Seconds of ring soak left while soaking, else 0. */
  soakRemainingSeconds: number;
  /** Why it stopped (failure reason), else what it is doing or waiting for. */
  doing: string;
}

const versionOf = (release: { image: string; version: string } | undefined) => (release && (release.image || release.version) ? release.version : '(none)');

/** Every live ring at a glance, in release order. */
export async function ringOverview(db: Kysely<Database>, now: number): Promise<RingOverview[]> {
  const { rings, groupsByRing } = await ringOverviewRows(db);
  const releases = await releasesById(db, rings.flatMap((r) => [r.active_release_id, r.desired_release_id]));
  return rings.map((ring) => {
    const own = groupsByRing.get(ring.id) ?? [];
    const releasing = ring.active_release_id !== ring.desired_release_id;
    // Groups done on the desired release (a ring that failed before starting has none done).
    const groupsDone = own.filter((g) => g.state === 'stable' && (!releasing || g.releaseId === ring.desired_release_id)).length;
    return {
      id: ring.id,
      name: ring.name,
      priority: ring.priority,
      state: ring.state,
      activeVersion: versionOf(releases.get(ring.active_release_id)),
      desiredVersion: versionOf(releases.get(ring.desired_release_id)),
      groupsDone,
      groupsTotal: own.length,
      soakRemainingSeconds: ring.state === 'soaking-requested' && ring.soak_until ? Math.max(0, Math.ceil((ring.soak_until - now) / 1000)) : 0,
      doing: ring.failure_reason ?? ring.status_message ?? '',
    };
  });
}

export const RING_OVERVIEW_OPERATIONS = {
  status: readOperation({
    summary: 'every live ring at a glance, in release order',
    input: z.object({}),
    guard: { role: 'viewer', verb: 'look at rings' },
    run: (ctx) => ringOverview(ctx.db, ctx.now),
  }),
};
