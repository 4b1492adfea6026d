import type { ExpressionBuilder, Kysely } from 'kysely';
import { NO_DEADLINE, type Database, type InstallationGroupRowUpdate } from './schema.js';
import { groupRowToGroup } from './rows.js';
import type { InstallationGroup, Ring, RingWithGroups } from '../model/ring.js';
import type { InstallationGroupState } from '../model/installation-group-states.js';
import { newId } from '../model/ids.js';
import { notFound } from '../model/errors.js';
import { preparedQuery } from './prepared-query.js';
import { compareAndSet } from './compare-and-set.js';

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

const groupById = preparedQuery((db, a: { id: string }) => db.selectFrom('installation_groups').selectAll().where('id', '=', a.id));

export async function findInstallationGroup(db: Kysely<Database>, id: string): Promise<InstallationGroup | undefined> {
  const row = await groupById.first(db, { id });
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
const groupsOfRingsQuery = (db: Kysely<Database>) =>
  db
    .selectFrom('installation_groups')
    .innerJoin('ring_installation_groups', 'ring_installation_groups.installation_group_id', 'installation_groups.id')
    .selectAll('installation_groups')
    .select('ring_installation_groups.ring_id as ring_id')
    .orderBy('installation_groups.name', 'asc');
const groupsOfOneRing = preparedQuery((db, a: { ringId: string }) => groupsOfRingsQuery(db).where('ring_installation_groups.ring_id', '=', a.ringId));

export async function groupsOfRings(db: Kysely<Database>, ringIds: readonly string[]): Promise<Map<string, InstallationGroup[]>> {
  const byRing = new Map<string, InstallationGroup[]>(ringIds.map((id) => [id, []]));
  if (ringIds.length === 0) return byRing;
  // One ring: every ring step asks (ring-view.ts).
  if (ringIds.length === 1) {
    byRing.set(ringIds[0]!, (await groupsOfOneRing.rows(db, { ringId: ringIds[0]! })).map(groupRowToGroup));
    return byRing;
  }
  const chunks: string[][] = [];
  for (let i = 0; i < ringIds.length; i += 500) chunks.push(ringIds.slice(i, i + 500));
  for (const chunk of chunks) {
    const rows = await groupsOfRingsQuery(db).where('ring_installation_groups.ring_id', 'in', chunk).execute();
    for (const row of rows) byRing.get(row.ring_id)?.push(groupRowToGroup(row));
  }
  return byRing;
}

/**
 * Rings with their groups, for answers that show both. The rings are given their groups in place, not copied: they
 * are the caller's own, just read (copying a page of 100 rings was a tenth of computing `GET /api/rings`).
 */
export async function ringsWithGroups(db: Kysely<Database>, rings: Ring[]): Promise<RingWithGroups[]> {
  const groups = await groupsOfRings(db, rings.map((r) => r.id));
  return rings.map((ring) => Object.assign(ring, { installationGroups: groups.get(ring.id) ?? [] }));
}

export async function ringIdOfGroup(db: Kysely<Database>, groupId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('ring_installation_groups')
    .select('ring_id')
    .where('installation_group_id', '=', groupId)
    .executeTakeFirst();
  return row?.ring_id;
}

/** One compare-and-set change of an installation group (see transitionRing in store/rings.ts). */
export interface GroupTransition {
  id: string;
  /** The state(s) the caller read: the change applies only while the group is still in one of them. */
  from: InstallationGroupState | readonly InstallationGroupState[];
  /** The new state; omitted for a change that keeps the state (a wait, a retry). */
  to?: InstallationGroupState;
  /** The lease the caller must still hold (a supervisor step). */
  owner?: string;
  changes?: InstallationGroupRowUpdate;
}

/** The one way a group's state changes (compare-and-set): the new group, or undefined when someone moved it first. */
export async function transitionGroup(db: Kysely<Database>, change: GroupTransition): Promise<InstallationGroup | undefined> {
  const from = typeof change.from === 'string' ? [change.from] : [...change.from];
  const row = await compareAndSet(db, 'installation_groups', { id: change.id, from, owner: change.owner, set: { ...change.changes, ...(change.to ? { state: change.to } : {}) } });
  return row ? groupRowToGroup(row) : undefined;
}

const groupIdsOfRing = (ringId: string) => (eb: ExpressionBuilder<Database, 'installation_groups'>) =>
  eb.selectFrom('ring_installation_groups').select('installation_group_id').where('ring_id', '=', ringId);

/** A ring starting a release puts every group of it in the queue for `releaseId`, whatever it was doing. */
export async function queueGroupsForRelease(db: Kysely<Database>, ringId: string, releaseId: string): Promise<void> {
  await queueGroupsQuery.affected(db, { ringId, releaseId });
}
const queueGroupsQuery = preparedQuery((db, a: { ringId: string; releaseId: string }) =>
  db
    .updateTable('installation_groups')
    .set({ state: 'release-pending', release_id: a.releaseId, phase: null, attempts: 0, failure_reason: null, soak_until: null, status_message: 'waiting its turn', next_check_at: NO_DEADLINE })
    .where('id', 'in', groupIdsOfRing(a.ringId)),
);

/** A failed ring's groups that never started go back to stable untouched, saying why. */
export async function stopUnstartedGroups(db: Kysely<Database>, ringId: string, message: string): Promise<void> {
  await db
    .updateTable('installation_groups')
    .set({ state: 'stable', release_id: null, phase: null, status_message: message, next_check_at: NO_DEADLINE })
    .where('state', '=', 'release-pending')
    .where('id', 'in', groupIdsOfRing(ringId))
    .execute();
}

/** Wake the ring's groups in `state` (a Force ends their soak at once). */
export async function wakeGroupsOfRing(db: Kysely<Database>, ringId: string, state: InstallationGroupState, now: number): Promise<void> {
  await db.updateTable('installation_groups').set({ next_check_at: now }).where('state', '=', state).where('id', 'in', groupIdsOfRing(ringId)).execute();
}

/** A deleted ring's groups go with it (a group belongs to exactly one ring). */
export async function deleteGroupsOfRing(db: Kysely<Database>, ringId: string): Promise<void> {
  const ids = (await db.selectFrom('ring_installation_groups').select('installation_group_id').where('ring_id', '=', ringId).execute()).map((r) => r.installation_group_id);
  if (ids.length === 0) return;
  await db.deleteFrom('ring_installation_groups').where('ring_id', '=', ringId).execute();
  await db.deleteFrom('installation_groups').where('id', 'in', ids).execute();
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

/** The provisioner ids of the groups rolling now (their installations' events wake them). */
export async function rollingProvisionerGroups(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('installation_groups').select('provisioner_group_id').where('state', '=', 'release-requested').where('phase', '=', 'rolling').execute();
  return rows.map((row) => row.provisioner_group_id);
}

/** Move a rolling group's next check to `at` unless it is sooner already or its step is running (leased). True when it moved. */
export async function wakeRollingGroup(db: Kysely<Database>, provisionerGroupId: string, at: number, now: number): Promise<boolean> {
  return (await wakeRollingGroupQuery.affected(db, { provisionerGroupId, at, now })) > 0;
}
// Once per provisioner event (engine/wake-ups.ts).
const wakeRollingGroupQuery = preparedQuery((db, a: { provisionerGroupId: string; at: number; now: number }) =>
  db
    .updateTable('installation_groups')
    .set({ next_check_at: a.at })
    .where('provisioner_group_id', '=', a.provisionerGroupId)
    .where('state', '=', 'release-requested')
    .where('phase', '=', 'rolling')
    .where('next_check_at', '>', a.at)
    .where((eb) => eb.or([eb('locked_by', 'is', null), eb('locked_until', '<', a.now)])),
);

/** Whether a step of the releasing group is running now (its lease is held). */
export async function groupStepRunning(db: Kysely<Database>, provisionerGroupId: string, now: number): Promise<boolean> {
  return (await groupStepRunningQuery.first(db, { provisionerGroupId, now })) !== undefined;
}
const groupStepRunningQuery = preparedQuery((db, a: { provisionerGroupId: string; now: number }) =>
  db.selectFrom('installation_groups').select('id').where('provisioner_group_id', '=', a.provisionerGroupId).where('state', '=', 'release-requested').where('locked_by', 'is not', null).where('locked_until', '>=', a.now),
);
