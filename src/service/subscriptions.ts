import { z } from 'zod';
import type { ServiceDeps } from './deps.js';
import { inTransaction } from './deps.js';
import { lowerKeys, parseInput } from './inputs.js';
import { isAdmin, OPEN_POLICY } from './access-policy.js';
import type { Actor } from '../model/ring.js';
import type { Subscription } from '../model/subscription.js';
import { badRequest, forbidden, notFound } from '../model/errors.js';
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
const subscribeInput = z.object({ channel: channelSpec.optional(), rings: z.array(z.string().max(64)).max(500).optional() });
const unsubscribeInput = z.object({ channel: channelSpec.optional() });

const CHANNEL_HINT = 'name the channel: --channel team-name/channel-name, or "channel": "team-name/channel-name" (in chat it defaults to the current channel)';

/**
 * Channel subscriptions: more channels follow releases (a card and its thread of milestones each), every ring's or
 * some rings'. In chat the channel defaults to the current one; anyone there may subscribe it, only admins another.
 */
export function subscriptionService(deps: ServiceDeps & { channels?: ChannelDirectory; notifyChannel?: string }) {
  const policy = () => deps.policy ?? OPEN_POLICY;

  function directory(): ChannelDirectory {
    if (!deps.channels) throw badRequest('this Elrond has no Mattermost bot (--mattermost-url, --mattermost-token), so no channel can follow releases');
    return deps.channels;
  }

  /** The channel a request is about, and whether the actor may change its subscription. */
  async function target(spec: string | undefined, actor: Actor, verb: string): Promise<ChannelFacts> {
    const channels = directory();
    const given = spec ?? actor.channelId;
    if (!given) throw badRequest(`channel: is required: ${CHANNEL_HINT}`);
    const channel = await channels.find(given);
    if (channel.id !== actor.channelId && !isAdmin(policy(), actor)) {
      throw forbidden(`@${actor.name} may not ${verb} another channel (${channel.name}): only Elrond admins may (${policy().admins.map((a) => `@${a}`).join(', ')}); or run it in that channel`);
    }
    return channel;
  }

  async function view(subscriptions: readonly Subscription[]): Promise<SubscriptionView[]> {
    const rings = new Map((await liveRingsInOrder(deps.store.db)).map((r) => [r.id, r.name]));
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

  return {
    /** Make a channel follow releases (every ring's, or `rings`'); subscribing again changes its rings. */
    async subscribe(body: unknown, actor: Actor): Promise<SubscriptionView & { replaced: boolean }> {
      const input = parseInput(subscribeInput, lowerKeys(body), { channel: 'e.g. "channel": "release-team/ops"' });
      const channel = await target(input.channel, actor, 'subscribe');
      const live = new Set((await liveRingsInOrder(deps.store.db)).map((r) => r.id));
      const unknown = (input.rings ?? []).filter((id) => !live.has(id));
      if (unknown.length > 0) throw notFound(`no ring with id ${unknown.join(', ')}: list rings with "elrond ring list"`);
      // The bot keeps each card up to date by editing it, which only channel members may.
      const access = await directory().botCanKeepCards(channel.id);
      if (!access.ok) throw badRequest(`@${access.bot} is not a member of ${channel.name}, so it could not keep release cards there up to date: add it with /invite @${access.bot} in that channel, then subscribe again`);
      const saved = await inTransaction(deps, async (tx) => {
        const before = (await listSubscriptions(tx.db)).find((s) => s.channelId === channel.id);
        const subscription = await saveSubscription(tx.db, { channelId: channel.id, channelName: channel.name, ringIds: input.rings ?? [], actor, now: tx.now });
        const what = subscription.ringIds.length ? `releases of ring(s) ${subscription.ringIds.join(', ')}` : 'every release';
        await tx.record({ kind: 'subscription.created', actor, message: `channel ${channel.name} follows ${what} (subscribed by ${actor.name})`, data: { channelId: channel.id, channelName: channel.name, ringIds: subscription.ringIds } });
        return { subscription, replaced: before !== undefined };
      });
      return { ...(await view([saved.subscription]))[0]!, replaced: saved.replaced };
    },

    /** Stop a channel following releases (cards already posted there stay, and stop being updated). */
    async unsubscribe(body: unknown, actor: Actor): Promise<SubscriptionView> {
      const input = parseInput(unsubscribeInput, lowerKeys(body), { channel: 'e.g. "channel": "release-team/ops"' });
      const channel = await target(input.channel, actor, 'unsubscribe');
      const removed = await inTransaction(deps, async (tx) => {
        const existing = (await listSubscriptions(tx.db)).find((s) => s.channelId === channel.id);
        if (!existing) {
          const isDefault = deps.notifyChannel && (deps.notifyChannel === channel.name || deps.notifyChannel === channel.id);
          throw notFound(isDefault ? `${channel.name} is --notify-channel, where releases not started from chat always go: change the server's --notify-channel to stop that` : `${channel.name} does not follow releases: nothing to unsubscribe (see "subscriptions")`);
        }
        await deleteSubscription(tx.db, channel.id);
        await tx.record({ kind: 'subscription.deleted', actor, message: `channel ${channel.name} no longer follows releases (unsubscribed by ${actor.name})`, data: { channelId: channel.id, channelName: channel.name } });
        return existing;
      });
      // Read after the transaction: on SQLite a read outside it would wait for it forever.
      return (await view([removed]))[0]!;
    },

    /** Every channel that follows releases, --notify-channel (the default) first. */
    async list(): Promise<SubscriptionView[]> {
      const own = await view(await listSubscriptions(deps.store.db));
      const notify = deps.notifyChannel
        ? [{ id: 'notify-channel', channel: deps.notifyChannel, channelId: null, rings: [], createdBy: 'server', source: '--notify-channel', createAt: 0, default: true }]
        : [];
      return [...notify, ...own];
    },
  };
}

export type SubscriptionService = ReturnType<typeof subscriptionService>;
