import type { ChannelDirectory } from '../service/subscriptions.js';
import type { MattermostApi } from './mattermost-client.js';
import { notFound } from '../model/errors.js';
import { cannotPostThere } from './card-relocation.js';

/** The channels a subscription names, looked up with the bot's token. */
export function mattermostChannelDirectory(api: MattermostApi, bot: () => Promise<{ id: string; username: string }>): ChannelDirectory {
  return {
    async find(spec) {
      try {
        const channel = await api.describeChannel(spec);
        return { id: channel.id, name: channel.name };
      } catch (error) {
        if (!cannotPostThere(error)) throw error;
        const { username } = await bot();
        throw notFound(
          `@${username} cannot see channel ${spec} (it does not exist, or it is private or a direct message the bot is not in): add the bot there with /invite @${username}, or name a channel as team-name/channel-name`,
        );
      }
    },
    async botCanKeepCards(channelId) {
      const { id, username } = await bot();
      return { ok: await api.isChannelMember(channelId, id), bot: username };
    },
  };
}
