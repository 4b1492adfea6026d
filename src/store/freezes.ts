import type { Kysely } from 'kysely';
import type { Database, FreezeRow } from './schema.js';
import { activeFreezeFor, type ActiveFreeze, type Freeze } from '../model/freeze.js';
import type { Ring } from '../model/ring.js';
import { newId } from '../model/ids.js';
import { notFound } from '../model/errors.js';
import { preparedQuery } from './prepared-query.js';

export function freezeRowToFreeze(row: FreezeRow): Freeze {
  return {
    id: row.id,
    ringIds: JSON.parse(row.ring_ids) as string[],
    startAt: row.start_at,
    endAt: row.end_at,
    cron: row.cron,
    durationMs: row.duration_ms,
    timezone: row.timezone,
    reason: row.reason,
    author: row.author,
    createAt: row.create_at,
  };
}

export async function insertFreeze(db: Kysely<Database>, freeze: Omit<Freeze, 'id'> & { source: string }): Promise<Freeze> {
  const row = await db
    .insertInto('freezes')
    .values({
      id: newId(),
      ring_ids: JSON.stringify(freeze.ringIds),
      start_at: freeze.startAt,
      end_at: freeze.endAt,
      cron: freeze.cron,
      duration_ms: freeze.durationMs,
      timezone: freeze.timezone,
      reason: freeze.reason,
      author: freeze.author,
      source: freeze.source,
      create_at: freeze.createAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return freezeRowToFreeze(row);
}

/** Freezes by id, deleted ones too. */
export async function freezesById(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, Freeze>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('freezes').selectAll().where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((row) => [row.id, freezeRowToFreeze(row)]));
}

/** Freezes not deleted (expired one-off windows included, until deleted). */
export async function liveFreezes(db: Kysely<Database>): Promise<Freeze[]> {
  return (await liveFreezeRows.rows(db, {})).map(freezeRowToFreeze);
}
// Read for every ring decision (ring-view.ts).
const liveFreezeRows = preparedQuery((db) => db.selectFrom('freezes').selectAll().where('delete_at', '=', 0).orderBy('create_at'));

export async function deleteFreeze(db: Kysely<Database>, id: string, now: number): Promise<Freeze> {
  const row = await db.updateTable('freezes').set({ delete_at: now }).where('id', '=', id).where('delete_at', '=', 0).returningAll().executeTakeFirst();
  if (!row) throw notFound(`freeze ${id} not found (or already deleted): list them with "elrond freeze list"`);
  return freezeRowToFreeze(row);
}

/**
 * The freeze holding a ring now, unless the ring's rollout was started with an admin's --override-freeze.
 * The engine, `why` and plans all ask this one function.
 */
export async function activeFreezeForRing(db: Kysely<Database>, ring: Pick<Ring, 'id' | 'rolloutId'>, now: number, live?: readonly Freeze[]): Promise<ActiveFreeze | null> {
  const freezes = live ?? (await liveFreezes(db));
  if (freezes.length === 0) return null;
  if (ring.rolloutId) {
    const rollout = await db.selectFrom('rollouts').select('freeze_override').where('id', '=', ring.rolloutId).executeTakeFirst();
    if (rollout?.freeze_override) return null;
  }
  return activeFreezeFor(freezes, ring.id, now);
}
