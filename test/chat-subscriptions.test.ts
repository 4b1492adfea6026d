import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import { queuedReplies } from './helpers/thread-replies.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A channel in the release team with the bot, alice and carol in it. */
function channel(chat: ChatHarness, name: string, members: Array<'alice' | 'bob' | 'carol'> = ['alice', 'carol'], bot = true) {
  const created = chat.mm.addChannel({ teamId: chat.teamId, name });
  if (bot) chat.mm.addChannelMember(created.id, chat.bot.userId);
  for (const user of members) chat.mm.addChannelMember(created.id, chat.users[user]);
  return created;
}

const slashIn = (chat: ChatHarness, user: 'alice' | 'bob' | 'carol', channelId: string, text: string) => chat.mm.runSlashCommand({ userId: chat.users[user], channelId, text });

async function runToEnd(chat: ChatHarness): Promise<void> {
  for (let i = 0; i < 50 && (await chat.advanceToNextDeadline()); i++);
  for (let i = 0; i < 100 && (await chat.server.outbox.backlog()) > 0; i++) await chat.advance(1000);
}

const rolloutOf = (post: { props: unknown }) => (post.props as { elrond_rollout: string }).elrond_rollout;

describe('channel subscriptions', () => {
  it('a channel that subscribes gets every release card and its thread; mentions stay in the release\'s own thread', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 60 });
    await h.ring('production', 2, { soak: 60 });
    await h.settle();
    const ops = channel(h, 'ops');
    // Anyone may subscribe the channel they are in; the channel is the current one.
    const subscribed = await slashIn(h, 'carol', ops.id, 'subscribe');
    expect(subscribed.ephemeral).toBe('release/ops follows releases of every ring: each gets its card and thread there.');

    // Started from the release channel: its card there, and one in ops.
    await h.slash('alice', `release --all-rings --image ${IMAGE} --version v2`);
    await runToEnd(h);
    const [home] = h.cards();
    const [follower] = h.cards(ops.id);
    expect(home).toBeDefined();
    expect(follower).toBeDefined();
    expect(rolloutOf(follower!)).toBe(rolloutOf(home!));
    expect(JSON.stringify(follower!.props)).toMatch(/"color":"good"/);
    expect(h.mm.posts(ops.id).filter((p) => !p.root_id)).toHaveLength(1);

    // The same milestones in both threads, each once, in order; only the release's own thread mentions alice.
    const rollout = rolloutOf(home!);
    const homeThread = h.mm.thread(home!.id).slice(1).map((p) => p.message);
    const opsThread = h.mm.thread(follower!.id).slice(1).map((p) => p.message);
    expect(homeThread).toEqual(await queuedReplies(h.server.store.db, rollout));
    expect(opsThread).toEqual(await queuedReplies(h.server.store.db, rollout, ops.id));
    expect(opsThread).toHaveLength(homeThread.length);
    expect(homeThread.at(-1)).toMatch(/^🎉 @alice, the release/);
    expect(opsThread.at(-1)).toMatch(/^🎉 alice, the release/);
    expect(h.mm.notifications(h.users.alice)).toHaveLength(1);
    expect(h.mm.notifications(h.users.alice)[0]!.channelId).toBe(h.channelId);
  });

  it('a subscription to some rings hears only about them (and the release as a whole), from the first event about them', async () => {
    h = await startChatHarness();
    const canary = await h.ring('canary', 1, { soak: 60 });
    const production = await h.ring('production', 2, { soak: 60 });
    await h.settle();
    const prod = channel(h, 'prod-watch');
    const reply = await slashIn(h, 'alice', prod.id, `subscribe --ring ${production.id}`);
    expect(reply.ephemeral).toBe('release/prod-watch follows releases of production: each gets its card and thread there.');

    // A release of canary alone: nothing in prod-watch.
    expect((await h.api('POST', `/ring/${canary.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
    await runToEnd(h);
    expect(h.cards(prod.id)).toEqual([]);

    // Every ring: prod-watch gets the card, and only production's milestones and the release's own.
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v3' })).status).toBe(202);
    await runToEnd(h);
    const [card] = h.cards(prod.id);
    expect(card).toBeDefined();
    const thread = h.mm.thread(card!.id).slice(1).map((p) => p.message);
    expect(thread.some((m) => m.includes('**production**'))).toBe(true);
    expect(thread.filter((m) => m.includes('**canary**') && !m.startsWith('🚀'))).toEqual([]);
    expect(thread[0]).toMatch(/^🚀 .* started the release of/);
    expect(thread.at(-1)).toMatch(/^🎉 The release of/);
  });

  it('only admins subscribe another channel; the bot must be in it; unsubscribing stops the cards there', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    const ops = channel(h, 'ops');
    const empty = channel(h, 'no-bot', ['alice'], false);

    // carol (not an admin) may not subscribe ops from the release channel; alice may.
    const refused = await h.slash('carol', 'subscribe --channel release/ops');
    expect(refused.ephemeral).toMatch(/^⚠️ @carol may not subscribe a named channel: ask an Elrond admin \(@alice\)$/);
    expect((await h.api('GET', '/subscriptions')).body.map((s: { channel: string }) => s.channel)).toEqual(['release/releases']);
    expect((await h.slash('alice', 'subscribe --channel release/ops')).ephemeral).toMatch(/^release\/ops follows releases of every ring/);

    // A channel the bot is not in could never have its card updated: refused, with the fix.
    const noBot = await slashIn(h, 'alice', empty.id, 'subscribe');
    expect(noBot.ephemeral).toMatch(/@elrond-bot is not a member of release\/no-bot, so it could not keep release cards there up to date: add it with \/invite @elrond-bot/);
    // A channel that does not exist.
    expect((await h.slash('alice', 'subscribe --channel release/nope')).ephemeral).toMatch(/cannot see channel release\/nope/);

    const list = await h.slash('carol', 'subscriptions');
    expect(list.ephemeral).toMatch(/\| release\/releases \(--notify-channel: releases not started from chat\) \| every ring \| server \|/);
    expect(list.ephemeral).toMatch(/\| release\/ops \| every ring \| alice \|/);

    // Subscribing again changes the rings; carol may unsubscribe the channel she is in.
    expect((await slashIn(h, 'carol', ops.id, 'unsubscribe')).ephemeral).toBe('release/ops no longer follows releases.');
    expect((await slashIn(h, 'carol', ops.id, 'unsubscribe')).ephemeral).toMatch(/release\/ops does not follow releases: nothing to unsubscribe/);
    expect((await h.slash('carol', 'unsubscribe')).ephemeral).toMatch(/release\/releases is --notify-channel, where releases not started from chat always go/);
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await runToEnd(h);
    expect(h.cards(ops.id)).toEqual([]);
    expect(h.cards()).toHaveLength(1);
    // Each change is in the history.
    expect((await h.events()).filter((e) => e.kind.startsWith('subscription.')).map((e) => e.message)).toEqual([
      'channel release/ops no longer follows releases (unsubscribed by carol)',
      'channel release/ops follows every release (subscribed by alice)',
    ]);
  });

  it('over REST (the CLI) the channel is named; a missing one is a 400 saying how to name it', async () => {
    h = await startChatHarness();
    const canary = await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    channel(h, 'ops');
    const missing = await h.api('POST', '/subscriptions', { rings: [canary.id] });
    expect(missing).toEqual({ status: 400, body: { error: 'channel: is required: name the channel: --channel team-name/channel-name, or "channel": "team-name/channel-name" (in chat it defaults to the current channel)' } });
    const unknownRing = await h.api('POST', '/subscriptions', { channel: 'release/ops', rings: ['nosuchring'] });
    expect(unknownRing.status).toBe(404);
    const created = await h.api('POST', '/subscriptions', { channel: 'release/ops', rings: [canary.id] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ channel: 'release/ops', rings: [{ id: canary.id, name: 'canary' }], createdBy: 'api', source: 'api', default: false, replaced: false });
    const replaced = await h.api('POST', '/subscriptions', { channel: 'release/ops' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ rings: [], replaced: true });
    const list = await h.api('GET', '/subscriptions');
    expect(list.body.map((s: { channel: string; default: boolean }) => [s.channel, s.default])).toEqual([
      ['release/releases', true],
      ['release/ops', false],
    ]);
    expect((await h.api('DELETE', '/subscriptions?channel=release%2Fops')).status).toBe(200);
    expect((await h.api('DELETE', '/subscriptions?channel=release%2Fops')).status).toBe(404);
  });

  it('a channel that subscribes during a release gets its card at the next milestone', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 600 });
    await h.ring('production', 2, { soak: 600 });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    const late = channel(h, 'late');
    await slashIn(h, 'carol', late.id, 'subscribe');
    await runToEnd(h);
    const [card] = h.cards(late.id);
    expect(card).toBeDefined();
    expect(JSON.stringify(card!.props)).toMatch(/"color":"good"/);
    expect(h.mm.thread(card!.id).slice(1).map((p) => p.message)[0]).toMatch(/^🏁 \*\*canary\*\* is on `v2`/);
  });
});
