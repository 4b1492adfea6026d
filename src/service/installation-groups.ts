import { z } from 'zod';
import type { ServiceDeps } from './deps.js';
import { inTransaction } from './deps.js';
import { lowerKeys, name, parseInput, provisionerGroupId, soakSeconds } from './inputs.js';
import { assertGroupIsNew, assertMutable } from './rings.js';
import type { Actor, InstallationGroup, RingWithGroups } from '../model/ring.js';
import { IG_STATES_ACTIVE, igStateIn } from '../model/installation-group-states.js';
import { conflict } from '../model/errors.js';
import { isId } from '../model/ids.js';
import { getRing } from '../store/rings.js';
import { deleteGroup, findInstallationGroup, getInstallationGroup, insertInstallationGroup, ringIdOfGroup, updateGroup } from '../store/installation-groups.js';

const registerInput = z.object({ name, soaktime: soakSeconds.optional(), provisionergroupid: provisionerGroupId });
const updateInput = z.object({
  name: name.optional().or(z.literal('')),
  soaktime: soakSeconds.optional(),
  provisionergroupid: provisionerGroupId.optional().or(z.literal('')),
});

function assertNotRolling(group: InstallationGroup, what: string): void {
  if (igStateIn(group.state, IG_STATES_ACTIVE)) {
    throw conflict(`installation group ${group.name} is ${group.state}, so it cannot be ${what} now; wait until its rollout and soak finish`);
  }
}

export function installationGroupService(deps: ServiceDeps) {
  return {
    /** POST /api/ring/{id}/installationgroup → the ring with only the new group (as the original answers). */
    async register(ringId: string, body: unknown, actor: Actor): Promise<RingWithGroups> {
      const input = parseInput(registerInput, lowerKeys(body), { provisionergroupid: 'e.g. "provisionerGroupID": "<26-character group id>"' });
      return inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, ringId);
        assertMutable(ring, tx.now, 'given new installation groups');
        const spec = { name: input.name, provisionerGroupId: input.provisionergroupid, soakTime: input.soaktime ?? 0, createAt: tx.now };
        await assertGroupIsNew(tx, spec);
        const group = await insertInstallationGroup(tx.db, ring.id, spec);
        await tx.record({ kind: 'group.registered', actor, ringId: ring.id, installationGroupId: group.id, newState: 'stable', message: `group ${group.name} (provisioner group ${group.provisionerGroupId}) registered on ring ${ring.name}` });
        return { ...ring, installationGroups: [group] };
      });
    },

    /** POST /api/installationgroup/{id}/update → 404 for an unknown id (the original crashed). */
    async update(groupId: string, body: unknown, actor: Actor): Promise<InstallationGroup> {
      const input = parseInput(updateInput, lowerKeys(body));
      return inTransaction(deps, async (tx) => {
        const group = await getInstallationGroup(tx.db, groupId);
        const ringId = await ringIdOfGroup(tx.db, groupId);
        if (ringId) assertMutable(await getRing(tx.db, ringId), tx.now, 'changed');
        const changes: Record<string, string | number> = {};
        const said: string[] = [];
        if (input.name && input.name !== group.name) {
          await assertGroupIsNew(tx, { name: input.name, provisionerGroupId: '' });
          changes.name = input.name;
          said.push(`name ${group.name} → ${input.name}`);
        }
        if (input.provisionergroupid && input.provisionergroupid !== group.provisionerGroupId) {
          assertNotRolling(group, 'pointed at another provisioner group');
          await assertGroupIsNew(tx, { name: '', provisionerGroupId: input.provisionergroupid });
          changes.provisioner_group_id = input.provisionergroupid;
          said.push(`provisioner group ${group.provisionerGroupId} → ${input.provisionergroupid}`);
        }
        if (input.soaktime && input.soaktime !== group.soakTime) {
          changes.soak_time = input.soaktime;
          said.push(`soak ${group.soakTime}s → ${input.soaktime}s`);
        }
        if (said.length === 0) return group;
        const updated = await updateGroup(tx.db, groupId, changes);
        await tx.record({ kind: 'group.updated', actor, ringId: ringId ?? null, installationGroupId: groupId, message: `group ${group.name} updated: ${said.join(', ')}` });
        return updated;
      });
    },

    /** DELETE /api/ring/{id}/installationgroup/{groupId}: an unknown group is a no-op, as in the original. */
    async remove(ringId: string, groupId: string, actor: Actor): Promise<void> {
      await inTransaction(deps, async (tx) => {
        const ring = await getRing(tx.db, ringId);
        assertMutable(ring, tx.now, 'changed');
        // Group ids have the id shape; anything else cannot name a group (and never reaches the database).
        const group = isId(groupId) ? await findInstallationGroup(tx.db, groupId) : undefined;
        if (!group || (await ringIdOfGroup(tx.db, groupId)) !== ringId) return;
        assertNotRolling(group, 'removed');
        await deleteGroup(tx.db, groupId);
        await tx.record({ kind: 'group.removed', actor, ringId, installationGroupId: groupId, message: `group ${group.name} removed from ring ${ring.name}` });
      });
      deps.nudge();
    },
  };
}

export type InstallationGroupService = ReturnType<typeof installationGroupService>;
