import type { Logger } from 'pino';
import type { MattermostApi } from './mattermost-client.js';

/** Where a rollout started from a channel gets its card, and what to tell the person who started it. */
export interface CardPlacement {
  /** The channel the card goes to; undefined: --notify-channel (or no card when there is none). */
  channelId: string | undefined;
  /** Said in the reply when the card does not go to the channel the release was started from. */
  note?: string;
}

export type PlaceCard = (channelId: string | undefined) => Promise<CardPlacement>;

const MEMBERSHIP_TTL_MS = 60_000;

/** `team/channel` → `~channel`, as people type it; a channel id stays as it is. */
function channelMention(spec: string): string {
  const at = spec.lastIndexOf('/');
  return at < 0 ? spec : `~${spec.slice(at + 1)}`;
}

/**
 * Decide where a card goes before the release starts, so the reply can say so. The bot keeps a card up to date by
 * editing it, which needs channel membership (edit_post); in a channel it is not a member of (a direct message, a
 * private channel, a public one it was never added to) the card goes to --notify-channel instead. Membership is
 * remembered for a minute per channel; when Mattermost cannot be asked, the card stays in the channel (its delivery
 * falls back to --notify-channel if Mattermost then refuses it).
 */
export function cardPlacement(options: { api: MattermostApi; bot: () => Promise<{ id: string; username: string }>; notifyChannel: string; now: () => number; log: Logger }): PlaceCard {
  const known = new Map<string, { member: boolean; at: number }>();
  return async (channelId) => {
    if (!channelId) return { channelId: undefined };
    let entry = known.get(channelId);
    let bot: { id: string; username: string };
    try {
      bot = await options.bot();
      if (!entry || options.now() - entry.at >= MEMBERSHIP_TTL_MS) {
        entry = { member: await options.api.isChannelMember(channelId, bot.id), at: options.now() };
        known.set(channelId, entry);
      }
    } catch (error) {
      options.log.warn({ err: error, channel: channelId }, 'could not check whether the bot is a member of the channel; its release card goes there');
      return { channelId };
    }
    if (entry.member) return { channelId };
    const invite = `/invite @${bot.username}`;
    if (!options.notifyChannel) {
      return { channelId: undefined, note: `⚠️ No release card for this: @${bot.username} is not a member of this channel and no --notify-channel is set. Add it here with \`${invite}\` (or set --notify-channel) to get cards.` };
    }
    return {
      channelId: undefined,
      note: `ℹ️ Its release card goes to ${channelMention(options.notifyChannel)} (--notify-channel): @${bot.username} is not a member of this channel, so it could not keep a card here up to date. To get cards here, add it with \`${invite}\`.`,
    };
  };
}
