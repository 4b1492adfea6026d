import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * How long each group's last rollouts took (the average of its last five, from its `group.state` events:
 * rolling → rolled), by group id; groups that never rolled are absent. `before` only counts rollouts that ended
 * before that instant.
 */
export async function rolloutHistory(db: Kysely<Database>, groupIds: readonly string[], before?: number): Promise<Map<string, number>> {
  const estimates = new Map<string, number>();
  if (groupIds.length === 0) return estimates;
  let query = db
    .selectFrom('events')
    .select(['installation_group_id', 'at', 'new_state', 'old_state'])
    .where('kind', '=', 'group.state')
    .where('installation_group_id', 'in', [...groupIds])
    .orderBy('id');
  if (before !== undefined) query = query.where('at', '<', before);
  const rows = await query.execute();
  const started = new Map<string, number>();
  const durations = new Map<string, number[]>();
  for (const row of rows) {
    const id = row.installation_group_id!;
    if (row.new_state === 'release-requested') started.set(id, row.at);
    else if (row.old_state === 'release-requested' && started.has(id) && (row.new_state === 'release-soaking-requested' || row.new_state === 'stable')) {
      durations.set(id, [...(durations.get(id) ?? []), row.at - started.get(id)!].slice(-5));
      started.delete(id);
    }
  }
  for (const [id, list] of durations) estimates.set(id, Math.round(list.reduce((a, b) => a + b, 0) / list.length));
  return estimates;
}
