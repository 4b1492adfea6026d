import { z } from 'zod';
import type { Tx } from './deps.js';
import { HINTS, image, name, objectId, Paging, priority, provisionerGroupId, ringName, soakSeconds, version } from './inputs.js';
import { readOperation, writeOperation } from './operation.js';
import { DEFAULT_RING_SOAK_SECONDS, PROVISIONER_NAME, type Actor, type Ring, type RingWithGroups } from '../model/ring.js';
import { canRequestRingState, describeRingRequest, type RequestableRingState } from '../model/ring-states.js';
import { badRequest, conflict, forbidden } from '../model/errors.js';
import { newId } from '../model/ids.js';
import { RingLeaseHeld } from './lease-wait.js';
import { getRing, insertRing, listRings, transitionRing, updateRing } from '../store/rings.js';
import { findGroupOwner, groupsOfRing, insertInstallationGroup, ringsWithGroups } from '../store/installation-groups.js';
import { getOrCreateRelease } from '../store/releases.js';
import type { Kysely } from 'kysely';
import type { Database, RingRowUpdate } from '../store/schema.js';

const CreateRing = z.object({
  name: ringName,
  priority,
  soakTime: soakSeconds.optional(),
  image: image.optional().or(z.literal('')),
  version: version.optional().or(z.literal('')),
  apiSecurityLock: z.boolean().optional(),
  approvalRequired: z.boolean().optional(),
  installationGroup: z
    .object({
      name: name.optional(),
      soakTime: soakSeconds.optional(),
      provisionerGroupId: provisionerGroupId.optional(),
    })
    .optional(),
});

const UpdateRing = z.object({
  ringId: objectId,
  name: name.optional().or(z.literal('')),
  priority: z.union([z.literal(0), priority]).optional(),
  soakTime: soakSeconds.optional(),
  image: z.string().optional(),
  version: z.string().optional(),
  apiSecurityLock: z.boolean().optional(),
  approvalRequired: z.boolean().optional(),
});

const OneRing = z.object({ ringId: objectId });

/**
 * A ring the request may change: it exists, is not API-locked, and no process is mid-step on it (the request
 * then waits for the step: service/lease-wait.ts).
 */
export function assertMutable(ring: Ring, now: number, what: string): void {
  if (ring.apiSecurityLock) {
    throw forbidden(`ring ${ring.name} (${ring.id}) is API-locked, so it cannot be ${what}: unlock it with "elrond security ring api-unlock --ring ${ring.id}"`);
  }
  if (ring.lockedBy && ring.lockedUntil > now) throw new RingLeaseHeld(ring, ring.lockedBy, ring.lockedUntil, what);
}

export function assertTransition(ring: Ring, to: RequestableRingState): void {
  if (!canRequestRingState(ring.state, to)) {
    throw badRequest(`ring ${ring.name} (${ring.id}) is ${ring.state}, so it cannot move to ${to}: ${describeRingRequest(to)}`);
  }
}

/** Fail with a 409 naming the ring that already owns this group name or provisioner group id. */
export async function assertGroupIsNew(tx: Tx, group: { name: string; provisionerGroupId: string }): Promise<void> {
  const owner = await findGroupOwner(tx.db, group);
  if (!owner) return;
  const value = owner.matched === 'name' ? `name "${group.name}"` : `provisioner group ${group.provisionerGroupId}`;
  throw conflict(
    `installation group ${value} already belongs to ring ${owner.ringName} (${owner.ringId}): a group belongs to one ring; remove it there first or use another name`,
  );
}

export async function moveRing(
  tx: Tx,
  ring: Ring,
  to: Ring['state'],
  actor: Actor,
  message: string,
  changes: RingRowUpdate = {},
): Promise<Ring> {
  const moved = await transitionRing(tx.db, { id: ring.id, from: ring.state, to, changes: { ...changes, next_check_at: tx.now } });
  if (!moved) throw conflict(`ring ${ring.name} (${ring.id}) changed while this request ran; look at it again and retry`);
  await tx.record({
    kind: 'ring.state',
    actor,
    ringId: ring.id,
    // A cancel clears the ring's rollout; the event still belongs to the rollout it ended (its card narrates it).
    rolloutId: moved.rolloutId ?? ring.rolloutId,
    oldState: ring.state,
    newState: to,
    message,
    data: { ringName: ring.name },
  });
  return moved;
}

/** The ring with its groups, as every ring operation answers. */
export async function withGroups(db: Kysely<Database>, ring: Ring): Promise<RingWithGroups> {
  return { ...ring, installationGroups: await groupsOfRing(db, ring.id) };
}

/** Changing rings and their groups is for admins. */
export const CHANGE_RINGS = { role: 'admin', verb: 'change rings' } as const;

export const RING_OPERATIONS = {
  /** POST /api/rings: a new ring (and optionally its first group), state creation-requested. */
  createRing: writeOperation({
    summary: 'create a ring (and its first installation group)',
    input: CreateRing,
    hints: HINTS,
    guard: CHANGE_RINGS,
    async run(tx, input, actor) {
      const group = input.installationGroup;
      if (group?.name && !group.provisionerGroupId) {
        throw badRequest('installationGroup.provisionerGroupID: is required when installationGroup.name is given (the provisioner group to update)');
      }
      const release = await getOrCreateRelease(tx.db, { image: input.image ?? '', version: input.version ?? '', envVariables: null, force: false }, tx.now);
      const created = await insertRing(tx.db, {
        id: newId(),
        name: input.name,
        state: 'creation-requested',
        priority: input.priority,
        // An explicit 0 is zero (the original turned it into 7200); only an absent soakTime takes the default.
        soak_time: input.soakTime ?? DEFAULT_RING_SOAK_SECONDS,
        provisioner: PROVISIONER_NAME,
        active_release_id: release.id,
        desired_release_id: release.id,
        create_at: tx.now,
        api_security_lock: input.apiSecurityLock ? 1 : 0,
        approval_required: input.approvalRequired ? 1 : 0,
        status_message: 'creation requested',
      });
      await tx.record({ kind: 'ring.state', actor, ringId: created.id, oldState: 'n/a', newState: created.state, message: `ring ${created.name} created with priority ${created.priority}`, data: { ringName: created.name } });
      if (group?.name && group.provisionerGroupId) {
        const spec = { name: group.name, provisionerGroupId: group.provisionerGroupId, soakTime: group.soakTime ?? 0, createAt: tx.now };
        await assertGroupIsNew(tx, spec);
        const ig = await insertInstallationGroup(tx.db, created.id, spec);
        await tx.record({ kind: 'group.registered', actor, ringId: created.id, installationGroupId: ig.id, newState: 'stable', message: `group ${ig.name} (provisioner group ${ig.provisionerGroupId}) registered on ring ${created.name}` });
      }
      return withGroups(tx.db, created);
    },
  }),

  getRing: readOperation({
    summary: 'a ring with its installation groups',
    input: OneRing,
    guard: { role: 'viewer', verb: 'look at rings' },
    run: async (ctx, input) => withGroups(ctx.db, await getRing(ctx.db, input.ringId)),
  }),

  /** Rings with their groups; paging applies to rings. */
  listRings: readOperation({
    summary: 'list rings with their installation groups',
    input: Paging,
    guard: { role: 'viewer', verb: 'look at rings' },
    async run(ctx, paging) {
      return ringsWithGroups(ctx.db, await listRings(ctx.db, paging));
    },
  }),

  /** POST /api/ring/{id}/update: name, priority, soak time. Image/version changes go through a release. */
  updateRing: writeOperation({
    summary: 'change a ring\'s name, priority, soak time or approval',
    input: UpdateRing,
    hints: HINTS,
    guard: CHANGE_RINGS,
    async run(tx, input, actor) {
      const id = input.ringId;
      const ring = await getRing(tx.db, id);
      assertMutable(ring, tx.now, 'updated');
      const changes: Record<string, string | number> = {};
      const said: string[] = [];
      if (input.name && input.name !== ring.name) (changes.name = input.name), said.push(`name ${ring.name} → ${input.name}`);
      if (input.priority && input.priority !== ring.priority) (changes.priority = input.priority), said.push(`priority ${ring.priority} → ${input.priority}`);
      if (input.soakTime && input.soakTime !== ring.soakTime) (changes.soak_time = input.soakTime), said.push(`soak ${ring.soakTime}s → ${input.soakTime}s`);
      if (input.approvalRequired !== undefined && input.approvalRequired !== ring.approvalRequired) {
        changes.approval_required = input.approvalRequired ? 1 : 0;
        said.push(input.approvalRequired ? 'approval now required' : 'approval no longer required');
      }
      if (said.length === 0) return withGroups(tx.db, ring);
      const updated = await updateRing(tx.db, id, { ...changes, next_check_at: tx.now });
      await tx.record({ kind: 'ring.updated', actor, ringId: id, message: `ring ${updated.name} updated: ${said.join(', ')}` });
      return withGroups(tx.db, updated);
    },
  }),

  /** POST /api/ring/{id}: retry a ring creation. */
  retryRing: writeOperation({
    summary: 'retry a ring\'s failed creation',
    input: OneRing,
    guard: CHANGE_RINGS,
    async run(tx, input, actor) {
      const ring = await getRing(tx.db, input.ringId);
      assertMutable(ring, tx.now, 'retried');
      assertTransition(ring, 'creation-requested');
      if (ring.state === 'creation-requested') return withGroups(tx.db, ring);
      return withGroups(tx.db, await moveRing(tx, ring, 'creation-requested', actor, `creation of ring ${ring.name} retried`));
    },
  }),

  /** DELETE /api/ring/{id}: the supervisor then deletes the ring and its groups. */
  deleteRing: writeOperation({
    summary: 'delete a ring and its installation groups',
    input: OneRing,
    guard: CHANGE_RINGS,
    async run(tx, input, actor) {
      const ring = await getRing(tx.db, input.ringId);
      assertMutable(ring, tx.now, 'deleted');
      assertTransition(ring, 'deletion-requested');
      if (ring.state !== 'deletion-requested') await moveRing(tx, ring, 'deletion-requested', actor, `deletion of ring ${ring.name} requested`);
    },
  }),

  /** POST /api/security/ring/{id}/api/lock (idempotent). */
  lockRing: writeOperation({
    summary: 'lock a ring against API changes',
    input: OneRing,
    guard: CHANGE_RINGS,
    run: (tx, input, actor) => setApiLock(tx, input.ringId, true, actor),
  }),

  /** POST /api/security/ring/{id}/api/unlock (idempotent). */
  unlockRing: writeOperation({
    summary: 'unlock a ring for API changes',
    input: OneRing,
    guard: CHANGE_RINGS,
    run: (tx, input, actor) => setApiLock(tx, input.ringId, false, actor),
  }),
};

async function setApiLock(tx: Tx, id: string, locked: boolean, actor: Actor): Promise<void> {
  const ring = await getRing(tx.db, id);
  if (ring.apiSecurityLock === locked) return;
  await updateRing(tx.db, id, { api_security_lock: locked ? 1 : 0 });
  await tx.record({ kind: locked ? 'ring.locked' : 'ring.unlocked', actor, ringId: id, message: `ring ${ring.name} API ${locked ? 'locked' : 'unlocked'}` });
}
