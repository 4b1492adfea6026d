import type { Kysely } from 'kysely';

/**
 * Outbox rows are leased like rings and groups (store/leases.ts): the lease's start, as `why` shows for a ring
 * and the delivery worker's lease no longer needs its own hand-written copy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('locked_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').dropColumn('locked_at').execute();
}
