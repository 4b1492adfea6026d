import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { runCli } from '../src/cli/run-cli.js';
import { serve } from '../src/cli/serve.js';

let h: Harness | ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** canary, then production (approval required), released to v2 and run until production waits for its approval. */
async function waitingForApproval(harness: Harness) {
  const canary = await harness.ring('canary', 1);
  const production = await harness.ring('production', 2);
  expect((await harness.api('POST', `/ring/${production.id}/update`, { approvalRequired: true })).status).toBe(202);
  await harness.settle();
  expect((await harness.api('POST', '/rings/release', { image: IMAGE, version: 'v2', reason: 'monthly' })).status).toBe(202);
  for (let i = 0; i < 20 && (await harness.getRing(canary.id)).State !== 'stable'; i++) await harness.advanceToNextDeadline();
  await harness.settle();
  return { canary, production };
}

async function cli(harness: Harness, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli([...argv, '--server', harness.server.url], { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {}, serve });
  return { code, out, err };
}

describe('elrond ring approve', () => {
  it('approves a ring waiting for approval from the CLI, over POST /api/ring/{id}/approve, recorded like the card button', async () => {
    h = await startHarness();
    const { production } = await waitingForApproval(h);
    expect((await h.getRing(production.id)).State).toBe('release-pending');
    const why = await h.api('GET', `/ring/${production.id}/why`);
    expect(JSON.stringify(why.body)).toMatch(/approval/);

    const approved = await cli(h, ['ring', 'approve', '--ring', production.id]);
    expect(approved.err).toBe('');
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.out)).toMatchObject({ ID: production.id, Name: 'production', State: 'release-pending' });
    const event = (await h.events(production.id)).find((e) => e.kind === 'ring.approved');
    expect(event).toMatchObject({ message: expect.stringMatching(/^ring production approved by \S+ \(unverified\)$/) });

    // The release then goes on: the ring starts and ends on v2.
    for (let i = 0; i < 20 && (await h.getRing(production.id)).State !== 'stable'; i++) await h.advanceToNextDeadline();
    expect((await h.getRing(production.id)).ActiveReleaseID).toBe((await h.getRing(production.id)).DesiredReleaseID);
    // A second approval is a no-op (200), and a ring that is not waiting is refused with a 409 naming its state.
    const again = await cli(h, ['ring', 'approve', '--ring', production.id]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^elrond: 409 ring production is stable: only a ring waiting to start can be approved/);
  });

  it('refuses an unknown ring (404) and a missing --ring (usage, exit 2)', async () => {
    h = await startHarness();
    expect((await h.api('POST', '/ring/00000000000000000000000000/approve')).status).toBe(404);
    const missing = await cli(h, ['ring', 'approve']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/required option '--ring <id>' not specified/);
  });

  it('is in the /elrond grammar too, with the card button\'s rules: approvers only, never the one who started the release', async () => {
    const chat = await startChatHarness();
    h = chat;
    const production = await chat.ring('production', 1);
    expect((await chat.api('POST', `/ring/${production.id}/update`, { approvalRequired: true })).status).toBe(202);
    await chat.settle();
    await chat.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await chat.settle();
    expect((await chat.slash('carol', `ring approve --ring ${production.id}`)).ephemeral).toMatch(/may not approve/);
    expect((await chat.slash('alice', `ring approve --ring ${production.id}`)).ephemeral).toMatch(/started this release and may not approve it/);
    expect((await chat.getRing(production.id)).State).toBe('release-pending');
    const bob = await chat.slash('bob', `ring approve --ring ${production.id}`);
    expect(bob.ephemeral).toMatch(/"Name": "production"/);
    expect((await chat.events(production.id)).some((e) => e.kind === 'ring.approved' && e.message === 'ring production approved by bob')).toBe(true);
  });
});
