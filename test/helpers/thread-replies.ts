import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import { threadKey, type Delivery } from '../../src/chat/deliveries.js';

/**
 * The replies Elrond queued for a rollout's thread (its own card's, or a subscribed channel's), oldest first: what
 * that thread must show, each exactly once, in this order.
 */
export async function queuedReplies(db: Kysely<Database>, rolloutId: string, channelId?: string): Promise<string[]> {
  const rows = await db.selectFrom('outbox').select('payload').where('ordering_key', '=', threadKey(rolloutId, channelId)).orderBy('id').execute();
  return rows.map((row) => JSON.parse(row.payload) as Delivery).flatMap((d) => (d.op === 'reply' ? [d.message] : []));
}

/** State names a thread must never show: they stay in the history and the API. */
export const RAW_STATE = /\b(release-pending|release-paused|release-requested|release-in-progress|soaking-requested|release-failed|soaking-failed|release-rollback-\w+|release-soaking-requested)\b/;
