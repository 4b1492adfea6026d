import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export async function getSetting(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('system').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Store a value unless one is already there; returns the value that won. */
export async function setSettingIfAbsent(db: Kysely<Database>, key: string, value: string): Promise<string> {
  await db.insertInto('system').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
  return (await getSetting(db, key)) ?? value;
}

/**
 * Take the gate lock for the rest of the transaction: a write to one shared row, so every decision to start
 * a ring is serialized across processes (a row lock on Postgres, the write lock on SQLite).
 */
export async function takeRingGate(db: Kysely<Database>, now: number): Promise<void> {
  await db.updateTable('system').set({ value: String(now) }).where('key', '=', 'ring-gate').execute();
}

/** Store a value, replacing any there. */
export async function setSetting(db: Kysely<Database>, key: string, value: string): Promise<void> {
  await db
    .insertInto('system')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/**
 * Replace a value only if it is still `expected` (compare-and-set); false when someone changed it first, so a
 * read-modify-write can read again instead of overwriting a newer value.
 */
export async function replaceSetting(db: Kysely<Database>, key: string, expected: string, value: string): Promise<boolean> {
  const result = await db.updateTable('system').set({ value }).where('key', '=', key).where('value', '=', expected).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
