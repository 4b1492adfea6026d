import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('chat-ops: a whole release from a channel', () => {
  it('registers /elrond, runs a release from chat with approval and force, and narrates it on a live card', async () => {
    h = await startChatHarness();
    expect(h.mm.commands(h.teamId).map((c) => c.trigger)).toEqual(['elrond']);

    const ring1 = await h.ring('canary', 1, { soak: 600 });
    const ring2 = await h.ring('production', 2, { soak: 600 });
    expect((await h.slash('alice', `ring update --ring ${ring2.id} --approval-required true`)).ephemeral).toMatch(/production/);
    await h.settle();

    const list = await h.slash('carol', 'ring list');
    expect(list.ephemeral).toMatch(/\| canary \|/);

    const started = await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    expect(started.failed).toBe(false);
    await h.settle();
    const card = h.card();
    expect(card).toBeDefined();
    await h.advance(2000);
    let text = JSON.stringify(h.card()!.props);
    expect(text).toMatch(/Release of mattermost\/mattermost-enterprise-edition:v2/);
    expect(text).toMatch(/Started by alice from chat/);
    expect(h.thread().some((m) => /canary/.test(m))).toBe(true);

    // canary rolled instantly and soaks 600 s; Force (admin, with a reason) ends its soak.
    const force = await h.mm.clickButton({ userId: h.users.alice, postId: card!.id, actionId: h.button(/^Force canary/) });
    expect(force.failed).toBe(false);
    const dialog = h.mm.dialogs().at(-1)!;
    const submitted = await h.mm.submitDialog({ userId: h.users.alice, dialogId: dialog.id, submission: { reason: 'hotfix for outage' } });
    expect(submitted.closed).toBe(true);
    await h.settle();
    expect((await h.api('GET', `/ring/${ring1.id}`)).body.State).toBe('stable');

    // production waits for approval; carol may not approve, bob may.
    await h.advance(2000);
    expect((await h.api('GET', `/ring/${ring2.id}`)).body.statusMessage).toMatch(/approval/);
    const refused = await h.mm.clickButton({ userId: h.users.carol, postId: card!.id, actionId: h.button(/^Approve production/) });
    expect(refused.ephemeralText).toMatch(/may not approve/);
    const approved = await h.press('bob', /^Approve production/, { postId: card!.id });
    expect(h.mm.dialogs().at(-1)!.dialog.title).toBe('Approve production');
    expect(approved.submitted?.closed).toBe(true);
    await h.settle();
    await h.advance(600_000);
    expect((await h.api('GET', `/ring/${ring2.id}`)).body.State).toBe('stable');
    await h.advance(2000);
    text = JSON.stringify(h.card()!.props);
    expect(text).toMatch(/"color":"good"/);
    expect(h.thread().join('\n')).toMatch(/alice forced \*\*canary\*\*: hotfix for outage/);
    expect(h.thread().join('\n')).toMatch(/bob approved \*\*production\*\*/);
  });
});
