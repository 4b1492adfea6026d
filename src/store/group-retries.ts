import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { RetryParts } from '../model/group-decision.js';

/** The retry each group last recorded (its `group.retry` event's parts), by group id; absent when none was recorded. */
export async function latestRetries(db: Kysely<Database>, groupIds: readonly string[]): Promise<Map<string, RetryParts>> {
  const found = new Map<string, RetryParts>();
  if (groupIds.length === 0) return found;
  const rows = await db.selectFrom('events').select(['installation_group_id', 'data']).where('kind', '=', 'group.retry').where('installation_group_id', 'in', [...groupIds]).orderBy('id', 'desc').execute();
  for (const row of rows) {
    const id = row.installation_group_id!;
    if (found.has(id) || !row.data) continue;
    const retry = (JSON.parse(row.data) as { retry?: Partial<RetryParts> }).retry;
    if (retry && typeof retry.error === 'string' && typeof retry.attempt === 'number' && typeof retry.of === 'number' && typeof retry.at === 'number') {
      found.set(id, { error: retry.error, attempt: retry.attempt, of: retry.of, at: retry.at });
    }
  }
  return found;
}
