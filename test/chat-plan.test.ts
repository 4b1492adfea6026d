import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Click the plan's Start as Mattermost would: POST the button's stored context to its integration URL. */
async function clickStart(chat: ChatHarness, reply: { body: string }, user: string) {
  const attachment = (JSON.parse(reply.body) as { attachments: Array<{ actions: Array<{ integration: { url: string; context: unknown } }> }> }).attachments[0]!;
  const { url, context } = attachment.actions[0]!.integration;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: user, user_name: 'spoofed', channel_id: chat.channelId, team_id: chat.teamId, post_id: 'ephemeralpostid', type: 'button', context }),
  });
  return (await response.json()) as { ephemeral_text?: string };
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
    const refused = await clickStart(h, plan, h.users.alice);
    expect(refused.ephemeral_text).toMatch(/Not started: .*ring canary is now on mattermost\/mattermost-enterprise-edition:v3/);
    const before = (await h.api('GET', '/rings')).body.map((r: { State: string }) => r.State);
    expect(before).toEqual(['stable', 'stable']);

    // carol may see a plan but not start a release.
    const fresh = await h.slash('carol', `ring release --all-rings --image ${IMAGE} --version v4 --plan`);
    expect((await clickStart(h, fresh, h.users.carol)).ephemeral_text).toMatch(/may not release/);
    const started = await clickStart(h, fresh, h.users.alice);
    expect(started.ephemeral_text).toMatch(/Release started for 2 ring/);
    await h.settle();
    expect(h.cards().length).toBeGreaterThan(0);
  });
});
