import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database, OutboxRow } from './schema.js';
import { literalLimit } from './literal-limit.js';

/** Deliveries with one ordering key go out in id order: only the first undelivered row of each key is a head. */
const isHead = (eb: ExpressionBuilder<Database & { o: Database['outbox'] }, 'o'>) =>
  eb('o.id', '=', eb.selectFrom('outbox as p').select((e) => e.fn.min('p.id').as('first')).where('p.ordering_key', '=', eb.ref('o.ordering_key')).where('p.delivered_at', 'is', null));

/** Which heads a worker may take: one sink's, or (sink null) those of every sink not in `known`; never a busy target's. */
export interface HeadFilter {
  sink: string | null;
  known: readonly string[];
  busyTargets: readonly string[];
  limit: number;
}

/** The first undelivered row of each ordering key, due now and free to take (its lease free or run out), oldest first. */
export async function dueHeads(db: Kysely<Database>, filter: HeadFilter, now: number): Promise<OutboxRow[]> {
  let query = db
    .selectFrom('outbox as o')
    .selectAll()
    .where('o.delivered_at', 'is', null)
    .where('o.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('o.locked_by', 'is', null), eb('o.locked_until', '<', now)]))
    .where(isHead);
  if (filter.sink !== null) query = query.where('o.sink', '=', filter.sink);
  else if (filter.known.length > 0) query = query.where('o.sink', 'not in', [...filter.known]);
  if (filter.busyTargets.length > 0) query = query.where('o.target', 'not in', [...filter.busyTargets]);
  return query.orderBy('o.id').limit(literalLimit(filter.limit)).execute();
}

/** When the earliest undelivered head that is not due yet becomes due, or null. */
export async function nextHeadDueAt(db: Kysely<Database>, now: number): Promise<number | null> {
  const row = await db
    .selectFrom('outbox as o')
    .select((eb) => eb.fn.min('o.next_attempt_at').as('at'))
    .where('o.delivered_at', 'is', null)
    .where('o.next_attempt_at', '>', now)
    .where(isHead)
    .executeTakeFirst();
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}

/** Deliveries not yet made. */
export async function undeliveredCount(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('delivered_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findOutboxRow(db: Kysely<Database>, id: number): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Record what became of a delivery attempt, only while `owner` still holds the row's lease (one taken over after
 * expiring is the new holder's to record).
 */
export async function recordDelivery(
  db: Kysely<Database>,
  id: number,
  owner: string,
  outcome: Partial<Pick<OutboxRow, 'delivered_at' | 'attempts' | 'last_error' | 'next_attempt_at'>>,
): Promise<void> {
  await db.updateTable('outbox').set(outcome).where('id', '=', id).where('locked_by', '=', owner).execute();
}

/**
 * Whether anything waits on `orderingKey`: ever queued (`undeliveredOnly` false: one indexed probe, so it costs
 * the same on the 5th event of a rollout as on its 5,000th), or not yet delivered, other than row `exceptId`.
 */
export async function queuedOn(db: Kysely<Database>, orderingKey: string, options: { undeliveredOnly: boolean; exceptId?: number } = { undeliveredOnly: false }): Promise<boolean> {
  let query = db.selectFrom('outbox').select('id').where('ordering_key', '=', orderingKey);
  if (options.undeliveredOnly) query = query.where('delivered_at', 'is', null);
  if (options.exceptId !== undefined) query = query.where('id', '!=', options.exceptId);
  return (await query.limit(literalLimit(1)).executeTakeFirst()) !== undefined;
}

/** Undelivered rows on `orderingKey` no worker is sending now (unleased, or its lease expired). */
export async function waitingOn(db: Kysely<Database>, orderingKey: string, now: number): Promise<Array<Pick<OutboxRow, 'id' | 'payload'>>> {
  return db
    .selectFrom('outbox')
    .select(['id', 'payload'])
    .where('ordering_key', '=', orderingKey)
    .where('delivered_at', 'is', null)
    .where((eb) => eb.or([eb('locked_by', 'is', null), eb('locked_until', '<', now)]))
    .execute();
}

export async function replacePayloads(db: Kysely<Database>, ids: readonly number[], payload: string): Promise<void> {
  if (ids.length > 0) await db.updateTable('outbox').set({ payload }).where('id', 'in', [...ids]).execute();
}

/** Make rows due now, unless they are backing off after a failed attempt. */
export async function hurry(db: Kysely<Database>, ids: readonly number[], now: number): Promise<void> {
  if (ids.length > 0) await db.updateTable('outbox').set({ next_attempt_at: now }).where('id', 'in', [...ids]).where('attempts', '=', 0).where('next_attempt_at', '>', now).execute();
}
