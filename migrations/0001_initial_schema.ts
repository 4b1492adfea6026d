import type { Kysely } from 'kysely';
import { detectDialect } from '../src/store/dialect.js';

/**
 * Elrond's first schema: rings, installation groups and their links, releases, webhooks, rollouts,
 * the append-only events table and the delivery outbox. Timestamps are milliseconds (BIGINT).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = detectDialect(db);
  const autoId = (name: string) =>
    dialect.name === 'sqlite'
      ? db.schema.createTable(name).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      : db.schema.createTable(name).addColumn('id', 'bigserial', (c) => c.primaryKey());

  await db.schema
    .createTable('rings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('create_seq', 'integer', (c) => c.notNull())
    .addColumn('soak_time', 'integer', (c) => c.notNull())
    .addColumn('provisioner', 'text', (c) => c.notNull().defaultTo('elrond'))
    .addColumn('active_release_id', 'text', (c) => c.notNull())
    .addColumn('desired_release_id', 'text', (c) => c.notNull())
    .addColumn('previous_release_id', 'text')
    .addColumn('rollout_id', 'text')
    .addColumn('release_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .addColumn('delete_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('api_security_lock', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rolling_back', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('soak_until', 'bigint')
    .addColumn('next_check_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('status_message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('failure_reason', 'text')
    .addColumn('locked_by', 'text')
    .addColumn('locked_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('rings_state_next_check').on('rings').columns(['state', 'next_check_at']).execute();
  await db.schema.createIndex('rings_locked_until').on('rings').column('locked_until').execute();
  await db.schema.createIndex('rings_order').on('rings').columns(['delete_at', 'create_seq']).execute();

  await db.schema
    .createTable('installation_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('soak_time', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('provisioner_group_id', 'text', (c) => c.notNull().unique())
    .addColumn('release_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .addColumn('release_id', 'text')
    .addColumn('phase', 'text')
    .addColumn('rollout_started_at', 'bigint')
    .addColumn('soak_until', 'bigint')
    .addColumn('next_check_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status_message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('failure_reason', 'text')
    .addColumn('last_status', 'text')
    .addColumn('locked_by', 'text')
    .addColumn('locked_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('installation_groups_state_next_check')
    .on('installation_groups')
    .columns(['state', 'next_check_at'])
    .execute();
  await db.schema.createIndex('installation_groups_locked_until').on('installation_groups').column('locked_until').execute();

  await db.schema
    .createTable('ring_installation_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ring_id', 'text', (c) => c.notNull().references('rings.id').onDelete('cascade'))
    .addColumn('installation_group_id', 'text', (c) =>
      c.notNull().unique().references('installation_groups.id').onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('ring_installation_groups_ring')
    .on('ring_installation_groups')
    .columns(['ring_id', 'installation_group_id'])
    .unique()
    .execute();

  await db.schema
    .createTable('releases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('env_variables', 'text')
    .addColumn('env_key', 'text', (c) => c.notNull())
    .addColumn('force', 'integer', (c) => c.notNull())
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('releases_identity')
    .on('releases')
    .columns(['image', 'version', 'force', 'env_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .addColumn('delete_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('webhooks_url_delete_at').on('webhooks').columns(['url', 'delete_at']).unique().execute();

  await db.schema
    .createTable('rollouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('release_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('all_rings', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('channel_id', 'text')
    .addColumn('post_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .addColumn('end_at', 'bigint')
    .execute();

  await autoId('events')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ring_id', 'text')
    .addColumn('installation_group_id', 'text')
    .addColumn('rollout_id', 'text')
    .addColumn('old_state', 'text')
    .addColumn('new_state', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('events_ring').on('events').columns(['ring_id', 'id']).execute();
  await db.schema.createIndex('events_at').on('events').column('at').execute();

  await autoId('outbox')
    .addColumn('event_id', 'bigint')
    .addColumn('sink', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('ordering_key', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('create_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('outbox_pending').on('outbox').columns(['delivered_at', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_ordering').on('outbox').columns(['ordering_key', 'delivered_at', 'id']).execute();

  await db.schema
    .createTable('system')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  // A single row every gate decision locks first, so two processes never start two rings at once.
  await db.insertInto('system' as never).values({ key: 'ring-gate', value: '0' } as never).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'system',
    'outbox',
    'events',
    'rollouts',
    'webhooks',
    'releases',
    'ring_installation_groups',
    'installation_groups',
    'rings',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
