import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { readOperation, writeOperation, type EngineFacts } from './operation.js';
import type { Guard } from './access-policy.js';
import type { Actor } from '../model/ring.js';
import type { Subscription } from '../model/subscription.js';
import { badRequest, notFound } from '../model/errors.js';
import { liveRingsInOrder } from '../store/rings.js';
import { deleteSubscription, listSubscriptions, saveSubscription } from '../store/subscriptions.js';

/** A Mattermost channel as people name it and as Elrond posts to it. */
export interface ChannelFacts {
  id: string;
  /** `team/channel` (a direct message: its channel name). */
  name: string;
}

/**
 * What the subscription operations need from Mattermost (chat implements it with the bot's token): a channel by
 * `team/channel` or id, and whether the bot can keep a card there (editing needs channel membership).
 */
export interface ChannelDirectory {
  /** Throws an ElrondError (404) naming the channel when the bot cannot see it. */
  find(spec: string): Promise<ChannelFacts>;
  botCanKeepCards(channelId: string): Promise<{ ok: boolean; bot: string }>;
}

/** A subscription as the API shows it (Elrond's own route: camelCase). */
export interface SubscriptionView {
  id: string;
  channel: string;
  channelId: string | null;
  /** Empty: every ring. */
  rings: Array<{ id: string; name: string }>;
  createdBy: string;
  source: string;
  createAt: number;
  /** --notify-channel: where releases not started from chat go; set on the server, not here. */
  default: boolean;
}

const channelSpec = z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const Subscribe = z.object({ channel: channelSpec.optional(), rings: z.array(z.string().max(64)).max(500).optional() });
const Unsubscribe = z.object({ channel: channelSpec.optional() });
const CHANNEL_HINTS = { channel: 'e.g. "channel": "release-team/ops"' };

const CHANNEL_HINT = 'name the channel: --channel team-name/channel-name, or "channel": "team-name/channel-name" (in chat it defaults to the current channel)';

/**
 * Anyone may make the channel they are in follow releases (in chat, with no `channel`); naming a channel — any
 * other, and every REST caller, who has no current channel — takes an admin.
 */
const channelGuard = <I extends { channel?: string | undefined }>(verb: string): Guard<I> => ({
  role: 'viewer',
  verb: `${verb} this channel`,
  elevate: { role: 'admin', when: 'naming a channel (chat: the current channel needs none)', applies: (input) => input.channel !== undefined, verb: () => `${verb} a named channel` },
});

function directory(facts: EngineFacts): ChannelDirectory {
  if (!facts.channels) throw badRequest('this Elrond has no Mattermost bot (--mattermost-url, --mattermost-token), so no channel can follow releases');
  return facts.channels;
}

/** The channel a request is about: the one named, else the caller's current one (chat). */
async function targetChannel(facts: EngineFacts, spec: string | undefined, actor: Actor): Promise<ChannelFacts> {
  const channels = directory(facts);
  const given = spec ?? actor.channelId;
  if (!given) throw badRequest(`channel: is required: ${CHANNEL_HINT}`);
  return channels.find(given);
}

async function view(db: Kysely<Database>, subscriptions: readonly Subscription[]): Promise<SubscriptionView[]> {
  const rings = new Map((await liveRingsInOrder(db)).map((r) => [r.id, r.name]));
  return subscriptions.map((s) => ({
    id: s.id,
    channel: s.channelName,
    channelId: s.channelId,
    rings: s.ringIds.map((id) => ({ id, name: rings.get(id) ?? `${id} (deleted)` })),
    createdBy: s.createdBy,
    source: s.source,
    createAt: s.createAt,
    default: false,
  }));
}

/**
 * Channel subscriptions: more channels follow releases (a card and its thread of milestones each), every ring's or
 * some rings'. Mattermost is asked about the channel before the transaction, never inside it.
 */
export const SUBSCRIPTION_OPERATIONS = {
  /** Make a channel follow releases (every ring's, or `rings`'); subscribing again changes its rings. */
  subscribe: writeOperation({
    summary: 'make a channel follow releases (its own card and thread)',
    input: Subscribe,
    hints: CHANNEL_HINTS,
    guard: channelGuard<z.infer<typeof Subscribe>>('subscribe'),
    async prepare(ctx, input, actor): Promise<ChannelFacts> {
      const channel = await targetChannel(ctx.facts, input.channel, actor);
      // The bot keeps each card up to date by editing it, which only channel members may.
      const access = await directory(ctx.facts).botCanKeepCards(channel.id);
      if (!access.ok) throw badRequest(`@${access.bot} is not a member of ${channel.name}, so it could not keep release cards there up to date: add it with /invite @${access.bot} in that channel, then subscribe again`);
      return channel;
    },
    async run(tx, input, actor, channel): Promise<SubscriptionView & { replaced: boolean }> {
      const live = new Set((await liveRingsInOrder(tx.db)).map((r) => r.id));
      const unknown = (input.rings ?? []).filter((id) => !live.has(id));
      if (unknown.length > 0) throw notFound(`no ring with id ${unknown.join(', ')}: list rings with "elrond ring list"`);
      const before = (await listSubscriptions(tx.db)).find((s) => s.channelId === channel.id);
      const subscription = await saveSubscription(tx.db, { channelId: channel.id, channelName: channel.name, ringIds: input.rings ?? [], actor, now: tx.now });
      const what = subscription.ringIds.length ? `releases of ring(s) ${subscription.ringIds.join(', ')}` : 'every release';
      await tx.record({ kind: 'subscription.created', actor, message: `channel ${channel.name} follows ${what} (subscribed by ${actor.name})`, data: { channelId: channel.id, channelName: channel.name, ringIds: subscription.ringIds } });
      return { ...(await view(tx.db, [subscription]))[0]!, replaced: before !== undefined };
    },
  }),

  /** Stop a channel following releases (cards already posted there stay, and stop being updated). */
  unsubscribe: writeOperation({
    summary: 'stop a channel following releases',
    input: Unsubscribe,
    hints: CHANNEL_HINTS,
    guard: channelGuard<z.infer<typeof Unsubscribe>>('unsubscribe'),
    prepare: (ctx, input, actor): Promise<ChannelFacts> => targetChannel(ctx.facts, input.channel, actor),
    async run(tx, _input, actor, channel): Promise<SubscriptionView> {
      const existing = (await listSubscriptions(tx.db)).find((s) => s.channelId === channel.id);
      if (!existing) {
        const notify = tx.facts.notifyChannel;
        const isDefault = notify && (notify === channel.name || notify === channel.id);
        throw notFound(isDefault ? `${channel.name} is --notify-channel, where releases not started from chat always go: change the server's --notify-channel to stop that` : `${channel.name} does not follow releases: nothing to unsubscribe (see "subscriptions")`);
      }
      await deleteSubscription(tx.db, channel.id);
      await tx.record({ kind: 'subscription.deleted', actor, message: `channel ${channel.name} no longer follows releases (unsubscribed by ${actor.name})`, data: { channelId: channel.id, channelName: channel.name } });
      return (await view(tx.db, [existing]))[0]!;
    },
  }),

  /** Every channel that follows releases, --notify-channel (the default) first. */
  listSubscriptions: readOperation({
    summary: 'list the channels that follow releases',
    input: z.object({}),
    guard: { role: 'viewer', verb: 'look at subscriptions' },
    async run(ctx): Promise<SubscriptionView[]> {
      const own = await view(ctx.db, await listSubscriptions(ctx.db));
      const notify = ctx.facts.notifyChannel
        ? [{ id: 'notify-channel', channel: ctx.facts.notifyChannel, channelId: null, rings: [], createdBy: 'server', source: '--notify-channel', createAt: 0, default: true }]
        : [];
      return [...notify, ...own];
    },
  }),
};
