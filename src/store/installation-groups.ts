import type { Kysely } from 'kysely';
import type { Database, InstallationGroupRowUpdate } from './schema.js';
import { groupRowToGroup } from './rows.js';
import type { InstallationGroup } from '../model/ring.js';
import type { InstallationGroupState } from '../model/installation-group-states.js';
import { newId } from '../model/ids.js';
import { notFound } from '../model/errors.js';

export interface NewInstallationGroup {
  name: string;
  soakTime: number;
  provisionerGroupId: string;
  createAt: number;
}

export async function insertInstallationGroup(db: Kysely<Database>, ringId: string, group: NewInstallationGroup): Promise<InstallationGroup> {
  const row = await db
    .insertInto('installation_groups')
    .values({
      id: newId(),
      name: group.name,
      state: 'stable',
      soak_time: group.soakTime,
      provisioner_group_id: group.provisionerGroupId,
      create_at: group.createAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db
    .insertInto('ring_installation_groups')
    .values({ id: newId(), ring_id: ringId, installation_group_id: row.id })
    .execute();
  return groupRowToGroup(row);
}

export async function findInstallationGroup(db: Kysely<Database>, id: string): Promise<InstallationGroup | undefined> {
  const row = await db.selectFrom('installation_groups').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? groupRowToGroup(row) : undefined;
}

export async function getInstallationGroup(db: Kysely<Database>, id: string): Promise<InstallationGroup> {
  const group = await findInstallationGroup(db, id);
  if (!group) throw notFound(`installation group ${id} not found: "elrond ring get --ring RING" lists a ring's groups`);
  return group;
}

/** The ring an installation group belongs to, and the group, looked up by name or provisioner group id. */
export async function findGroupOwner(
  db: Kysely<Database>,
  by: { name?: string; provisionerGroupId?: string },
): Promise<{ groupId: string; ringId: string; ringName: string; matched: 'name' | 'provisionerGroupId' } | undefined> {
  for (const [column, value, matched] of [
    ['installation_groups.name', by.name, 'name'],
    ['installation_groups.provisioner_group_id', by.provisionerGroupId, 'provisionerGroupId'],
  ] as const) {
    if (!value) continue;
    const row = await db
      .selectFrom('installation_groups')
      .innerJoin('ring_installation_groups', 'ring_installation_groups.installation_group_id', 'installation_groups.id')
      .innerJoin('rings', 'rings.id', 'ring_installation_groups.ring_id')
      .select(['installation_groups.id as groupId', 'rings.id as ringId', 'rings.name as ringName'])
      .where(column, '=', value)
      .executeTakeFirst();
    if (row) return { ...row, matched };
  }
  return undefined;
}

/** A ring's groups, in the order they roll (by name). */
export async function groupsOfRing(db: Kysely<Database>, ringId: string): Promise<InstallationGroup[]> {
  const rows = await db
    .selectFrom('installation_groups')
    .innerJoin('ring_installation_groups', 'ring_installation_groups.installation_group_id', 'installation_groups.id')
    .selectAll('installation_groups')
    .where('ring_installation_groups.ring_id', '=', ringId)
    .orderBy('installation_groups.name', 'asc')
    .execute();
  return rows.map(groupRowToGroup);
}

/** Groups of many rings at once (one query), keyed by ring id. */
export async function groupsOfRings(db: Kysely<Database>, ringIds: readonly string[]): Promise<Map<string, InstallationGroup[]>> {
  const byRing = new Map<string, InstallationGroup[]>(ringIds.map((id) => [id, []]));
  if (ringIds.length === 0) return byRing;
  const chunks: string[][] = [];
  for (let i = 0; i < ringIds.length; i += 500) chunks.push(ringIds.slice(i, i + 500));
  for (const chunk of chunks) {
    const rows = await db
      .selectFrom('installation_groups')
      .innerJoin('ring_installation_groups', 'ring_installation_groups.installation_group_id', 'installation_groups.id')
      .selectAll('installation_groups')
      .select('ring_installation_groups.ring_id as ring_id')
      .where('ring_installation_groups.ring_id', 'in', chunk)
      .orderBy('installation_groups.name', 'asc')
      .execute();
    for (const row of rows) byRing.get(row.ring_id)?.push(groupRowToGroup(row));
  }
  return byRing;
}

export async function ringIdOfGroup(db: Kysely<Database>, groupId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('ring_installation_groups')
    .select('ring_id')
    .where('installation_group_id', '=', groupId)
    .executeTakeFirst();
  return row?.ring_id;
}

export async function updateGroupIf(
  db: Kysely<Database>,
  id: string,
  from: InstallationGroupState | readonly InstallationGroupState[],
  changes: InstallationGroupRowUpdate,
): Promise<InstallationGroup | undefined> {
  const states = typeof from === 'string' ? [from] : [...from];
  const row = await db
    .updateTable('installation_groups')
    .set(changes)
    .where('id', '=', id)
    .where('state', 'in', states)
    .returningAll()
    .executeTakeFirst();
  return row ? groupRowToGroup(row) : undefined;
}

export async function updateGroup(db: Kysely<Database>, id: string, changes: InstallationGroupRowUpdate): Promise<InstallationGroup> {
  const row = await db.updateTable('installation_groups').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
  if (!row) throw notFound(`installation group ${id} not found`);
  return groupRowToGroup(row);
}

/** Removes the link and the group row (a group belongs to exactly one ring). */
export async function deleteGroup(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('ring_installation_groups').where('installation_group_id', '=', id).execute();
  await db.deleteFrom('installation_groups').where('id', '=', id).execute();
}
