import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * Click the Start under the plan `user` was shown, as Mattermost does it: the plan is an ephemeral reply, so the
 * click carries the button's cookie and the context comes back re-marshalled from a Go map (keys sorted, float64).
 */
async function clickStart(chat: ChatHarness, user: 'alice' | 'carol') {
  const plan = chat.mm.ephemerals(chat.users[user]).filter((e) => e.source === 'slash').at(-1)!;
  const click = await chat.mm.clickEphemeralButton({ userId: chat.users[user], ephemeralId: plan.id, actionId: 'start' });
  expect(click.failed).toBe(false);
  return { ephemeral_text: click.ephemeralText };
}

describe('chat: plan, then Start', () => {
  it('shows the plan with a Start button, refuses Start when a ring changed, and starts from a fresh plan', async () => {
    h = await startChatHarness();
    const canary = await h.ring('canary', 1, { soak: 1 });
    await h.ring('production', 2, { soak: 1 });
    await h.settle();

    const plan = await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2 --plan`);
    expect(plan.ephemeral).toMatch(/nothing has been changed/);
    expect(plan.ephemeral).toMatch(/\| 1 \| canary \(p1\)/);
    expect(plan.ephemeral).toMatch(/\| 2 \| production \(p2\)/);
    expect(await h.events()).toHaveLength((await h.events()).length); // reading changes nothing

    // canary moves to v3 behind the plan's back: Start is refused, naming the difference.
    await h.api('POST', `/ring/${canary.id}/release`, { image: IMAGE, version: 'v3' });
    await h.settle();
    await h.advance(1000);
    const refused = await clickStart(h, 'alice');
    expect(refused.ephemeral_text).toMatch(/Not started: .*ring canary is now on mattermost\/mattermost-enterprise-edition:v3/);
    const before = (await h.api('GET', '/rings')).body.map((r: { State: string }) => r.State);
    expect(before).toEqual(['stable', 'stable']);

    // carol may see a plan but not start a release.
    const fresh = await h.slash('carol', `ring release --all-rings --image ${IMAGE} --version v4 --plan`);
    expect(fresh.ephemeral).toMatch(/nothing has been changed/);
    expect((await clickStart(h, 'carol')).ephemeral_text).toMatch(/may not release/);
    // A fresh plan of alice's starts (its env variables are a nested map Mattermost re-sorts: ZZZ comes back after AAA).
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v4 --env-variable ZZZ:1 --env-variable AAA:2 --plan`);
    const started = await clickStart(h, 'alice');
    expect(started.ephemeral_text).toMatch(/Release started for 2 ring/);
    await h.settle();
    expect(h.cards().length).toBeGreaterThan(0);
    expect(JSON.stringify(h.cards().at(-1)!.props)).toMatch(/AAA=2.*ZZZ=1|ZZZ=1.*AAA=2/);
  });
});
