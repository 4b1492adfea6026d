import type { Kysely } from 'kysely';
import type { ChannelCardRow, Database } from './schema.js';

/** A rollout's card in one subscribed channel. */
export async function findChannelCard(db: Kysely<Database>, rolloutId: string, channelId: string): Promise<ChannelCardRow | undefined> {
  return db.selectFrom('channel_cards').selectAll().where('rollout_id', '=', rolloutId).where('channel_id', '=', channelId).executeTakeFirst();
}

export async function channelCardsOf(db: Kysely<Database>, rolloutId: string): Promise<ChannelCardRow[]> {
  return db.selectFrom('channel_cards').selectAll().where('rollout_id', '=', rolloutId).orderBy('create_at').execute();
}

export async function setChannelCardPost(db: Kysely<Database>, rolloutId: string, channelId: string, postId: string, now: number): Promise<void> {
  await db
    .insertInto('channel_cards')
    .values({ rollout_id: rolloutId, channel_id: channelId, post_id: postId, abandoned: null, create_at: now })
    .onConflict((oc) => oc.columns(['rollout_id', 'channel_id']).doUpdateSet({ post_id: postId }))
    .execute();
}

/** Give up a channel's card (Mattermost will not take it there): nothing more is sent to that channel. */
export async function abandonChannelCard(db: Kysely<Database>, rolloutId: string, channelId: string, why: string, now: number): Promise<void> {
  await db
    .insertInto('channel_cards')
    .values({ rollout_id: rolloutId, channel_id: channelId, post_id: null, abandoned: why, create_at: now })
    .onConflict((oc) => oc.columns(['rollout_id', 'channel_id']).doUpdateSet({ post_id: null, abandoned: why }))
    .execute();
}
