import type { ExpressionBuilder, Kysely } from 'kysely';
import { NO_DEADLINE, type Database } from './schema.js';
import { RING_STATES_PENDING_WORK } from '../model/ring-states.js';
import { IG_STATES_ACTIVE } from '../model/installation-group-states.js';
import { preparedQuery } from './prepared-query.js';

/** What the supervisor works on: rings with pending work, and groups rolling or soaking. */

/** Whether a ring (`rings`) or a group (`groups`) is due by `now`. */
export async function anythingDue(db: Kysely<Database>, now: number, which: { rings: boolean; groups: boolean }): Promise<boolean> {
  const ring = which.rings ? await db.selectFrom('rings').select('id').where('state', 'in', [...RING_STATES_PENDING_WORK]).where('next_check_at', '<=', now).executeTakeFirst() : undefined;
  const group = which.groups ? await db.selectFrom('installation_groups').select('id').where('state', 'in', [...IG_STATES_ACTIVE]).where('next_check_at', '<=', now).executeTakeFirst() : undefined;
  return Boolean(ring || group);
}

/** Rings with pending work in release order, with when each is due; only those due by `now` unless `all`. */
export async function ringsWithWork(db: Kysely<Database>, now: number, all: boolean): Promise<Array<{ id: string; nextCheckAt: number }>> {
  const rows = all ? await allRingsWithWork.rows(db, {}) : await ringsWithWorkDue.rows(db, { now });
  return rows.map((row) => ({ id: row.id, nextCheckAt: row.next_check_at }));
}
const ringsWithWorkQuery = (db: Kysely<Database>) => db.selectFrom('rings').select(['id', 'next_check_at']).where('state', 'in', [...RING_STATES_PENDING_WORK]).orderBy('priority').orderBy('create_seq');
const allRingsWithWork = preparedQuery((db) => ringsWithWorkQuery(db));
const ringsWithWorkDue = preparedQuery((db, a: { now: number }) => ringsWithWorkQuery(db).where('next_check_at', '<=', a.now));

/** Rolling or soaking groups due by `now`, the longest due first. */
export async function groupsDue(db: Kysely<Database>, now: number): Promise<string[]> {
  return (await groupsDueQuery.rows(db, { now })).map((row) => row.id);
}
const groupsDueQuery = preparedQuery((db, a: { now: number }) => db.selectFrom('installation_groups').select('id').where('state', 'in', [...IG_STATES_ACTIVE]).where('next_check_at', '<=', a.now).orderBy('next_check_at'));

// One statement (two scalar subqueries): a pass ends with this read, and passes come by the dozen in a release.
const dueAt = (eb: ExpressionBuilder<Database, 'rings' | 'installation_groups'>) =>
  eb.fn.min(eb.case().when('locked_until', '>', eb.ref('next_check_at')).then(eb.ref('locked_until')).else(eb.ref('next_check_at')).end()).as('at');
const nextWorkDueAtQuery = preparedQuery((db) =>
  db.selectNoFrom((eb) => [
    eb.selectFrom('rings').select(dueAt).where('state', 'in', [...RING_STATES_PENDING_WORK]).as('ring'),
    eb.selectFrom('installation_groups').select(dueAt).where('state', 'in', [...IG_STATES_ACTIVE]).as('group'),
  ]),
);

/**
 * The earliest time a ring or group with work is due, or null. A row leased by a step in progress counts from
 * its lease's end (it cannot be stepped before).
 */
export async function nextWorkDueAt(db: Kysely<Database>): Promise<number | null> {
  const row = await nextWorkDueAtQuery.first(db, {});
  const candidates = [row?.ring, row?.group].map((v) => (v === null || v === undefined ? NO_DEADLINE : Number(v))).filter((v) => v < NO_DEADLINE);
  return candidates.length ? Math.min(...candidates) : null;
}
