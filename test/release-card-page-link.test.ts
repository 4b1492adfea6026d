import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const attachment = (chat: ChatHarness) => (chat.card()!.props as { attachments: Array<{ text: string; footer: string }> }).attachments[0]!;

async function releaseAndDeliver(chat: ChatHarness): Promise<string> {
  await chat.ring('canary', 1);
  await chat.settle();
  const started = await chat.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
  expect(started.status).toBe(202);
  await chat.settle();
  await chat.advance(2500);
  const rollouts = (await chat.api('GET', '/events?limit=50')).body as Array<{ rolloutId: string | null }>;
  return rollouts.find((e) => e.rolloutId)!.rolloutId!;
}

describe('release cards and the status page', () => {
  it('link to their rollout\'s page under --public-url, and say in the footer when the provisioner is simulated', async () => {
    h = await startChatHarness({ provisionerServer: 'sim://?rollout=1s&installations=2&jitter=0&seed=3', publicUrl: 'https://elrond.example.com/' });
    const rolloutId = await releaseAndDeliver(h);
    const card = attachment(h);
    expect(card.text).toContain(`[Rollout page](https://elrond.example.com/rollouts/${rolloutId})`);
    expect(card.footer).toBe(`Elrond · rollout ${rolloutId} · simulated provisioner`);
    // The link's path is the rollout's page on this server.
    const page = await fetch(`${h.server.url}/rollouts/${rolloutId}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`Release of ${IMAGE}:v2`);
  });

  it('say nothing about simulation on a real provisioner', async () => {
    h = await startChatHarness({ publicUrl: 'https://elrond.example.com' });
    const rolloutId = await releaseAndDeliver(h);
    expect(attachment(h).footer).toBe(`Elrond · rollout ${rolloutId}`);
    expect(attachment(h).text).toContain(`[Rollout page](https://elrond.example.com/rollouts/${rolloutId})`);
  });
});
