import { describe, it, expect, afterEach } from 'vitest';
import pino from 'pino';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import { tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { insertRollout, findRollout, setRolloutPost } from '../src/store/rollouts.js';
import { getOrCreateRelease } from '../src/store/releases.js';
import { relocateCard, cardAbandoned } from '../src/chat/card-relocation.js';

let h: ChatHarness | undefined;
let temp: TempDatabase | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await temp?.cleanup();
  temp = undefined;
});

/** Run every ring to rest and deliver everything; the outbox must end empty (nothing left retrying). */
async function runToEnd(chat: ChatHarness): Promise<void> {
  for (let i = 0; i < 50 && (await chat.advanceToNextDeadline()); i++);
  for (let i = 0; i < 100 && (await chat.server.outbox.backlog()) > 0; i++) await chat.advance(5000);
  expect(await chat.server.outbox.backlog()).toBe(0);
}

const cardOf = (chat: ChatHarness, channelId: string) => chat.cards(channelId)[0];

describe('release cards where the bot cannot edit', () => {
  it('a release started in a private channel or a direct message without the bot: the reply says its card goes to --notify-channel, where it lives', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 60 });
    await h.ring('production', 2, { soak: 60 });
    await h.settle();
    const secret = h.mm.addChannel({ teamId: h.teamId, name: 'secret', type: 'P' });
    h.mm.addChannelMember(secret.id, h.users.alice);
    const started = await h.mm.runSlashCommand({ userId: h.users.alice, channelId: secret.id, text: `ring release --all-rings --image ${IMAGE} --version v2` });
    expect(started.failed).toBe(false);
    expect(started.ephemeral).toMatch(/release-pending/);
    expect(started.ephemeral).toMatch(/release card goes to ~releases \(--notify-channel\): @elrond-bot is not a member of this channel.*\/invite @elrond-bot/);
    await runToEnd(h);
    expect(h.mm.posts(secret.id)).toEqual([]);
    expect(h.mm.requests.filter((r) => r.method === 'POST' && r.path === '/api/v4/posts' && (r.body as { channel_id?: string }).channel_id === secret.id)).toEqual([]);
    expect(h.cards()).toHaveLength(1);
    expect(JSON.stringify(cardOf(h, h.channelId)!.props)).toMatch(/"color":"good"/);
    expect(h.thread().length).toBeGreaterThan(4);

    // A direct message between alice and carol: the same, and a plan's Start says so too.
    const dm = h.mm.addDirectChannel(h.users.alice, h.users.carol);
    const plan = await h.mm.runSlashCommand({ userId: h.users.alice, channelId: dm.id, teamId: h.teamId, text: `ring release --all-rings --image ${IMAGE} --version v3 --plan` });
    expect(plan.failed).toBe(false);
    const shown = h.mm.ephemerals(h.users.alice).filter((e) => e.source === 'slash').at(-1)!;
    const click = await h.mm.clickEphemeralButton({ userId: h.users.alice, ephemeralId: shown.id, actionId: 'start' });
    expect(click.ephemeralText).toMatch(/Release started for 2 ring[\s\S]*release card goes to ~releases/);
    await runToEnd(h);
    expect(h.mm.posts(dm.id)).toEqual([]);
    expect(h.cards()).toHaveLength(2);
  });

  it('with no --notify-channel the reply says there will be no card, and nothing is queued for one', async () => {
    h = await startChatHarness({ notifyChannel: '' });
    await h.ring('canary', 1, { soak: 60 });
    await h.settle();
    const secret = h.mm.addChannel({ teamId: h.teamId, name: 'secret', type: 'P' });
    h.mm.addChannelMember(secret.id, h.users.alice);
    const started = await h.mm.runSlashCommand({ userId: h.users.alice, channelId: secret.id, text: `ring release --all-rings --image ${IMAGE} --version v2` });
    expect(started.ephemeral).toMatch(/No release card for this: @elrond-bot is not a member of this channel and no --notify-channel is set/);
    await runToEnd(h);
    expect(h.mm.posts().filter((p) => p.user_id === h!.bot.userId)).toEqual([]);
  });

  it('a card deleted in the middle of a release moves once to --notify-channel and its thread goes on there', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 600 });
    await h.ring('production', 2, { soak: 600 });
    await h.settle();
    const ops = h.mm.addChannel({ teamId: h.teamId, name: 'ops' });
    h.mm.addChannelMember(ops.id, h.bot.userId);
    h.mm.addChannelMember(ops.id, h.users.alice);
    await h.mm.runSlashCommand({ userId: h.users.alice, channelId: ops.id, text: `ring release --all-rings --image ${IMAGE} --version v2` });
    await h.settle();
    await h.advance(2000);
    const first = cardOf(h, ops.id)!;
    // Someone deletes the card (a system admin may delete anyone's post).
    const admin = h.mm.addUser({ username: 'root', isAdmin: true });
    const token = h.mm.createToken(admin.id);
    expect((await fetch(`${h.mm.url}/api/v4/posts/${first.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

    await runToEnd(h);
    expect(h.cards(ops.id)).toEqual([]);
    const moved = cardOf(h, h.channelId)!;
    expect(JSON.stringify(moved.props)).toMatch(/"color":"good"/);
    const replies = h.thread();
    expect(replies[0]).toMatch(/^↪️ This card was meant for another channel, where Mattermost refused it \((403 api.context.permissions.app_error|400 api.post.create_post.root_id.app_error)\)/);
    expect(replies).toContain('🏁 **production** is on `v2` after 10m.');
    expect(h.cards()).toHaveLength(1);
  });

  it('a bot removed from the only channel it could use: the card is given up, nothing keeps retrying', async () => {
    h = await startChatHarness({ notifyChannel: '' });
    await h.ring('canary', 1, { soak: 600 });
    await h.ring('production', 2, { soak: 600 });
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    await h.advance(2000);
    expect(h.card()).toBeDefined();
    h.mm.removeChannelMember(h.channelId, h.bot.userId);
    await runToEnd(h);
    expect((await h.api('GET', '/rings')).body.map((r: { State: string }) => r.State)).toEqual(['stable', 'stable']);
    // Once given up, the rest of the release costs Mattermost nothing.
    const before = h.mm.requests.length;
    await h.ring('later', 3, { soak: 1 });
    await h.advance(60_000);
    expect(h.mm.requests.slice(before).filter((r) => r.path.startsWith('/api/v4/posts'))).toEqual([]);
  });
});

describe('relocateCard', () => {
  it('moves a card once to --notify-channel, then gives it up, each with one log line naming the fix', async () => {
    temp = await tempDatabase('sqlite');
    const db = temp.store.db;
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const release = await getOrCreateRelease(db, { image: IMAGE, version: 'v2', envVariables: null, force: false }, 1);
    const created = await insertRollout(db, { releaseId: release.id, kind: 'release', allRings: true, actor: { name: 'alice', source: 'chat', channelId: 'privatechannel' }, now: 1 });
    await setRolloutPost(db, created.id, 'cardpost');
    const rollout = (await findRollout(db, created.id))!;
    const refusal = { status_code: 403, server_error_id: 'api.context.permissions.app_error' };

    expect(await relocateCard(db, log, { rollout, channelId: 'privatechannel', notifyChannelId: 'notifychannel', notifyChannel: 'release/releases', doing: 'edit the release card', error: refusal })).toBe('moved');
    expect(await findRollout(db, created.id)).toMatchObject({ channelId: 'notifychannel', postId: null });
    // A second delivery that read the rollout before the move does not move it again.
    expect(await relocateCard(db, log, { rollout, channelId: 'privatechannel', notifyChannelId: 'notifychannel', notifyChannel: 'release/releases', doing: 'edit the release card', error: refusal })).toBe('raced');
    const there = (await findRollout(db, created.id))!;
    expect(await relocateCard(db, log, { rollout: there, channelId: 'notifychannel', notifyChannelId: 'notifychannel', notifyChannel: 'release/releases', doing: 'post the release card', error: refusal })).toBe('abandoned');
    expect(await cardAbandoned(db, created.id)).toBe(true);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, expect.stringMatching(/refused to edit the release card in channel privatechannel \(403 api.context.permissions.app_error\); the card moves to --notify-channel release\/releases\. To keep cards in that channel, add the bot to it\./)],
      [50, expect.stringMatching(/refused to post the release card in channel notifychannel .* its card and thread are dropped \(the release itself goes on\)\. Fix: add the bot to that channel and to --notify-channel release\/releases\./)],
    ]);
  });
});
