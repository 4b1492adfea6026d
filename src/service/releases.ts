import { z } from 'zod';
import type { Tx } from './deps.js';
import { HINTS, objectId, reason } from './inputs.js';
import { ReleaseRequest } from './release-request.js';
import { readOperation, writeOperation, type OperationTx } from './operation.js';
import type { Guard } from './access-policy.js';
import { assertMutable, assertTransition, moveRing } from './rings.js';
import type { Actor, Release, Ring } from '../model/ring.js';
import { compareRingOrder, SUPERVISOR_ACTOR } from '../model/ring.js';
import { RING_STATES_RELEASE_PENDING, ringStateIn } from '../model/ring-states.js';
import { validateEnvMap } from '../model/env-vars.js';
import { badRequest } from '../model/errors.js';
import { describeRelease, releaseDiffers, rollbackTargetId, type ReleaseSpec } from '../model/release-target.js';
import { getRing, liveRingsInOrder } from '../store/rings.js';
import { getOrCreateRelease, getRelease, releasesById } from '../store/releases.js';
import { findRollout, insertRollout, newestReleaseRolloutReleaseId, setFreezeOverride } from '../store/rollouts.js';
import { ringsWithGroups } from '../store/installation-groups.js';
import type { EventKind } from '../store/event-log.js';
import { selectRings } from './ring-selection.js';
import { RELEASE_PLAN_OPERATIONS } from './release-plan.js';


const ReleaseRing = ReleaseRequest.extend({ ringId: objectId });
const Rollback = z.object({ reason: reason.optional() });
const RollbackRing = Rollback.extend({ ringId: objectId });
const RollbackRollout = Rollback.extend({ rolloutId: objectId });
const Nothing = z.object({});

/** Releasing is for releasers; with force or through a freeze, for admins. */
function releaseGuard<I extends ReleaseRequest>(): Guard<I> {
  return {
    role: 'releaser',
    verb: 'release',
    elevate: {
      role: 'admin',
      when: 'with force or overrideFreeze',
      applies: (input) => input.force === true || input.overrideFreeze === true,
      verb: (input) => (input.force ? 'force' : 'override freeze'),
    },
  };
}

/**
 * Starting through a freeze takes an explicit overrideFreeze and a reason (and an admin: the guard); it is recorded
 * on the rollout (the engine then ignores freezes for its rings) and as an event.
 */
async function overrideFreeze(tx: Tx, rolloutId: string, input: ReleaseRequest, actor: Actor): Promise<void> {
  if (!input.overrideFreeze) return;
  if (!input.reason || input.reason.trim().length < 3) throw badRequest('overriding a freeze needs a reason (--reason "…", at least 3 characters)');
  await setFreezeOverride(tx.db, rolloutId, `${input.reason} (by ${actor.name})`);
  await tx.record({ kind: 'freeze.overridden', actor, rolloutId, message: `freeze overridden by ${actor.name}: ${input.reason}`, data: { reason: input.reason } });
}

/** Put `ring` on the path to `release` for `rolloutId`, replacing any release still pending on it. */
async function requestRelease(tx: Tx, ring: Ring, release: Release, rolloutId: string, actor: Actor): Promise<Ring> {
  const message = `release ${describeRelease(release)}${release.force ? ' (forced)' : ''} requested by ${actor.name}`;
  const changes = { desired_release_id: release.id, rollout_id: rolloutId, failure_reason: null, status_message: 'waiting to start', soak_until: null, rolling_back: 0 as const, approved_by: null, approved_at: null, force_requested_by: null };
  return moveRing(tx, ring, 'release-pending', actor, message, changes);
}

/**
 * The plan's estimate of when a release would be done, for the thread's first reply: computed in the request's
 * transaction before anything moves; undefined when the plan cannot say (the request then fails with the reason,
 * or has nothing to do).
 */
async function plannedEnd(tx: OperationTx, input: z.input<typeof RELEASE_PLAN_OPERATIONS.planRelease.input>): Promise<number | undefined> {
  try {
    const plan = await RELEASE_PLAN_OPERATIONS.planRelease.run({ db: tx.db, now: tx.now, facts: tx.facts }, RELEASE_PLAN_OPERATIONS.planRelease.input.parse(input), SUPERVISOR_ACTOR);
    return plan.rings.length > 0 ? plan.endEta : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One event for the whole rollout, after its rings moved (each ring's own event says only that it moved): what
 * was asked, by whom, for which rings in release order, which of them wait for an approver, and the plan's ETA.
 */
async function recordRolloutRequest(tx: Tx, kind: Extract<EventKind, 'release.requested' | 'release.rollback'>, rolloutId: string, rings: readonly Ring[], actor: Actor, extra: { release?: Release; reason?: string | undefined; etaAt?: number | undefined }): Promise<void> {
  const ordered = [...rings].sort(compareRingOrder);
  const names = ordered.map((r) => r.name).join(', ');
  const what = kind === 'release.rollback' ? 'rollback' : `release ${describeRelease(extra.release)}${extra.release?.force ? ' (forced)' : ''}`;
  await tx.record({
    kind,
    actor,
    rolloutId,
    message: `${what} of ${ordered.length} ring(s) (${names}) requested by ${actor.name}${extra.reason ? `: ${extra.reason}` : ''}`,
    data: {
      rings: ordered.map((r) => ({ id: r.id, name: r.name })),
      approvals: ordered.filter((r) => r.approvalRequired && !r.approvedBy).map((r) => ({ id: r.id, name: r.name })),
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.release ? { force: extra.release.force } : {}),
      ...(extra.etaAt !== undefined ? { etaAt: extra.etaAt } : {}),
    },
  });
}

/** Move every ring pending a release (and not being worked on) from one pending state to another. */
async function bulkPending(tx: Tx, actor: Actor, from: Ring['state'][], to: Ring['state'] | 'cancel', verb: string): Promise<Ring[]> {
  const rings = (await liveRingsInOrder(tx.db)).filter(
    (ring) => from.includes(ring.state) && !(ring.lockedBy && ring.lockedUntil > tx.now),
  );
  // All or nothing: an API-locked ring that this would change refuses the whole request (403).
  const locked = rings.find((ring) => ring.apiSecurityLock && ring.state !== to);
  if (locked) assertMutable(locked, tx.now, verb);
  const moved: Ring[] = [];
  const byRollout = new Map<string, Ring[]>();
  for (const ring of rings) {
    if (to === 'cancel') {
      moved.push(await moveRing(tx, ring, 'stable', actor, `pending release cancelled by ${actor.name}`, { desired_release_id: ring.activeReleaseId, rollout_id: null, status_message: '' }));
    } else if (ring.state !== to) {
      moved.push(await moveRing(tx, ring, to, actor, `release ${verb} by ${actor.name}`, { status_message: to === 'release-paused' ? `paused by ${actor.name}` : 'waiting to start' }));
    } else continue;
    if (ring.rolloutId) byRollout.set(ring.rolloutId, [...(byRollout.get(ring.rolloutId) ?? []), ring]);
  }
  // One event per rollout it touched, naming its rings: what its thread says, once.
  const kind = to === 'cancel' ? 'release.cancelled' : to === 'release-paused' ? 'release.paused' : 'release.resumed';
  for (const [rolloutId, touched] of byRollout) {
    await tx.record({ kind, actor, rolloutId, message: `release ${verb} by ${actor.name}: ${touched.map((r) => r.name).join(', ')}`, data: { rings: touched.map((r) => ({ id: r.id, name: r.name })) } });
  }
  return moved;
}

export const RELEASE_OPERATIONS = {
  /** POST /api/ring/{id}/release. Missing image/version keep the ring's current ones (an env-only release). */
  releaseRing: writeOperation({
    summary: 'release one ring to an image, version and env variables',
    input: ReleaseRing,
    hints: HINTS,
    guard: releaseGuard<z.infer<typeof ReleaseRing>>(),
    startsRollout: true,
    async run(tx, input, actor) {
      const env = validateEnvMap(input.envVariables);
      const etaAt = await plannedEnd(tx, input);
      const ring = await getRing(tx.db, input.ringId);
      assertMutable(ring, tx.now, 'released');
      assertTransition(ring, 'release-pending');
      const active = await getRelease(tx.db, ring.activeReleaseId);
      const spec: ReleaseSpec = { image: input.image || active.image, version: input.version || active.version, envVariables: env, force: input.force ?? false };
      if (!spec.image || !spec.version) {
        throw badRequest(`ring ${ring.name} has no release yet, so both image and version are needed (${HINTS.image}, ${HINTS.version})`);
      }
      const release = await getOrCreateRelease(tx.db, spec, tx.now);
      const rollout = await insertRollout(tx.db, { releaseId: release.id, kind: 'release', allRings: false, actor, reason: input.reason ?? null, now: tx.now });
      await overrideFreeze(tx, rollout.id, input, actor);
      const requested = await requestRelease(tx, ring, release, rollout.id, actor);
      await recordRolloutRequest(tx, 'release.requested', rollout.id, [requested], actor, { release, reason: input.reason, etaAt });
      return (await ringsWithGroups(tx.db, [requested]))[0]!;
    },
  }),

  /**
   * POST /api/rings/release: every ring whose active release differs (image, version or env) moves to
   * release-pending with one shared release; rings already pending get the new one. All-or-nothing.
   */
  releaseAllRings: writeOperation({
    summary: 'release every ring whose release differs, in priority order',
    input: ReleaseRequest,
    hints: HINTS,
    guard: releaseGuard(),
    startsRollout: true,
    async run(tx, input, actor) {
      const env = validateEnvMap(input.envVariables);
      if (!input.image || !input.version) {
        throw badRequest(`image and version are required to release all rings (${HINTS.image}, ${HINTS.version})`);
      }
      const spec: ReleaseSpec = { image: input.image, version: input.version, envVariables: env, force: input.force ?? false };
      const etaAt = await plannedEnd(tx, input);
      const rings = selectRings(await liveRingsInOrder(tx.db), input.rings);
      const locked = rings.find((ring) => ring.apiSecurityLock);
      if (locked) assertMutable(locked, tx.now, 'released');
      const actives = await releasesById(tx.db, rings.map((r) => r.activeReleaseId));
      const desired = await releasesById(tx.db, rings.map((r) => r.desiredReleaseId));
      const targets = rings.filter((ring) => {
        // A ring still waiting for an earlier release gets this one instead, unless it is the same release.
        if (ringStateIn(ring.state, RING_STATES_RELEASE_PENDING)) {
          const wanted = desired.get(ring.desiredReleaseId)!;
          return releaseDiffers(wanted, spec) || wanted.force !== spec.force;
        }
        return releaseDiffers(actives.get(ring.activeReleaseId)!, spec);
      });
      for (const ring of targets) {
        assertMutable(ring, tx.now, 'released');
        assertTransition(ring, 'release-pending');
      }
      if (targets.length === 0) return ringsWithGroups(tx.db, rings.sort(compareRingOrder));
      const release = await getOrCreateRelease(tx.db, spec, tx.now);
      const rollout = await insertRollout(tx.db, { releaseId: release.id, kind: 'release', allRings: true, actor, reason: input.reason ?? null, now: tx.now });
      await overrideFreeze(tx, rollout.id, input, actor);
      const moved = new Map<string, Ring>();
      for (const ring of targets) moved.set(ring.id, await requestRelease(tx, ring, release, rollout.id, actor));
      await recordRolloutRequest(tx, 'release.requested', rollout.id, [...moved.values()], actor, { release, reason: input.reason, etaAt });
      return ringsWithGroups(tx.db, rings.map((ring) => moved.get(ring.id) ?? ring).sort(compareRingOrder));
    },
  }),

  pauseReleases: writeOperation({
    summary: 'pause every pending release',
    input: Nothing,
    guard: { role: 'releaser', verb: 'pause' },
    run: (tx, _input, actor) => bulkPending(tx, actor, ['release-pending'], 'release-paused', 'paused'),
  }),

  resumeReleases: writeOperation({
    summary: 'resume paused releases',
    input: Nothing,
    guard: { role: 'releaser', verb: 'resume' },
    run: (tx, _input, actor) => bulkPending(tx, actor, ['release-paused'], 'release-pending', 'resumed'),
  }),

  cancelReleases: writeOperation({
    summary: 'cancel releases that have not started',
    input: Nothing,
    guard: { role: 'releaser', verb: 'cancel' },
    run: (tx, _input, actor) => bulkPending(tx, actor, ['release-pending', 'release-paused'], 'cancel', 'cancelled'),
  }),

  /** POST /api/ring/{id}/rollback: put the previous release back on the ring's groups, skipping soak. */
  rollbackRing: writeOperation({
    summary: 'roll one ring back to its previous release',
    input: RollbackRing,
    guard: { role: 'admin', verb: 'rollback' },
    startsRollout: true,
    async run(tx, input, actor) {
      const ring = await getRing(tx.db, input.ringId);
      assertMutable(ring, tx.now, 'rolled back');
      const moved = await requestRollback(tx, ring, actor, input.reason);
      if (moved.rolloutId) await recordRolloutRequest(tx, 'release.rollback', moved.rolloutId, [moved], actor, { reason: input.reason });
      return (await ringsWithGroups(tx.db, [moved]))[0]!;
    },
  }),

  /** POST /api/rings/rollback: undo the newest release everywhere it went, highest priority number first. */
  rollbackAllRings: writeOperation({
    summary: 'roll back the newest release on every ring it reached',
    input: Rollback,
    guard: { role: 'admin', verb: 'rollback' },
    startsRollout: true,
    async run(tx, input, actor) {
      const rings = await liveRingsInOrder(tx.db);
      const newest = await newestReleaseRolloutReleaseId(tx.db);
      const targets = rings.filter((ring) =>
        ['release-failed', 'soaking-failed'].includes(ring.state) || (ring.state === 'stable' && ring.previousReleaseId !== null && ring.activeReleaseId === newest),
      );
      return ringsWithGroups(tx.db, await rollbackRings(tx, rings, targets, actor, input.reason));
    },
  }),

  /** Roll back the rings a rollout moved (the card's Rollback button). */
  rollbackRollout: writeOperation({
    summary: 'roll back the rings one rollout moved',
    input: RollbackRollout,
    guard: { role: 'admin', verb: 'rollback' },
    async run(tx, input, actor) {
      const rings = await liveRingsInOrder(tx.db);
      const rollout = await findRollout(tx.db, input.rolloutId);
      const targets = rings.filter(
        (ring) => ring.rolloutId === input.rolloutId && (['release-failed', 'soaking-failed'].includes(ring.state) || (ring.state === 'stable' && ring.previousReleaseId !== null && ring.activeReleaseId === rollout?.releaseId)),
      );
      return ringsWithGroups(tx.db, await rollbackRings(tx, rings, targets, actor, input.reason));
    },
  }),

  getRelease: readOperation({
    summary: 'a release (image, version, env variables, force)',
    input: z.object({ releaseId: objectId }),
    guard: { role: 'viewer', verb: 'look at releases' },
    run: (ctx, input): Promise<Release> => getRelease(ctx.db, input.releaseId),
  }),

  /** The release last requested (what a new release most likely changes: the release form's defaults). */
  latestRelease: readOperation({
    summary: 'the release last requested (the newest rollout\'s, else a ring\'s)',
    input: z.object({}),
    guard: { role: 'viewer', verb: 'look at releases' },
    async run(ctx): Promise<Release | null> {
      const newest = await newestReleaseRolloutReleaseId(ctx.db);
      if (newest) return getRelease(ctx.db, newest);
      const rings = await liveRingsInOrder(ctx.db);
      const actives = await releasesById(ctx.db, rings.map((r) => r.activeReleaseId));
      return [...actives.values()].find((r) => r.image !== '' && r.version !== '') ?? null;
    },
  }),
};

/** One rollback rollout for all `targets`; the engine rolls them back highest priority number first. */
async function rollbackRings(tx: Tx, rings: Ring[], targets: Ring[], actor: Actor, why: string | undefined): Promise<Ring[]> {
  if (targets.length === 0) throw badRequest('no ring has a release to roll back: rollback applies to failed rings and to rings that completed the newest release');
  const moved = new Map<string, Ring>();
  let rolloutId: string | undefined;
  for (const ring of targets) {
    assertMutable(ring, tx.now, 'rolled back');
    const next = await requestRollback(tx, ring, actor, why, rolloutId);
    rolloutId = next.rolloutId ?? undefined;
    moved.set(ring.id, next);
  }
  if (rolloutId) await recordRolloutRequest(tx, 'release.rollback', rolloutId, [...moved.values()], actor, { reason: why });
  return rings.map((ring) => moved.get(ring.id) ?? ring);
}

async function requestRollback(tx: Tx, ring: Ring, actor: Actor, why: string | undefined, rolloutId?: string): Promise<Ring> {
  assertTransition(ring, 'release-rollback-requested');
  const targetId = rollbackTargetId(ring);
  if (!targetId) throw badRequest(`ring ${ring.name} has no previous release to roll back to`);
  const target = await getRelease(tx.db, targetId);
  const rollout = rolloutId ?? (await insertRollout(tx.db, { releaseId: target.id, kind: 'rollback', allRings: false, actor, reason: why ?? null, now: tx.now })).id;
  const message = `rollback to ${describeRelease(target)} requested by ${actor.name}${why ? `: ${why}` : ''}`;
  return moveRing(tx, ring, 'release-rollback-requested', actor, message, {
    desired_release_id: target.id,
    rollout_id: rollout,
    rolling_back: 0,
    failure_reason: null,
    soak_until: null,
    force_requested_by: null,
    status_message: 'rollback waiting to start',
  });
}
