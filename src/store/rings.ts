import { sql, type Kysely } from 'kysely';
import type { Database, NewRingRow, RingRowUpdate } from './schema.js';
import { ringRowToRing } from './rows.js';
import { compareRingOrder, type Ring } from '../model/ring.js';
import { RING_STATES_RELEASE_IN_PROGRESS, RING_STATES_RELEASE_PENDING, type RingState } from '../model/ring-states.js';
import { notFound } from '../model/errors.js';
import type { InstallationGroupState } from '../model/installation-group-states.js';
import { literalLimit } from './literal-limit.js';
import { preparedQuery } from './prepared-query.js';
import { compareAndSet } from './compare-and-set.js';

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

const ringById = preparedQuery((db, a: { id: string }) => db.selectFrom('rings').selectAll().where('id', '=', a.id));

export async function findRing(db: Kysely<Database>, id: string): Promise<Ring | undefined> {
  const row = await ringById.first(db, { id });
  return row ? ringRowToRing(row) : undefined;
}

const ringOfGroupQuery = preparedQuery((db, a: { groupId: string }) =>
  db.selectFrom('rings').innerJoin('ring_installation_groups as rig', 'rig.ring_id', 'rings.id').selectAll('rings').where('rig.installation_group_id', '=', a.groupId),
);

/** The ring an installation group belongs to, in one read (a group step asks twice: bench/, urgent). */
export async function ringOfGroup(db: Kysely<Database>, groupId: string): Promise<Ring | undefined> {
  const row = await ringOfGroupQuery.first(db, { groupId });
  return row ? ringRowToRing(row) : undefined;
}

/** A ring by id; deleted rings are found too (the original returns them). */
export async function getRing(db: Kysely<Database>, id: string): Promise<Ring> {
  const ring = await findRing(db, id);
  if (!ring) throw notFound(`ring ${id} not found: list rings with "elrond ring list"`);
  return ring;
}

/** Rings by id (deleted ones too), in release order. */
export async function ringsInOrderByIds(db: Kysely<Database>, ids: readonly string[]): Promise<Ring[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('rings').selectAll().where('id', 'in', [...ids]).execute()).map(ringRowToRing).sort(compareRingOrder);
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
// One statement, not three (a step decides two or three times: bench/, urgent). A member of a UNION ALL can have no
// LIMIT of its own in SQLite, hence the subqueries.
const ringsGatingQuery = preparedQuery((db, ring: { id: string; priority: number; createSeq: number }) => {
  const others = () => db.selectFrom('rings').selectAll().where('delete_at', '=', 0).where('id', '!=', ring.id);
  const first = () => others().orderBy('priority', 'asc').orderBy('create_seq', 'asc').limit(literalLimit(1));
  return others()
    .where('state', 'in', [...RING_STATES_RELEASE_IN_PROGRESS])
    .unionAll(
      db.selectFrom(
        first()
          .where('state', 'in', [...RING_STATES_RELEASE_PENDING])
          .where((eb) => eb.or([eb('priority', '<', ring.priority), eb.and([eb('priority', '=', ring.priority), eb('create_seq', '<', ring.createSeq)])]))
          .as('ahead'),
      ).selectAll(),
    )
    .unionAll(
      db.selectFrom(
        first()
          .where('state', '=', 'release-rollback-requested')
          .where((eb) => eb.or([eb('priority', '>', ring.priority), eb.and([eb('priority', '=', ring.priority), eb('create_seq', '>', ring.createSeq)])]))
          .as('behind'),
      ).selectAll(),
    );
});

export async function ringsGating(db: Kysely<Database>, ring: Pick<Ring, 'id' | 'priority' | 'createSeq'>): Promise<Ring[]> {
  const rows = await ringsGatingQuery.rows(db, { id: ring.id, priority: ring.priority, createSeq: ring.createSeq });
  const unique = new Map(rows.map((row) => [row.id, row]));
  return [...unique.values()].sort((a, b) => a.priority - b.priority || a.create_seq - b.create_seq).map(ringRowToRing);
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

/** One compare-and-set change of a ring, by whoever read it (a request or a supervisor step). */
export interface RingTransition {
  id: string;
  /** The state(s) the caller read: the change applies only while the ring is still in one of them. */
  from: RingState | readonly RingState[];
  /** The new state; omitted for a change that keeps the state (a wait, an SLO check). */
  to?: RingState;
  /** The lease the caller must still hold (a supervisor step); requests hold none. */
  owner?: string;
  /** Only if `next_check_at` is still this: nobody asked the ring to look again since it was read. */
  nextCheckAt?: number;
  changes?: RingRowUpdate;
}

/**
 * The one way a ring's state changes (compare-and-set): the new ring, or undefined when someone moved it first
 * (or took its lease, or asked it to look again). Requests and the supervisor both go through here.
 */
export async function transitionRing(db: Kysely<Database>, change: RingTransition): Promise<Ring | undefined> {
  const from = typeof change.from === 'string' ? [change.from] : [...change.from];
  const row = await compareAndSet(db, 'rings', { id: change.id, from, owner: change.owner, nextCheckAt: change.nextCheckAt, set: { ...change.changes, ...(change.to ? { state: change.to } : {}) } });
  return row ? ringRowToRing(row) : undefined;
}

/** A waiting ring's new status message, to be written only over exactly what was read (see {@link rewriteWaitMessages}). */
export interface WaitMessageChange {
  id: string;
  state: RingState;
  nextCheckAt: number;
  from: string;
  to: string;
}

/**
 * Rewrite the messages of rings that keep waiting, in one transaction and without their leases: a message is
 * only words, and each row changes only if its state, deadline and message are still exactly what was read, so
 * a step or a request that moved the ring (or wrote a newer message) in between wins. Returns how many changed.
 */
export async function rewriteWaitMessages(db: Kysely<Database>, changes: readonly WaitMessageChange[]): Promise<number> {
  if (changes.length === 0) return 0;
  return db.transaction().execute(async (trx) => {
    let changed = 0;
    for (const change of changes) {
      const result = await trx
        .updateTable('rings')
        .set({ status_message: change.to })
        .where('id', '=', change.id)
        .where('state', '=', change.state)
        .where('next_check_at', '=', change.nextCheckAt)
        .where('status_message', '=', change.from)
        .executeTakeFirst();
      changed += Number(result.numUpdatedRows);
    }
    return changed;
  });
}

/** Ask the supervisor to look at a ring again now. */
export async function wakeRing(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await wakeRingQuery.affected(db, { id, now });
}
const wakeRingQuery = preparedQuery((db, a: { id: string; now: number }) => db.updateTable('rings').set({ next_check_at: a.now }).where('id', '=', a.id));

/**
 * When a ring moves, the rings that may now go look again: the first ring in release order still waiting to
 * release (no ring behind it can pass the ordering gates before it starts; forced rings and Force skip those
 * gates and never wait on another ring) and the last ring waiting to roll back (rollbacks go in reverse order).
 * Waking every waiting ring made each move cost one step per queued ring: 499 steps per move with 500 rings
 * queued (bench/, load). The others' status messages are refreshed by the backstop pass every --poll seconds.
 */
export async function wakeQueueHeads(db: Kysely<Database>, now: number): Promise<void> {
  const ids = [...(await releaseQueueHead.rows(db, {})), ...(await rollbackQueueHead.rows(db, {}))].map((r) => r.id);
  for (const id of ids) await wakeHead.affected(db, { id, now });
}
// After every move of a ring (ring-runner.ts).
const queueHead = (states: readonly RingState[], direction: 'asc' | 'desc') =>
  preparedQuery((db) => db.selectFrom('rings').select('id').where('delete_at', '=', 0).where('state', 'in', [...states]).orderBy('priority', direction).orderBy('create_seq', direction).limit(literalLimit(1)));
const releaseQueueHead = queueHead(RING_STATES_RELEASE_PENDING, 'asc');
const rollbackQueueHead = queueHead(['release-rollback-requested'], 'desc');
const wakeHead = preparedQuery((db, a: { id: string; now: number }) => db.updateTable('rings').set({ next_check_at: a.now }).where('id', '=', a.id).where('next_check_at', '>', a.now));

/** The other rings of a rollout in one of `states`. */
export async function ringsOfRollout(db: Kysely<Database>, rolloutId: string, states: readonly RingState[], except?: string): Promise<Ring[]> {
  let query = db.selectFrom('rings').selectAll().where('rollout_id', '=', rolloutId).where('state', 'in', [...states]);
  if (except !== undefined) query = query.where('id', '!=', except);
  return (await query.execute()).map(ringRowToRing);
}

/** Whether any ring of the rollout is still waiting to release or releasing. */
export async function rolloutHasMovingRing(db: Kysely<Database>, rolloutId: string): Promise<boolean> {
  return (await movingRingOfRollout.first(db, { rolloutId })) !== undefined;
}
// Asked whenever a ring of a rollout completes (ring-runner.ts, maybeEndRollout).
const movingRingOfRollout = preparedQuery((db, a: { rolloutId: string }) =>
  db.selectFrom('rings').select('id').where('rollout_id', '=', a.rolloutId).where('state', 'in', [...RING_STATES_RELEASE_PENDING, ...RING_STATES_RELEASE_IN_PROGRESS]),
);

/** Which of these rollouts still have a live ring waiting to release or releasing. */
export async function rolloutsWithMovingRings(db: Kysely<Database>, rolloutIds: readonly string[]): Promise<Set<string>> {
  if (rolloutIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('rings')
    .select('rollout_id')
    .distinct()
    .where('rollout_id', 'in', [...rolloutIds])
    .where('state', 'in', [...RING_STATES_RELEASE_PENDING, ...RING_STATES_RELEASE_IN_PROGRESS])
    .where('delete_at', '=', 0)
    .execute();
  return new Set(rows.map((r) => r.rollout_id).filter((id): id is string => id !== null));
}

/** The live rings of a rollout, in release order. */
export async function liveRingsOfRollout(db: Kysely<Database>, rolloutId: string): Promise<Ring[]> {
  const rows = await db.selectFrom('rings').selectAll().where('rollout_id', '=', rolloutId).where('delete_at', '=', 0).orderBy('priority').orderBy('create_seq').execute();
  return rows.map(ringRowToRing);
}

/** Live rings waiting to release or releasing on a rollout that did not override freezes, in release order: those a freeze can hold. */
export async function ringsFreezesCanHold(db: Kysely<Database>): Promise<Array<{ id: string; name: string; rolloutId: string | null }>> {
  return db
    .selectFrom('rings')
    .innerJoin('rollouts', 'rollouts.id', 'rings.rollout_id')
    .select(['rings.id as id', 'rings.name as name', 'rings.rollout_id as rolloutId'])
    .where('rings.delete_at', '=', 0)
    .where('rings.state', 'in', [...RING_STATES_RELEASE_PENDING, ...RING_STATES_RELEASE_IN_PROGRESS])
    .where('rollouts.freeze_override', 'is', null)
    .orderBy('rings.priority')
    .orderBy('rings.create_seq')
    .execute();
}

export async function updateRing(db: Kysely<Database>, id: string, changes: RingRowUpdate): Promise<Ring> {
  const row = await db.updateTable('rings').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
  if (!row) throw notFound(`ring ${id} not found`);
  return ringRowToRing(row);
}

/**
 * Every live ring's overview columns, in release order, with each ring's groups' state and release: two narrow
 * queries instead of every column of every ring and group (500 rings: ~5 ms instead of ~22 ms on the benchmark
 * machine; `status` is what people run over and over during a release).
 */
export async function ringOverviewRows(db: Kysely<Database>) {
  const rings = await db
    .selectFrom('rings')
    .select(['id', 'name', 'priority', 'state', 'active_release_id', 'desired_release_id', 'soak_until', 'status_message', 'failure_reason'])
    .where('delete_at', '=', 0)
    .orderBy('priority', 'asc')
    .orderBy('create_seq', 'asc')
    .execute();
  const groups = await db
    .selectFrom('ring_installation_groups')
    .innerJoin('installation_groups', 'installation_groups.id', 'ring_installation_groups.installation_group_id')
    .select(['ring_installation_groups.ring_id as ringId', 'installation_groups.state as state', 'installation_groups.release_id as releaseId'])
    .execute();
  const groupsByRing = new Map<string, Array<{ state: InstallationGroupState; releaseId: string | null }>>();
  for (const g of groups) {
    const list = groupsByRing.get(g.ringId);
    if (list) list.push(g);
    else groupsByRing.set(g.ringId, [g]);
  }
  return { rings, groupsByRing };
}
