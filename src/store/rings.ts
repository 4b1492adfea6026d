import { sql, type Kysely } from 'kysely';
import type { Database, NewRingRow, RingRowUpdate } from './schema.js';
import { ringRowToRing } from './rows.js';
import type { Ring } from '../model/ring.js';
import { RING_STATES_RELEASE_IN_PROGRESS, RING_STATES_RELEASE_PENDING, type RingState } from '../model/ring-states.js';
import { notFound } from '../model/errors.js';

export interface RingPage {
  page: number;
  /** -1 means every ring. */
  perPage: number;
  includeDeleted: boolean;
}

export async function insertRing(db: Kysely<Database>, row: Omit<NewRingRow, 'create_seq'>): Promise<Ring> {
  const { next } = await db
    .selectFrom('rings')
    .select(sql<number>`coalesce(max(create_seq), 0) + 1`.as('next'))
    .executeTakeFirstOrThrow();
  const inserted = await db
    .insertInto('rings')
    .values({ ...row, create_seq: Number(next) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return ringRowToRing(inserted);
}

export async function findRing(db: Kysely<Database>, id: string): Promise<Ring | undefined> {
  const row = await db.selectFrom('rings').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? ringRowToRing(row) : undefined;
}

/** A ring by id; deleted rings are found too (the original returns them). */
export async function getRing(db: Kysely<Database>, id: string): Promise<Ring> {
  const ring = await findRing(db, id);
  if (!ring) throw notFound(`ring ${id} not found: list rings with "elrond ring list"`);
  return ring;
}

/** Rings in creation order, paged on rings (not on ring×group rows, the original's bug). */
export async function listRings(db: Kysely<Database>, paging: RingPage): Promise<Ring[]> {
  let query = db.selectFrom('rings').selectAll().orderBy('create_seq', 'asc');
  if (!paging.includeDeleted) query = query.where('delete_at', '=', 0);
  if (paging.perPage >= 0) query = query.limit(paging.perPage).offset(paging.page * paging.perPage);
  return (await query.execute()).map(ringRowToRing);
}

/** Every live ring, in release order. */
export async function liveRingsInOrder(db: Kysely<Database>): Promise<Ring[]> {
  const rows = await db
    .selectFrom('rings')
    .selectAll()
    .where('delete_at', '=', 0)
    .where('state', '!=', 'deleted')
    .orderBy('priority', 'asc')
    .orderBy('create_seq', 'asc')
    .execute();
  return rows.map(ringRowToRing);
}

/**
 * The rings `ring`'s gates (model/gates.ts) can name, in release order, instead of every live ring: every ring
 * mid-release, the first ring ahead of it still waiting to release, and the first ring after it rolling back.
 * Each gate picks the first matching ring in release order, and that ring is always in this list, so
 * `decideRing` decides exactly as with {@link liveRingsInOrder} while reading a handful of rows: with 500
 * rings queued, reading every ring for every step made one ring's move cost ~5 s of queries (bench/, load).
 */
export async function ringsGating(db: Kysely<Database>, ring: Pick<Ring, 'id' | 'priority' | 'createSeq'>): Promise<Ring[]> {
  const live = () => db.selectFrom('rings').selectAll().where('delete_at', '=', 0).where('id', '!=', ring.id).orderBy('priority', 'asc').orderBy('create_seq', 'asc');
  const [busy, ahead, behind] = await Promise.all([
    live().where('state', 'in', [...RING_STATES_RELEASE_IN_PROGRESS]).execute(),
    live()
      .where('state', 'in', [...RING_STATES_RELEASE_PENDING])
      .where((eb) => eb.or([eb('priority', '<', ring.priority), eb.and([eb('priority', '=', ring.priority), eb('create_seq', '<', ring.createSeq)])]))
      .limit(1)
      .execute(),
    live()
      .where('state', '=', 'release-rollback-requested')
      .where((eb) => eb.or([eb('priority', '>', ring.priority), eb.and([eb('priority', '=', ring.priority), eb('create_seq', '>', ring.createSeq)])]))
      .limit(1)
      .execute(),
  ]);
  const rows = new Map([...busy, ...ahead, ...behind].map((row) => [row.id, row]));
  return [...rows.values()].sort((a, b) => a.priority - b.priority || a.create_seq - b.create_seq).map(ringRowToRing);
}

export async function ringsInStates(db: Kysely<Database>, states: readonly RingState[]): Promise<Ring[]> {
  if (states.length === 0) return [];
  const rows = await db
    .selectFrom('rings')
    .selectAll()
    .where('state', 'in', [...states])
    .orderBy('priority', 'asc')
    .orderBy('create_seq', 'asc')
    .execute();
  return rows.map(ringRowToRing);
}

/**
 * Change a ring only if it is still in `from` (compare-and-set). Returns the new ring, or undefined when
 * someone else moved it first.
 */
export async function updateRingIf(
  db: Kysely<Database>,
  id: string,
  from: RingState | readonly RingState[],
  changes: RingRowUpdate,
): Promise<Ring | undefined> {
  const states = typeof from === 'string' ? [from] : [...from];
  const row = await db
    .updateTable('rings')
    .set(changes)
    .where('id', '=', id)
    .where('state', 'in', states)
    .returningAll()
    .executeTakeFirst();
  return row ? ringRowToRing(row) : undefined;
}

export async function updateRing(db: Kysely<Database>, id: string, changes: RingRowUpdate): Promise<Ring> {
  const row = await db.updateTable('rings').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
  if (!row) throw notFound(`ring ${id} not found`);
  return ringRowToRing(row);
}
