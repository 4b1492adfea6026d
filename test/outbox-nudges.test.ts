/**
 * The outbox worker looks for deliveries after a supervisor pass only when something was queued since the last
 * look: a pass that queued nothing used to cost an outbox pass (three queries) every time (bench/, urgent).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { defaultServerConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createLogger } from '../src/logging.js';
import { FakeProvisioner } from './fakes/fake-provisioner.js';
import { WebhookTarget } from './fakes/webhook-target.js';
import { IMAGE } from './helpers/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves after the supervisor's next pass. */
const nextPass = (server: RunningServer) => new Promise<void>((resolve) => server.supervisor.loop.once('pass:done', () => resolve()));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

it('a supervisor pass that queued nothing starts no outbox pass; one that queued a delivery gets it delivered', async () => {
  const provisioner = new FakeProvisioner({ settleInstantly: true });
  const provisionerUrl = await provisioner.start();
  cleanups.push(() => provisioner.stop());
  const target = new WebhookTarget();
  await target.start();
  cleanups.push(() => target.stop());
  const dir = mkdtempSync(path.join(tmpdir(), 'elrond-outbox-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // poll 0: no backstop timer, so only nudges make the outbox look.
  const server = await startServer(
    { ...defaultServerConfig(), database: `sqlite://${path.join(dir, 'e.db')}`, listen: '127.0.0.1:0', poll: 0, provisionerServer: provisionerUrl, webhookAllowPrivate: true },
    { log: createLogger({ silent: true }) },
  );
  cleanups.push(() => server.close());
  const api = async (method: string, route: string, body: unknown) => {
    const response = await fetch(`${server.url}/api${route}`, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return response.status;
  };
  expect(await api('POST', '/webhooks', { OwnerID: 'release-team', URL: `${target.url}/hook` })).toBe(202);
  await server.outbox.loop.settle();

  let outboxPasses = 0;
  server.outbox.loop.on('pass:done', () => outboxPasses++);
  for (let i = 0; i < 5; i++) {
    const pass = nextPass(server);
    server.supervisor.nudge();
    await pass;
  }
  expect(outboxPasses).toBe(0);

  // The supervisor (not the request) records the ring's creation: its pass queued a delivery, and the outbox goes.
  expect(await api('POST', '/rings', { name: 'first', priority: 1, soakTime: 0, image: IMAGE, version: 'v1' })).toBe(202);
  await until(() => target.requests.some((request) => request.body.includes('"stable"')), 'the delivery of the ring becoming stable');
});
