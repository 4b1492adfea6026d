import { ManualClock } from '../../src/model/clock.js';
import type { ServerConfig } from '../../src/config.js';
import { FakeMattermost } from '../fakes/fake-mattermost.js';
import { startHarness, type Harness } from './harness.js';

export interface ChatHarness extends Harness {
  mm: FakeMattermost;
  channelId: string;
  teamId: string;
  users: Record<'alice' | 'bob' | 'carol', string>;
  /** Run `/elrond <text>` as a user in the release channel. */
  slash(user: 'alice' | 'bob' | 'carol', text: string): ReturnType<FakeMattermost['runSlashCommand']>;
  /** The release card (the bot's root post in the channel). */
  card(): ReturnType<FakeMattermost['posts']>[number] | undefined;
  thread(): string[];
  button(label: RegExp): string;
}

/**
 * Elrond wired to a fake Mattermost: team "release", channel "releases", the bot, alice (admin),
 * bob (approver), carol (neither).
 */
export async function startChatHarness(config: Partial<ServerConfig> = {}): Promise<ChatHarness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  const mm = new FakeMattermost({ now: () => clock.now() });
  const mmUrl = await mm.start();
  const team = mm.addTeam({ name: 'release' });
  const channel = mm.addChannel({ teamId: team.id, name: 'releases' });
  const bot = mm.addBot({ username: 'elrond-bot' });
  mm.addChannelMember(channel.id, bot.userId);
  const users = {
    alice: mm.addUser({ username: 'alice' }).id,
    bob: mm.addUser({ username: 'bob' }).id,
    carol: mm.addUser({ username: 'carol' }).id,
  };
  for (const id of Object.values(users)) mm.addChannelMember(channel.id, id);
  const h = await startHarness({
    clock,
    config: {
      mattermostUrl: mmUrl,
      mattermostToken: bot.token,
      mattermostTeams: ['release'],
      notifyChannel: 'release/releases',
      admins: ['alice'],
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
    card: () => mm.posts(channel.id).find((p) => p.user_id === bot.userId && !p.root_id),
    thread: () => {
      const card = chat.card();
      return card ? mm.thread(card.id).filter((p) => p.id !== card.id).map((p) => p.message) : [];
    },
    button: (label) => {
      const card = chat.card();
      const attachments = ((card?.props as { attachments?: Array<{ actions?: Array<{ id: string; name: string }> }> })?.attachments ?? []);
      const action = attachments.flatMap((a) => a.actions ?? []).find((a) => label.test(a.name));
      if (!action) throw new Error(`no button ${label} on the card: ${attachments.flatMap((a) => a.actions ?? []).map((a) => a.name).join(', ')}`);
      return action.id;
    },
    async close() {
      await h.close();
      await mm.stop();
    },
  };
  return chat;
}
