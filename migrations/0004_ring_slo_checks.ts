import type { Kysely } from 'kysely';

/**
 * The SLO gate's memory across steps, replicas and restarts: how many checks in a row failed (a ring fails its
 * soak after --slo-max-failures), the last failure's text (shown by `why`, status and the card) and when the
 * SLO was last seen healthy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rings').addColumn('slo_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('rings').addColumn('slo_error', 'text').execute();
  await db.schema.alterTable('rings').addColumn('slo_healthy_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['slo_healthy_at', 'slo_error', 'slo_failures']) {
    await db.schema.alterTable('rings').dropColumn(column).execute();
  }
}
