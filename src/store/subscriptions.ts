import type { Kysely } from 'kysely';
import type { Database, SubscriptionRow } from './schema.js';
import type { Subscription } from '../model/subscription.js';
import type { Actor } from '../model/ring.js';
import { newId } from '../model/ids.js';

export function subscriptionRowToSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    ringIds: JSON.parse(row.ring_ids) as string[],
    createdBy: row.created_by,
    source: row.source,
    createAt: row.create_at,
  };
}

export async function listSubscriptions(db: Kysely<Database>): Promise<Subscription[]> {
  return (await db.selectFrom('subscriptions').selectAll().orderBy('create_at').orderBy('id').execute()).map(subscriptionRowToSubscription);
}

export async function findSubscription(db: Kysely<Database>, channelId: string): Promise<Subscription | undefined> {
  const row = await db.selectFrom('subscriptions').selectAll().where('channel_id', '=', channelId).executeTakeFirst();
  return row ? subscriptionRowToSubscription(row) : undefined;
}

/** A channel's subscription, created or replaced (one per channel: subscribing again changes its rings). */
export async function saveSubscription(db: Kysely<Database>, input: { channelId: string; channelName: string; ringIds: readonly string[]; actor: Actor; now: number }): Promise<Subscription> {
  const ringIds = JSON.stringify([...new Set(input.ringIds)]);
  await db
    .insertInto('subscriptions')
    .values({ id: newId(), channel_id: input.channelId, channel_name: input.channelName, ring_ids: ringIds, created_by: input.actor.name, source: input.actor.source, create_at: input.now })
    .onConflict((oc) => oc.column('channel_id').doUpdateSet({ channel_name: input.channelName, ring_ids: ringIds, created_by: input.actor.name, source: input.actor.source, create_at: input.now }))
    .execute();
  return (await findSubscription(db, input.channelId))!;
}

export async function deleteSubscription(db: Kysely<Database>, channelId: string): Promise<boolean> {
  const result = await db.deleteFrom('subscriptions').where('channel_id', '=', channelId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
