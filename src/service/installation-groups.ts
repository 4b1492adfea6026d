import { z } from 'zod';
import { name, objectId, provisionerGroupId, soakSeconds } from './inputs.js';
import { writeOperation } from './operation.js';
import { assertGroupIsNew, assertMutable, CHANGE_RINGS } from './rings.js';
import type { InstallationGroup, RingWithGroups } from '../model/ring.js';
import { IG_STATES_ACTIVE, igStateIn } from '../model/installation-group-states.js';
import { conflict } from '../model/errors.js';
import { isId } from '../model/ids.js';
import { getRing } from '../store/rings.js';
import { deleteGroup, findInstallationGroup, getInstallationGroup, insertInstallationGroup, ringIdOfGroup, updateGroup } from '../store/installation-groups.js';

const RegisterGroup = z.object({ ringId: objectId, name, soakTime: soakSeconds.optional(), provisionerGroupId });
const UpdateGroup = z.object({
  groupId: objectId,
  name: name.optional().or(z.literal('')),
  soakTime: soakSeconds.optional(),
  provisionerGroupId: provisionerGroupId.optional().or(z.literal('')),
});
const RemoveGroup = z.object({ ringId: objectId, groupId: z.string() });

function assertNotRolling(group: InstallationGroup, what: string): void {
  if (igStateIn(group.state, IG_STATES_ACTIVE)) {
    throw conflict(`installation group ${group.name} is ${group.state}, so it cannot be ${what} now; wait until its rollout and soak finish`);
  }
}

export const INSTALLATION_GROUP_OPERATIONS = {
  /** POST /api/ring/{id}/installationgroup → the ring with only the new group (as the original answers). */
  registerGroup: writeOperation({
    summary: 'register an installation group with a ring',
    input: RegisterGroup,
    hints: { provisionerGroupId: 'e.g. "provisionerGroupID": "<26-character group id>"' },
    guard: CHANGE_RINGS,
    async run(tx, input, actor): Promise<RingWithGroups> {
      const ring = await getRing(tx.db, input.ringId);
      assertMutable(ring, tx.now, 'given new installation groups');
      const spec = { name: input.name, provisionerGroupId: input.provisionerGroupId, soakTime: input.soakTime ?? 0, createAt: tx.now };
      await assertGroupIsNew(tx, spec);
      const group = await insertInstallationGroup(tx.db, ring.id, spec);
      await tx.record({ kind: 'group.registered', actor, ringId: ring.id, installationGroupId: group.id, newState: 'stable', message: `group ${group.name} (provisioner group ${group.provisionerGroupId}) registered on ring ${ring.name}` });
      return { ...ring, installationGroups: [group] };
    },
  }),

  /** POST /api/installationgroup/{id}/update → 404 for an unknown id (the original crashed). */
  updateGroup: writeOperation({
    summary: 'change an installation group\'s name, provisioner group or soak time',
    input: UpdateGroup,
    guard: CHANGE_RINGS,
    async run(tx, input, actor): Promise<InstallationGroup> {
      const { groupId } = input;
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
      if (input.provisionerGroupId && input.provisionerGroupId !== group.provisionerGroupId) {
        assertNotRolling(group, 'pointed at another provisioner group');
        await assertGroupIsNew(tx, { name: '', provisionerGroupId: input.provisionerGroupId });
        changes.provisioner_group_id = input.provisionerGroupId;
        said.push(`provisioner group ${group.provisionerGroupId} → ${input.provisionerGroupId}`);
      }
      if (input.soakTime && input.soakTime !== group.soakTime) {
        changes.soak_time = input.soakTime;
        said.push(`soak ${group.soakTime}s → ${input.soakTime}s`);
      }
      if (said.length === 0) return group;
      const updated = await updateGroup(tx.db, groupId, changes);
      await tx.record({ kind: 'group.updated', actor, ringId: ringId ?? null, installationGroupId: groupId, message: `group ${group.name} updated: ${said.join(', ')}` });
      return updated;
    },
  }),

  /** DELETE /api/ring/{id}/installationgroup/{groupId}: an unknown group is a no-op, as in the original. */
  deleteGroup: writeOperation({
    summary: 'remove an installation group from a ring',
    input: RemoveGroup,
    guard: CHANGE_RINGS,
    async run(tx, { ringId, groupId }, actor): Promise<void> {
      const ring = await getRing(tx.db, ringId);
      assertMutable(ring, tx.now, 'changed');
      // Group ids have the id shape; anything else cannot name a group (and never reaches the database).
      const group = isId(groupId) ? await findInstallationGroup(tx.db, groupId) : undefined;
      if (!group || (await ringIdOfGroup(tx.db, groupId)) !== ringId) return;
      assertNotRolling(group, 'removed');
      await deleteGroup(tx.db, groupId);
      await tx.record({ kind: 'group.removed', actor, ringId, installationGroupId: groupId, message: `group ${group.name} removed from ring ${ring.name}` });
    },
  }),
};
