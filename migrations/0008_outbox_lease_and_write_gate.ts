import type { Kysely } from 'kysely';

/**
 * Outbox rows are leased like rings and groups (store/leases.ts), with the lease's start, so the delivery
 * worker needs no hand-written lease of its own. The shared row every write transaction updates first is named
 * for what it is: the write gate (store/system.ts, takeWriteGate), not a ring's.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('locked_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await (db as Kysely<{ system: { key: string } }>).updateTable('system').set({ key: 'write-gate' }).where('key', '=', 'ring-gate').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await (db as Kysely<{ system: { key: string } }>).updateTable('system').set({ key: 'ring-gate' }).where('key', '=', 'write-gate').execute();
  await db.schema.alterTable('outbox').dropColumn('locked_at').execute();
}
