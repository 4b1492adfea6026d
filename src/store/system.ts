import { SqliteAdapter, type Kysely } from 'kysely';
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
 * Take the write gate for the rest of the transaction: an update of one shared row (`system.write-gate`), the first
 * statement of every write transaction, requests and supervisor steps alike (service/deps.ts inTransaction, the
 * ring and group runners). Writers take turns across processes: a row lock held to commit on Postgres, the database
 * write lock on SQLite. Leases keep two steps off one ring and compare-and-set keeps a write from undoing another's,
 * but neither orders writes to *different* rows: the gate is what makes "one ring mid-release at a time" hold when
 * two replicas decide to start two rings at once, and lets a transaction read, under READ COMMITTED, everything the
 * previous writer committed. Its value is the time of the last write, for nobody in particular.
 */
export async function takeWriteGate(db: Kysely<Database>, now: number): Promise<void> {
  // SQLite: every transaction begins IMMEDIATE (store/connect.ts), which takes the database's write lock and reads
  // the latest commit; the row adds nothing but a statement and a page written per transaction.
  if (db.getExecutor().adapter instanceof SqliteAdapter) return;
  await db.updateTable('system').set({ value: String(now) }).where('key', '=', 'write-gate').execute();
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
