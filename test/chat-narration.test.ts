import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import { RAW_STATE, queuedReplies } from './helpers/thread-replies.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function runToEnd(chat: ChatHarness): Promise<void> {
  for (let i = 0; i < 500 && (await chat.advanceToNextDeadline()); i++);
  for (let i = 0; i < 100 && (await chat.server.outbox.backlog()) > 0; i++) await chat.advance(1000);
}

describe('the release thread, in words', () => {
  it('a release of 10 rings × 3 groups writes 2 + R × (G + 3) replies, each naming its ring, and no state names', async () => {
    h = await startChatHarness();
    const R = 10;
    const G = 3;
    const rings = [];
    for (let i = 1; i <= R; i++) rings.push(await h.ring(`ring-${String(i).padStart(2, '0')}`, i, { soak: 300, groups: G }));
    await h.settle();
    await h.slash('alice', `release --all-rings --image ${IMAGE} --version v2`);
    await runToEnd(h);
    expect(((await h.api('GET', '/rings')).body as Array<{ State: string }>).every((r) => r.State === 'stable')).toBe(true);

    const thread = h.thread();
    expect(thread).toEqual(await queuedReplies(h.server.store.db, (h.card()!.props as { elrond_rollout: string }).elrond_rollout));
    // The budget, exactly: requested and finished, then per ring started, each group rolled, soaking, done.
    expect(thread).toHaveLength(2 + R * (G + 3));
    expect(thread[0]).toMatch(/^🚀 alice started the release of `mattermost\/mattermost-enterprise-edition:v2` to 10 rings: \*\*ring-01\*\* → \*\*ring-02\*\*/);
    expect(thread.at(-1)).toMatch(/^🎉 @alice, the release of `mattermost\/mattermost-enterprise-edition:v2` is done: 10 rings in /);
    for (const [i, ring] of rings.entries()) {
      const name = `**ring-${String(i + 1).padStart(2, '0')}**`;
      const own = thread.filter((m) => m.includes(name) && !m.startsWith('🚀'));
      expect(own.map((m) => [...m][0])).toEqual(['▶️'[0], '✅', '✅', '✅', '🧪', '🏁']);
      for (const group of ring.groups) expect(own.some((m) => m.includes(`\`${group.name}\` is on \`v2\` — 2/2 installations`))).toBe(true);
    }
    expect(thread.join('\n')).not.toMatch(RAW_STATE);
    // One notification: the end, to the person who started it.
    expect(h.mm.notifications().map((n) => n.userId)).toEqual([h.users.alice]);
  }, 120_000);

  it('names, reasons and usernames from people are inert: no mention, no link, no image, one line', async () => {
    h = await startChatHarness();
    const ring = await h.ring('[prod](https://evil.example)', 1, { soak: 1 });
    await h.settle();
    const reason = 'ping @channel and @bob: [click](https://evil.example) ![x](https://evil.example/x.png) <https://evil.example>\nsecond line';
    await h.slash('alice', `release --ring ${ring.id} --image ${IMAGE} --version v2 --reason "${reason.replace('\n', '\\n')}"`);
    await h.api('POST', `/ring/${ring.id}/rollback`, {});
    await h.settle();
    h.provisioner.failNext('getGroup', 404);
    await runToEnd(h);
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v3', reason });
    await runToEnd(h);
    // Everything Mattermost renders as Markdown (the message; an attachment's title, text, field titles and values),
    // code spans aside (Markdown never links inside them).
    const markdown = h.mm
      .posts()
      .flatMap((p) => [p.message, ...((p.props as { attachments?: any[] }).attachments ?? []).flatMap((a) => [a.title, a.text, ...(a.fields ?? []).flatMap((f: any) => [f.title, f.value])])])
      .filter((text): text is string => typeof text === 'string')
      .map((text) => text.replace(/`[^`]*`/g, '``'));
    const everything = markdown.join('\n');
    expect(everything).not.toMatch(/(^|[^\\])\[click\]\(/);
    expect(everything).not.toMatch(/(^|[^\\])!\[x\]\(/);
    expect(everything).not.toMatch(/(^|[^\\])\[prod\]\(/);
    expect(everything).toMatch(/\\\[prod\\\]\(https\u200D:\/\/evil\.example\)/);
    for (const post of h.mm.posts()) expect(post.message).not.toContain('\n');
    expect(everything).toContain('ping @\u200Dchannel and @\u200Dbob: \\[click\\](https\u200D://evil.example) !\\[x\\](https\u200D://evil.example/x.png) \\<https\u200D://evil.example\\> second line');
    // Mattermost notified nobody of these (not bob, not the channel), and warned nobody about people outside it.
    expect(h.mm.notifications().filter((n) => n.userId !== h!.users.alice)).toEqual([]);
    expect(h.mm.outOfChannelMentions()).toEqual([]);
  });

  it('a failure mentions who started the release with the next step; approvers are mentioned, and with --approval-dm written to', async () => {
    h = await startChatHarness({ approvalDm: true, approvers: ['bob', 'dave'] });
    h.mm.removeChannelMember(h.channelId, h.users.dave);
    const canary = await h.ring('canary', 1, { soak: 60 });
    const production = await h.ring('production', 2, { soak: 60 });
    await h.api('POST', `/ring/${production.id}/update`, { approvalRequired: true });
    await h.settle();
    await h.slash('alice', `release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    await h.advance(2000);
    const card = h.card()!;
    expect(h.thread()[1]).toBe('✋ **production** needs approval from @bob and @dave before starting: Approve on the card.');
    // Each approver gets a direct message from the bot, linking the card.
    for (const name of ['bob', 'dave']) {
      const user = h.mm.notifications().find((n) => n.reason === 'dm' && h!.mm.user(n.userId)?.username === name);
      expect(user, name).toBeDefined();
      expect(h.mm.post(user!.postId)!.message).toBe(`✋ **production** needs your approval before starting: the release of \`mattermost/mattermost-enterprise-edition:v2\` started by alice. [Open the release card](${h.mm.url}/_redirect/pl/${card.id})`);
    }
    // bob is in the channel: mentioned there; dave is not: Mattermost would tell the bot so (the DM reached him).
    expect(h.mm.notifications(h.users.bob).map((n) => n.reason).sort()).toEqual(['dm', 'mention']);
    expect(h.mm.outOfChannelMentions().map((m) => m.usernames)).toEqual([['dave']]);

    // A failure: alice is told what happened and what she can do.
    h.provisioner.failNext('getGroup', 404);
    await h.press('bob', /^Approve production/, { postId: card.id });
    await runToEnd(h);
    expect((await h.getRing(canary.id)).State).toBe('stable');
    const failure = h.thread().find((m) => m.startsWith('❌'))!;
    expect(failure).toMatch(/^❌ \*\*production\*\* failed: group production-ig-0-2 failed: provisioner group \w+ not found \(404\)[^@]*\. @alice, next: Retry or Rollback on the card\.$/);
    expect(h.mm.notifications(h.users.alice).map((n) => h!.mm.post(n.postId)!.message)).toEqual([failure]);
  });

  it('a release started over the API mentions nobody: its starter is not a Mattermost user', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    h.provisioner.failNext('getGroup', 404);
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await runToEnd(h);
    expect(h.thread().find((m) => m.startsWith('❌'))).toMatch(/\. api, next: Retry or Rollback on the card\.$/);
    expect(h.thread()[0]).toMatch(/^🚀 api \(over the API\) started the release/);
    expect(h.mm.notifications()).toEqual([]);
  });

  it('a freeze pulled during a release, and lifted, is told in its thread with who and why', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 600 });
    await h.ring('production', 2, { soak: 600 });
    await h.settle();
    await h.slash('alice', `release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    await h.slash('carol', 'freeze now --reason "incident 1234" --until +2h');
    await h.settle();
    await h.advance(2000);
    expect(h.thread().at(-1)).toBe('🧊 carol froze releases until 14:00 UTC: incident 1234. **canary** and **production** hold until then.');
    const field = ((h.card()!.props as any).attachments[0].fields as Array<{ title: string; value: string }>).find((f) => f.title === 'production')!;
    expect(field.value).toBe('🟡 frozen until 14:00 UTC (incident 1234, by carol) · `v1` → `v2` · starts ~14:00 UTC, done ~14:15 UTC');
    const freezeId = ((await h.api('GET', '/freezes')).body as Array<{ id: string }>)[0]!.id;
    await h.slash('alice', `freeze delete --freeze ${freezeId}`);
    await h.settle();
    expect(h.thread().at(-1)).toBe('🌤️ alice lifted the freeze (incident 1234): releases may go on.');
  });

  it('a rollback is told as one: asked, each ring back on its release, over', async () => {
    h = await startChatHarness();
    const canary = await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await runToEnd(h);
    await h.slash('alice', `release --rollback --ring ${canary.id} --reason "error rate up"`);
    await runToEnd(h);
    const rollbackCard = h.cards().at(-1)!;
    const thread = h.mm.thread(rollbackCard.id).slice(1).map((p) => p.message);
    expect(thread[0]).toBe('↩️ alice asked to roll back **canary** to their previous release: error rate up.');
    expect(thread.slice(1, 3)).toEqual(['↩️ **canary** started rolling back to `v1`.', expect.stringMatching(/^↩️ \*\*canary\*\*: `canary-ig-0-1` is back on `v1` — 2\/2 installations in \d+s\.$/)]);
    expect(thread.at(-2)).toMatch(/^↩️ \*\*canary\*\* is back on `v1` after \d+s\.$/);
    expect(thread.at(-1)).toMatch(/^↩️ The rollback is over after \d+s: \*\*canary\*\* is back on their previous release\.$/);
  });
});
