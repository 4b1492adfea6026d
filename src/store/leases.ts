import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Tables whose rows carry a lease (locked_by, locked_at, locked_until). */
export type LeasedTable = 'rings' | 'installation_groups';

/**
 * Take the lease on one row for `ttlMs`, if it is free or its holder's lease has expired (so a crashed
 * process never keeps a row locked). One conditional UPDATE: safe across processes on SQLite and Postgres.
 *
 * @returns true when this owner now holds the lease.
 */
export async function acquireLease(
  db: Kysely<Database>,
  table: LeasedTable,
  id: string | number,
  owner: string,
  now: number,
  ttlMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable(table as 'rings')
    .set({ locked_by: owner, locked_at: now, locked_until: now + ttlMs })
    .where('id', '=', id as string)
    .where((eb) => eb.or([eb('locked_by', 'is', null), eb('locked_until', '<', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Extend a lease this owner holds; false when it was lost (expired and taken by someone else). */
export async function renewLease(
  db: Kysely<Database>,
  table: LeasedTable,
  id: string | number,
  owner: string,
  now: number,
  ttlMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable(table as 'rings')
    .set({ locked_until: now + ttlMs })
    .where('id', '=', id as string)
    .where('locked_by', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Give a lease back; only its owner can. */
export async function releaseLease(db: Kysely<Database>, table: LeasedTable, id: string | number, owner: string): Promise<void> {
  await db
    .updateTable(table as 'rings')
    .set({ locked_by: null, locked_at: 0, locked_until: 0 })
    .where('id', '=', id as string)
    .where('locked_by', '=', owner)
    .execute();
}
