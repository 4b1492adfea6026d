import { z } from 'zod';
import type { ServiceDeps, Tx } from './deps.js';
import { inTransaction } from './deps.js';
import { HINTS, image, lowerKeys, name, parseInput, priority, provisionerGroupId, ringName, soakSeconds, version } from './inputs.js';
import { DEFAULT_RING_SOAK_SECONDS, PROVISIONER_NAME, type Actor, type Ring, type RingWithGroups } from '../model/ring.js';
import { canRequestRingState, describeRingRequest, type RequestableRingState } from '../model/ring-states.js';
import { badRequest, conflict, forbidden } from '../model/errors.js';
import { newId } from '../model/ids.js';
import { getRing, insertRing, listRings, updateRing, updateRingIf, type RingPage } from '../store/rings.js';
import { findGroupOwner, groupsOfRing, groupsOfRings, insertInstallationGroup } from '../store/installation-groups.js';
import { getOrCreateRelease } from '../store/releases.js';

const groupInput = z
  .object({
    name: name.optional(),
    soaktime: soakSeconds.optional(),
    provisionergroupid: provisionerGroupId.optional(),
  })
  .optional();

const createRingInput = z.object({
  name: ringName,
  priority,
  soaktime: soakSeconds.optional(),
  image: image.optional().or(z.literal('')),
  version: version.optional().or(z.literal('')),
  apisecuritylock: z.boolean().optional(),
  approvalrequired: z.boolean().optional(),
  installationgroup: groupInput,
});

const updateRingInput = z.object({
  name: name.optional().or(z.literal('')),
  priority: z.union([z.literal(0), priority]).optional(),
  soaktime: soakSeconds.optional(),
  image: z.string().optional(),
  version: z.string().optional(),
  apisecuritylock: z.boolean().optional(),
  approvalrequired: z.boolean().optional(),
});

/** A ring the request may change: it exists, is not API-locked, and no process is mid-step on it. */
export function assertMutable(ring: Ring, now: number, what: string): void {
  if (ring.apiSecurityLock) {
    throw forbidden(`ring ${ring.name} (${ring.id}) is API-locked, so it cannot be ${what}: unlock it with "elrond security ring api-unlock --ring ${ring.id}"`);
  }
  if (ring.lockedBy && ring.lockedUntil > now) {
    throw conflict(`ring ${ring.name} (${ring.id}) is being worked on by ${ring.lockedBy} right now; try again in a few seconds`);
  }
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
  changes: Parameters<typeof updateRingIf>[3] = {},
): Promise<Ring> {
  const moved = await updateRingIf(tx.db, ring.id, ring.state, { ...changes, state: to, next_check_at: tx.now });
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

export function ringService(deps: ServiceDeps) {
  const withGroups = async (ring: Ring): Promise<RingWithGroups> => ({
    ...ring,
    installationGroups: await groupsOfRing(deps.store.db, ring.id),
  });

  return {
    /** POST /api/rings: a new ring (and optionally its first group), state creation-requested. */
    async create(body: unknown, actor: Actor): Promise<RingWithGroups> {
      const input = parseInput(createRingInput, lowerKeys(body), HINTS);
      const group = input.installationgroup;
      if (group?.name && !group.provisionergroupid) {
        throw badRequest('installationGroup.provisionerGroupID: is required when installationGroup.name is given (the provisioner group to update)');
      }
      const ring = await inTransaction(deps, async (tx) => {
        const release = await getOrCreateRelease(tx.db, { image: input.image ?? '', version: input.version ?? '', envVariables: null, force: false }, tx.now);
        const created = await insertRing(tx.db, {
          id: newId(),
          name: input.name,
          state: 'creation-requested',
          priority: input.priority,
          // An explicit 0 is zero (the original turned it into 7200); only an absent soakTime takes the default.
          soak_time: input.soaktime ?? DEFAULT_RING_SOAK_SECONDS,
          provisioner: PROVISIONER_NAME,
          active_release_id: release.id,
          desired_release_id: release.id,
          create_at: tx.now,
          api_security_lock: input.apisecuritylock ? 1 : 0,
          approval_required: input.approvalrequired ? 1 : 0,
          status_message: 'creation requested',
        });
        await tx.record({ kind: 'ring.state', actor, ringId: created.id, oldState: 'n/a', newState: created.state, message: `ring ${created.name} created with priority ${created.priority}`, data: { ringName: created.name } });
        if (group?.name && group.provisionergroupid) {
          const spec = { name: group.name, provisionerGroupId: group.provisionergroupid, soakTime: group.soaktime ?? 0, createAt: tx.now };
          await assertGroupIsNew(tx, spec);
          const ig = await insertInstallationGroup(tx.db, created.id, spec);
          await tx.record({ kind: 'group.registered', actor, ringId: created.id, installationGroupId: ig.id, newState: 'stable', message: `group ${ig.name} (provisioner group ${ig.provisionerGroupId}) registered on ring ${created.name}` });
        }
        return created;
      });
      deps.nudge();
      return withGroups(ring);
    },

    async get(id: string): Promise<RingWithGroups> {
      return withGroups(await getRing(deps.store.db, id));
    },

    /** Rings with their groups; paging applies to rings. */
    async list(paging: RingPage): Promise<RingWithGroups[]> {
      const rings = await listRings(deps.store.db, paging);
      const groups = await groupsOfRings(deps.store.db, rings.map((r) => r.id));
      return rings.map((ring) => ({ ...ring, installationGroups: groups.get(ring.id) ?? [] }));
    },

    /** POST /api/ring/{id}/update: name, priority, soak time. Image/version changes go through a release. */
    async update(id: string, body: unknown, actor: Actor): Promise<RingWithGroups> {
      const input = parseInput(updateRingInput, lowerKeys(body), HINTS);
      const ring = await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, id);
        assertMutable(ring, tx.now, 'updated');
        const changes: Record<string, string | number> = {};
        const said: string[] = [];
        if (input.name && input.name !== ring.name) (changes.name = input.name), said.push(`name ${ring.name} → ${input.name}`);
        if (input.priority && input.priority !== ring.priority) (changes.priority = input.priority), said.push(`priority ${ring.priority} → ${input.priority}`);
        if (input.soaktime && input.soaktime !== ring.soakTime) (changes.soak_time = input.soaktime), said.push(`soak ${ring.soakTime}s → ${input.soaktime}s`);
        if (input.approvalrequired !== undefined && input.approvalrequired !== ring.approvalRequired) {
          changes.approval_required = input.approvalrequired ? 1 : 0;
          said.push(input.approvalrequired ? 'approval now required' : 'approval no longer required');
        }
        if (said.length === 0) return ring;
        const updated = await updateRing(tx.db, id, { ...changes, next_check_at: tx.now });
        await tx.record({ kind: 'ring.updated', actor, ringId: id, message: `ring ${updated.name} updated: ${said.join(', ')}` });
        return updated;
      });
      deps.nudge();
      return withGroups(ring);
    },

    /** POST /api/ring/{id}: retry a ring creation. */
    async retryCreate(id: string, actor: Actor): Promise<RingWithGroups> {
      const ring = await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, id);
        assertMutable(ring, tx.now, 'retried');
        assertTransition(ring, 'creation-requested');
        if (ring.state === 'creation-requested') return ring;
        return moveRing(tx, ring, 'creation-requested', actor, `creation of ring ${ring.name} retried`);
      });
      deps.nudge();
      return withGroups(ring);
    },

    /** DELETE /api/ring/{id}: the supervisor then deletes the ring and its groups. */
    async delete(id: string, actor: Actor): Promise<void> {
      await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, id);
        assertMutable(ring, tx.now, 'deleted');
        assertTransition(ring, 'deletion-requested');
        if (ring.state !== 'deletion-requested') await moveRing(tx, ring, 'deletion-requested', actor, `deletion of ring ${ring.name} requested`);
      });
      deps.nudge();
    },

    /** POST /api/security/ring/{id}/api/lock|unlock (idempotent). */
    async setApiLock(id: string, locked: boolean, actor: Actor): Promise<void> {
      await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, id);
        if (ring.apiSecurityLock === locked) return;
        await updateRing(tx.db, id, { api_security_lock: locked ? 1 : 0 });
        await tx.record({ kind: locked ? 'ring.locked' : 'ring.unlocked', actor, ringId: id, message: `ring ${ring.name} API ${locked ? 'locked' : 'unlocked'}` });
      });
    },
  };
}

export type RingService = ReturnType<typeof ringService>;
