import { ManualClock } from '../../src/model/clock.js';
import type { ServerConfig } from '../../src/config.js';
import { FakeMattermost } from '../fakes/fake-mattermost.js';
import { startHarness, type Harness, type HarnessOptions } from './harness.js';

export type ChatUser = 'alice' | 'bob' | 'carol' | 'dave';

export interface ChatHarness extends Harness {
  mm: FakeMattermost;
  channelId: string;
  teamId: string;
  users: Record<ChatUser, string>;
  /** Run `/elrond <text>` as a user in the release channel. */
  slash(user: ChatUser, text: string): ReturnType<FakeMattermost['runSlashCommand']>;
  /**
   * A user clicks a card button as people do: a privileged one (Approve, Force, Cancel, Rollback) opens a dialog,
   * which the user then submits (with `reason` when it asks for one). The click's result, and the submission's.
   */
  press(user: ChatUser, label: RegExp, options?: { postId?: string; reason?: string }): Promise<{ click: Awaited<ReturnType<FakeMattermost['clickButton']>>; submitted?: Awaited<ReturnType<FakeMattermost['submitDialog']>> }>;
  /** The release card (the bot's root post in the channel). */
  card(): ReturnType<FakeMattermost['posts']>[number] | undefined;
  thread(): string[];
  /** The id of the button whose label matches, on a card (default: the release channel's first card). */
  button(label: RegExp, postId?: string): string;
  /** Every bot root post (release card) in a channel (default: the release channel), oldest first. */
  cards(channelId?: string): ReturnType<FakeMattermost['posts']>;
  /** Labels of the buttons on a card (default: the release channel's first card). */
  buttons(postId?: string): string[];
  /** The stored (server-side) action of the button whose label matches, with its integration url and context. */
  storedAction(label: RegExp, postId?: string): { id: string; name: string; integration: { url: string; context: Record<string, unknown> } };
  /** POST straight to Elrond's `/mattermost/<path>` (as if Mattermost, or an attacker, sent it): status, content type and parsed body. */
  chatPost(path: 'command' | 'action' | 'dialog', body: string | Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; contentType: string; text: string; body: any }>;
  bot: { userId: string; token: string };
}

/**
 * Elrond wired to a fake Mattermost: team "release", channel "releases", the bot, alice (admin),
 * bob (approver), dave (releaser), carol (none: a viewer).
 */
export async function startChatHarness(config: Partial<ServerConfig> = {}, options: Omit<HarnessOptions, 'config' | 'clock'> = {}): Promise<ChatHarness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  const mm = new FakeMattermost({ now: () => clock.now() });
  const mmUrl = await mm.start();
  const team = mm.addTeam({ name: 'release' });
  const channel = mm.addChannel({ teamId: team.id, name: 'releases' });
  const bot = mm.addBot({ username: 'elrond-bot' });
  mm.addChannelMember(channel.id, bot.userId);
  // A team admin may register /elrond (a plain team member may not manage slash commands).
  mm.addTeamMember(team.id, bot.userId, { admin: true });
  const users = {
    alice: mm.addUser({ username: 'alice' }).id,
    bob: mm.addUser({ username: 'bob' }).id,
    carol: mm.addUser({ username: 'carol' }).id,
    dave: mm.addUser({ username: 'dave' }).id,
  };
  for (const id of Object.values(users)) mm.addChannelMember(channel.id, id);
  const h = await startHarness({
    ...options,
    clock,
    config: {
      mattermostUrl: mmUrl,
      mattermostToken: bot.token,
      mattermostTeams: ['release'],
      notifyChannel: 'release/releases',
      admins: ['alice'],
      releasers: ['dave'],
      approvers: ['bob'],
      ...config,
    },
  });
  const chat: ChatHarness = {
    ...h,
    mm,
    channelId: channel.id,
    teamId: team.id,
    users,
    slash: (user, text) => mm.runSlashCommand({ userId: users[user], channelId: channel.id, text }),
    async press(user, label, options = {}) {
      const postId = options.postId ?? chat.card()!.id;
      const dialogsBefore = mm.dialogs().length;
      const click = await mm.clickButton({ userId: users[user], postId, actionId: chat.button(label, postId) });
      const opened = mm.dialogs().slice(dialogsBefore).find((d) => d.userId === users[user]);
      if (!opened) return { click };
      const submitted = await mm.submitDialog({ userId: users[user], dialogId: opened.id, submission: options.reason === undefined ? {} : { reason: options.reason } });
      return { click, submitted };
    },
    card: () => mm.posts(channel.id).find((p) => p.user_id === bot.userId && !p.root_id),
    thread: () => {
      const card = chat.card();
      return card ? mm.thread(card.id).filter((p) => p.id !== card.id).map((p) => p.message) : [];
    },
    button: (label, postId) => {
      const card = postId ? mm.post(postId) : chat.card();
      const attachments = ((card?.props as { attachments?: Array<{ actions?: Array<{ id: string; name: string }> }> })?.attachments ?? []);
      const action = attachments.flatMap((a) => a.actions ?? []).find((a) => label.test(a.name));
      if (!action) throw new Error(`no button ${label} on the card: ${attachments.flatMap((a) => a.actions ?? []).map((a) => a.name).join(', ')}`);
      return action.id;
    },
    cards: (channelId = channel.id) => mm.posts(channelId).filter((p) => p.user_id === bot.userId && !p.root_id),
    buttons: (postId) => {
      const post = postId ? mm.post(postId) : chat.card();
      const attachments = ((post?.props as { attachments?: Array<{ actions?: Array<{ name: string }> }> })?.attachments ?? []);
      return attachments.flatMap((a) => a.actions ?? []).map((a) => a.name);
    },
    storedAction: (label, postId) => {
      const id = postId ?? chat.card()?.id;
      const post = id ? mm.storedPost(id) : undefined;
      const attachments = ((post?.props as { attachments?: Array<{ actions?: Array<{ id: string; name: string; integration: { url: string; context: Record<string, unknown> } }> }> })?.attachments ?? []);
      const action = attachments.flatMap((a) => a.actions ?? []).find((a) => label.test(a.name));
      if (!action) throw new Error(`no stored button ${label} on post ${id}`);
      return action;
    },
    async chatPost(path, body, headers = {}) {
      const form = typeof body === 'string';
      const response = await fetch(`${h.server.url}/mattermost/${path}`, {
        method: 'POST',
        headers: { 'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json', Accept: 'application/json', ...headers },
        body: form ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, body: parsed };
    },
    bot,
    async close() {
      await h.close();
      await mm.stop();
    },
  };
  return chat;
}
