import { z } from 'zod';
import type { ServiceDeps, Tx } from './deps.js';
import { inTransaction } from './deps.js';
import { lowerKeys, parseInput, reason as reasonText } from './inputs.js';
import { authorize, OPEN_POLICY } from './access-policy.js';
import { moveRing } from './rings.js';
import type { Actor, Ring } from '../model/ring.js';
import { RING_STATES_RELEASE_PENDING, ringStateIn } from '../model/ring-states.js';
import { badRequest, conflict } from '../model/errors.js';
import { describeRelease } from '../model/release-target.js';
import { getRing, updateRing } from '../store/rings.js';
import { findRollout } from '../store/rollouts.js';
import { getRelease } from '../store/releases.js';

const reasonInput = z.object({ reason: reasonText.min(3, 'must say why (at least 3 characters)') });

/**
 * What people do to a ring mid-release from the release card: approve it, force it past its gating or
 * remaining soak, retry it after a failure. Each is authorized, idempotent (a double click applies once)
 * and recorded with who did it and why.
 */
export function ringInterventionService(deps: ServiceDeps) {
  const policy = () => deps.policy ?? OPEN_POLICY;

  async function requesterOf(db: Tx['db'], ring: Ring): Promise<string | undefined> {
    return ring.rolloutId ? (await findRollout(db, ring.rolloutId))?.requestedBy : undefined;
  }

  return {
    /** Approve a ring that waits for approval before its release starts. */
    async approve(ringId: string, actor: Actor): Promise<{ ring: Ring; already: boolean }> {
      const result = await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, ringId);
        authorize(policy(), actor, 'approve', { requestedBy: (await requesterOf(tx.db, ring)) ?? '' });
        if (!ringStateIn(ring.state, RING_STATES_RELEASE_PENDING)) throw conflict(`ring ${ring.name} is ${ring.state}: only a ring waiting to start can be approved`);
        if (ring.approvedBy) return { ring, already: true };
        const updated = await updateRing(tx.db, ring.id, { approved_by: actor.name, approved_at: tx.now, next_check_at: tx.now });
        await tx.record({ kind: 'ring.approved', actor, ringId: ring.id, rolloutId: ring.rolloutId, message: `ring ${ring.name} approved by ${actor.name}` });
        return { ring: updated, already: false };
      });
      deps.nudge();
      return result;
    },

    /** Skip the ring's remaining gating (pending) or soak (soaking). Admins only, with a reason. */
    async force(ringId: string, body: unknown, actor: Actor): Promise<{ ring: Ring; already: boolean }> {
      const { reason } = parseInput(reasonInput, lowerKeys(body));
      authorize(policy(), actor, 'force');
      const result = await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, ringId);
        const forcible = ringStateIn(ring.state, RING_STATES_RELEASE_PENDING) || ['soaking-requested', 'release-in-progress', 'release-requested'].includes(ring.state);
        if (!forcible) throw conflict(`ring ${ring.name} is ${ring.state}: Force applies to a ring waiting to start or soaking`);
        if (ring.forceRequestedBy) return { ring, already: true };
        const updated = await updateRing(tx.db, ring.id, { force_requested_by: actor.name, next_check_at: tx.now });
        // A group soaking right now ends its soak too: wake it.
        await tx.db
          .updateTable('installation_groups')
          .set({ next_check_at: tx.now })
          .where('state', '=', 'release-soaking-requested')
          .where('id', 'in', (eb) => eb.selectFrom('ring_installation_groups').select('installation_group_id').where('ring_id', '=', ring.id))
          .execute();
        await tx.record({ kind: 'ring.forced', actor, ringId: ring.id, rolloutId: ring.rolloutId, message: `ring ${ring.name} forced by ${actor.name}: ${reason}`, data: { reason, state: ring.state } });
        return { ring: updated, already: false };
      });
      deps.nudge();
      return result;
    },

    /** Re-issue a failed ring's release (groups already on the release are skipped without an update). */
    async retry(ringId: string, actor: Actor): Promise<Ring> {
      authorize(policy(), actor, 'retry');
      const ring = await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, ringId);
        if (!['release-failed', 'soaking-failed'].includes(ring.state)) throw badRequest(`ring ${ring.name} is ${ring.state}: only a failed ring can be retried`);
        const release = await getRelease(tx.db, ring.desiredReleaseId);
        // The retry continues the same rollout, so its release card picks up where it stopped.
        if (ring.rolloutId) await tx.db.updateTable('rollouts').set({ end_at: null }).where('id', '=', ring.rolloutId).execute();
        return moveRing(tx, ring, 'release-pending', actor, `release ${describeRelease(release)} retried by ${actor.name}`, {
          failure_reason: null,
          approved_by: null,
          force_requested_by: null,
          status_message: 'waiting to start',
        });
      });
      deps.nudge();
      return ring;
    },
  };
}

export type RingInterventionService = ReturnType<typeof ringInterventionService>;
