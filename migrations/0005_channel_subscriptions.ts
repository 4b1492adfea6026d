import type { Kysely } from 'kysely';

/**
 * Channels that follow releases besides the one a release was started from (and --notify-channel): one row per
 * channel, optionally only for some rings (`ring_ids`, a JSON array; [] means every ring).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel_id', 'text', (c) => c.notNull().unique())
    .addColumn('channel_name', 'text', (c) => c.notNull())
    .addColumn('ring_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('subscriptions').execute();
}
