import { z } from 'zod';
import { objectId, reason as reasonText } from './inputs.js';
import { writeOperation } from './operation.js';
import { moveRing } from './rings.js';
import type { Ring } from '../model/ring.js';
import { RING_STATES_RELEASE_PENDING, ringStateIn } from '../model/ring-states.js';
import { badRequest, conflict } from '../model/errors.js';
import { describeRelease } from '../model/release-target.js';
import { findRing, getRing, updateRing } from '../store/rings.js';
import { findRollout, reopenRollout } from '../store/rollouts.js';
import { wakeGroupsOfRing } from '../store/installation-groups.js';
import { getRelease } from '../store/releases.js';

const OneRing = z.object({ ringId: objectId });
const ForceRing = OneRing.extend({ reason: reasonText.min(3, 'must say why (at least 3 characters)') });

/**
 * What people do to a ring mid-release from the release card: approve it, force it past its gating or
 * remaining soak, retry it after a failure. Each is idempotent (a double click applies once) and recorded with
 * who did it and why.
 */
export const RING_INTERVENTION_OPERATIONS = {
  /** Approve a ring that waits for approval before its release starts. */
  approveRing: writeOperation({
    summary: 'approve a ring waiting for approval',
    input: OneRing,
    guard: {
      role: 'approver',
      verb: 'approve',
      rule: {
        kind: 'not-the-starter',
        async startedBy(tx, input) {
          const ring = await findRing(tx.db, input.ringId);
          return ring?.rolloutId ? (await findRollout(tx.db, ring.rolloutId))?.requestedBy : undefined;
        },
      },
    },
    async run(tx, input, actor): Promise<{ ring: Ring; already: boolean }> {
      const ring = await getRing(tx.db, input.ringId);
      if (!ringStateIn(ring.state, RING_STATES_RELEASE_PENDING)) throw conflict(`ring ${ring.name} is ${ring.state}: only a ring waiting to start can be approved`);
      if (ring.approvedBy) return { ring, already: true };
      const updated = await updateRing(tx.db, ring.id, { approved_by: actor.name, approved_at: tx.now, next_check_at: tx.now });
      await tx.record({ kind: 'ring.approved', actor, ringId: ring.id, rolloutId: ring.rolloutId, message: `ring ${ring.name} approved by ${actor.name}` });
      return { ring: updated, already: false };
    },
  }),

  /** Skip the ring's remaining gating (pending) or soak (soaking), with a reason. */
  forceRing: writeOperation({
    summary: 'skip a ring\'s remaining gating or soak, with a reason',
    input: ForceRing,
    guard: { role: 'admin', verb: 'force' },
    async run(tx, { ringId, reason }, actor): Promise<{ ring: Ring; already: boolean }> {
      const ring = await getRing(tx.db, ringId);
      const forcible = ringStateIn(ring.state, RING_STATES_RELEASE_PENDING) || ['soaking-requested', 'release-in-progress', 'release-requested'].includes(ring.state);
      if (!forcible) throw conflict(`ring ${ring.name} is ${ring.state}: Force applies to a ring waiting to start or soaking`);
      if (ring.forceRequestedBy) return { ring, already: true };
      const updated = await updateRing(tx.db, ring.id, { force_requested_by: actor.name, next_check_at: tx.now });
      // A group soaking right now ends its soak too: wake it.
      await wakeGroupsOfRing(tx.db, ring.id, 'release-soaking-requested', tx.now);
      await tx.record({ kind: 'ring.forced', actor, ringId: ring.id, rolloutId: ring.rolloutId, message: `ring ${ring.name} forced by ${actor.name}: ${reason}`, data: { reason, state: ring.state } });
      return { ring: updated, already: false };
    },
  }),

  /** Re-issue a failed ring's release (groups already on the release are skipped without an update). */
  retryRingRelease: writeOperation({
    summary: 'retry a failed ring\'s release',
    input: OneRing,
    guard: { role: 'admin', verb: 'retry' },
    async run(tx, input, actor): Promise<Ring> {
      const ring = await getRing(tx.db, input.ringId);
      if (!['release-failed', 'soaking-failed'].includes(ring.state)) throw badRequest(`ring ${ring.name} is ${ring.state}: only a failed ring can be retried`);
      const release = await getRelease(tx.db, ring.desiredReleaseId);
      // The retry continues the same rollout, so its release card picks up where it stopped.
      if (ring.rolloutId) await reopenRollout(tx.db, ring.rolloutId);
      return moveRing(tx, ring, 'release-pending', actor, `release ${describeRelease(release)} retried by ${actor.name}`, {
        failure_reason: null,
        approved_by: null,
        force_requested_by: null,
        status_message: 'waiting to start',
      });
    },
  }),
};
