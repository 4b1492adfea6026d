import type { Kysely } from 'kysely';

/**
 * The release card of a rollout in each subscribed channel (the card in the channel it was started from, or in
 * --notify-channel, stays on the rollout): its post once posted, or why it was given up.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('channel_cards')
    .addColumn('rollout_id', 'text', (c) => c.notNull())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('post_id', 'text')
    .addColumn('abandoned', 'text')
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_cards_pk', ['rollout_id', 'channel_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('channel_cards').execute();
}
