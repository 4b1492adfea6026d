import type { Kysely } from 'kysely';

/**
 * Chat-ops: rings may require an approver's click before they start, and an admin may force the current
 * ring past its remaining soak or gating. Both are per release request and reset when a new one arrives.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rings').addColumn('approval_required', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('rings').addColumn('approved_by', 'text').execute();
  await db.schema.alterTable('rings').addColumn('approved_at', 'bigint').execute();
  await db.schema.alterTable('rings').addColumn('force_requested_by', 'text').execute();
  // Release cards are rebuilt from the events of their rollout.
  await db.schema.createIndex('events_rollout').on('events').columns(['rollout_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_rollout').execute();
  for (const column of ['force_requested_by', 'approved_at', 'approved_by', 'approval_required']) {
    await db.schema.alterTable('rings').dropColumn(column).execute();
  }
}
