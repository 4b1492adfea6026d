import mattermost from '@mattermost/client';
import type { Command } from '@mattermost/types/integrations';
import type { Post } from '@mattermost/types/posts';

const { Client4, ClientError } = mattermost;

export { ClientError };

/** The slash-command definition Elrond registers in each team. */
export interface CommandDefinition {
  trigger: string;
  url: string;
  display_name: string;
  description: string;
  auto_complete: boolean;
  auto_complete_desc: string;
  auto_complete_hint: string;
  username: string;
}

export interface DialogRequest {
  trigger_id: string;
  url: string;
  dialog: Record<string, unknown>;
}

/** `Client4` plus the one call it lacks (opening an interactive dialog). */
class ElrondClient4 extends Client4 {
  openDialog(request: DialogRequest): Promise<{ status: string }> {
    return this.doFetch<{ status: string }>(`${this.getBaseRoute()}/actions/dialogs/open`, { method: 'post', body: JSON.stringify(request) });
  }
}

/** The bot's view of Mattermost, through the real `@mattermost/client`. */
export interface MattermostApi {
  /** The server's URL (links to posts: `<url>/_redirect/pl/<post id>`). */
  readonly url: string;
  me(): Promise<{ id: string; username: string }>;
  team(nameOrId: string): Promise<{ id: string; name: string }>;
  channel(spec: string): Promise<{ id: string; name: string }>;
  /** A channel by `team/channel` or id, named as people type it (`team/channel`; a direct message: its name). */
  describeChannel(spec: string): Promise<{ id: string; name: string; type: string }>;
  userByUsername(username: string): Promise<{ id: string; username: string }>;
  /** `POST /channels/direct`: the direct message channel of two users (created when new). */
  directChannel(userIds: [string, string]): Promise<{ id: string }>;
  /** Whether a user is a member of a channel; false also when the caller may not even read the channel. */
  isChannelMember(channelId: string, userId: string): Promise<boolean>;
  username(userId: string): Promise<string>;
  customCommands(teamId: string): Promise<Command[]>;
  addCommand(teamId: string, command: CommandDefinition): Promise<Command>;
  editCommand(existing: Command, command: CommandDefinition): Promise<Command>;
  createPost(post: { channel_id: string; message: string; root_id?: string; props?: Record<string, unknown>; pending_post_id?: string }): Promise<Post>;
  /** `PUT /posts/{id}/patch`: only the fields given change (the card keeps its pin and reactions). */
  patchPost(patch: { id: string; message?: string; props?: Record<string, unknown> }): Promise<Post>;
  post(id: string): Promise<Post>;
  /** A thread's posts, root included. */
  thread(rootId: string): Promise<Post[]>;
  /** A channel's posts created or changed after `since` (ms), thread replies included. */
  postsSince(channelId: string, since: number): Promise<Post[]>;
  openDialog(request: DialogRequest): Promise<void>;
}

const ID = /^[a-z0-9]{26}$/;

export function createMattermostApi(options: { url: string; token: string }): MattermostApi {
  const client = new ElrondClient4();
  client.setUrl(options.url.replace(/\/+$/, ''));
  client.setToken(options.token);
  client.setIncludeCookies(false);
  const usernames = new Map<string, string>();

  async function team(nameOrId: string) {
    const found = ID.test(nameOrId) ? await client.getTeam(nameOrId).catch(() => client.getTeamByName(nameOrId)) : await client.getTeamByName(nameOrId);
    return { id: found.id, name: found.name };
  }

  return {
    url: options.url.replace(/\/+$/, ''),
    async me() {
      const user = await client.getMe();
      return { id: user.id, username: user.username };
    },
    team,
    /** `team-name/channel-name`, or a channel id. */
    async channel(spec) {
      const at = spec.indexOf('/');
      if (at < 0) {
        const channel = await client.getChannel(spec);
        return { id: channel.id, name: channel.name };
      }
      const channel = await client.getChannelByNameAndTeamName(spec.slice(0, at), spec.slice(at + 1));
      return { id: channel.id, name: channel.name };
    },
    async describeChannel(spec) {
      const at = spec.indexOf('/');
      const channel = at < 0 ? await client.getChannel(spec) : await client.getChannelByNameAndTeamName(spec.slice(0, at), spec.slice(at + 1));
      if (!channel.team_id) return { id: channel.id, name: channel.name, type: channel.type };
      const owner = at < 0 ? (await client.getTeam(channel.team_id)).name : spec.slice(0, at);
      return { id: channel.id, name: `${owner}/${channel.name}`, type: channel.type };
    },
    async userByUsername(username) {
      const user = await client.getUserByUsername(username);
      return { id: user.id, username: user.username };
    },
    async directChannel(userIds) {
      const channel = await client.createDirectChannel(userIds);
      return { id: channel.id };
    },
    async isChannelMember(channelId, userId) {
      try {
        await client.getChannelMember(channelId, userId);
        return true;
      } catch (error) {
        const status = (error as { status_code?: number }).status_code;
        if (status === 403 || status === 404) return false;
        throw error;
      }
    },
    async username(userId) {
      const cached = usernames.get(userId);
      if (cached) return cached;
      // Only an id, and encoded: Client4 puts it in the path as given, so `username/<name>` would look up a name.
      if (!ID.test(userId)) throw new Error(`not a Mattermost user id: ${JSON.stringify(userId.slice(0, 40))}`);
      const user = await client.getUser(encodeURIComponent(userId));
      usernames.set(userId, user.username);
      return user.username;
    },
    customCommands: (teamId) => client.getCustomTeamCommands(teamId),
    addCommand: (teamId, command) => client.addCommand({ ...command, team_id: teamId, method: 'P' } as Command),
    editCommand: (existing, command) => client.editCommand({ ...existing, ...command, method: 'P' }),
    createPost: (post) => client.createPost(post as Post),
    patchPost: (patch) => client.patchPost(patch),
    post: (id) => client.getPost(id),
    async thread(rootId) {
      // The whole thread: without fetchAll the client asks for one page of 60.
      const list = await client.getPaginatedPostThread(rootId, { fetchThreads: false, fetchAll: true });
      return list.order.map((id) => list.posts[id]).filter((p): p is Post => p !== undefined);
    },
    async postsSince(channelId, since) {
      const list = await client.getPostsSince(channelId, since, false);
      return list.order.map((id) => list.posts[id]).filter((p): p is Post => p !== undefined);
    },
    async openDialog(request) {
      await client.openDialog(request);
    },
  };
}
