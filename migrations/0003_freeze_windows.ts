import type { Kysely } from 'kysely';

/**
 * Freeze windows (one-off or recurring, global or for chosen rings) during which no ring or group starts,
 * and the record of a release that overrode one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('freezes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ring_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('start_at', 'bigint')
    .addColumn('end_at', 'bigint')
    .addColumn('cron', 'text')
    .addColumn('duration_ms', 'bigint')
    .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .addColumn('delete_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('freezes_live').on('freezes').column('delete_at').execute();
  await db.schema.alterTable('rollouts').addColumn('freeze_override', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollouts').dropColumn('freeze_override').execute();
  await db.schema.dropTable('freezes').execute();
}
