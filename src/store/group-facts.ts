import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { RetryParts } from '../model/group-decision.js';

/** What a rolling group last recorded about itself, as parts (its `group.retry` and `group.progress` events). */
export interface GroupFacts {
  /** The transient failure it waits to retry. */
  retry?: RetryParts;
  /** Installations stuck in update-failed, by name. */
  stuck?: string[];
  /** Why the provisioner does not roll it (MaxRolling 0), in words. */
  block?: string;
}

/**
 * The latest facts each group recorded since `since[id]` (its rollout's start), by group id: what its status
 * message says, as data, for `why` and the card. Events of older rollouts, or without parts, tell nothing.
 */
export async function latestGroupFacts(db: Kysely<Database>, since: ReadonlyMap<string, number>): Promise<Map<string, GroupFacts>> {
  const found = new Map<string, GroupFacts>();
  if (since.size === 0) return found;
  const rows = await db
    .selectFrom('events')
    .select(['installation_group_id', 'kind', 'at', 'data'])
    .where('kind', 'in', ['group.retry', 'group.progress'])
    .where('installation_group_id', 'in', [...since.keys()])
    .orderBy('id', 'desc')
    .execute();
  const seen = new Set<string>();
  for (const row of rows) {
    const id = row.installation_group_id!;
    const key = `${id}:${row.kind}`;
    if (seen.has(key) || row.at < (since.get(id) ?? 0) || !row.data) continue;
    seen.add(key);
    const data = JSON.parse(row.data) as { retry?: Partial<RetryParts>; stuck?: unknown; block?: unknown };
    const facts = found.get(id) ?? {};
    const retry = data.retry;
    if (row.kind === 'group.retry' && retry && typeof retry.error === 'string' && typeof retry.attempt === 'number' && typeof retry.of === 'number' && typeof retry.at === 'number') {
      facts.retry = { error: retry.error, attempt: retry.attempt, of: retry.of, at: retry.at };
    }
    if (row.kind === 'group.progress') {
      if (Array.isArray(data.stuck) && data.stuck.length > 0) facts.stuck = data.stuck.map(String);
      if (typeof data.block === 'string' && data.block !== '') facts.block = data.block;
    }
    found.set(id, facts);
  }
  return found;
}
