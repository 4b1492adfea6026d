/**
 * Issue 13 items 5 and 6 against real `elrond server` processes: webhook targets may not be internal addresses
 * (in any spelling, or behind a name that resolves inside), and one hostile target (slow, huge, redirecting,
 * failing by the hundred) never holds up another target or another sink.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServerProcess, stopAllServerProcesses, waitFor, freePort, type ServerProcess } from './helpers/processes.js';
import { tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { DEFAULT_DIALECT, IMAGE } from './helpers/harness.js';
import { FakeProvisioner } from './fakes/fake-provisioner.js';
import { FakeGrafana } from './fakes/fake-grafana.js';
import { WebhookTarget } from './fakes/webhook-target.js';

const FAKE_DNS = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fakes/fake-dns.mjs')).href;

let database: TempDatabase;
let provisioner: FakeProvisioner;
let provisionerUrl: string;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  provisioner = new FakeProvisioner({ settleInstantly: true });
  provisionerUrl = await provisioner.start();
});
afterEach(async () => {
  await stopAllServerProcesses();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(async () => {
  await provisioner.stop();
});

async function elrond(extra: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  database = await tempDatabase(DEFAULT_DIALECT);
  cleanups.push(() => database.cleanup());
  return startServerProcess({
    name: 'elrond',
    flags: ['--database', database.url, '--poll', '1', '--provisioner-server', provisionerUrl, '--provisioner-status-interval', '1', ...extra],
    env,
  });
}

async function target(behaviour?: ConstructorParameters<typeof WebhookTarget>[0]): Promise<WebhookTarget> {
  const t = new WebhookTarget(behaviour);
  await t.start();
  cleanups.push(() => t.stop());
  return t;
}

/** Everything a refused request could have written. */
async function snapshot() {
  const db = database.store.db;
  const count = async (table: 'events' | 'outbox' | 'rings' | 'releases' | 'rollouts') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return {
    webhooks: await db.selectFrom('webhooks').selectAll().orderBy('id').execute(),
    events: await count('events'),
    outbox: await count('outbox'),
    rings: await count('rings'),
  };
}

async function outboxRows(webhookId: string) {
  return database.store.db.selectFrom('outbox').selectAll().where('sink', '=', 'webhook').where('target', '=', webhookId).orderBy('id').execute();
}

async function createRing(server: ServerProcess, name: string, priority: number, groups = 0): Promise<string> {
  const created = await server.api('POST', '/rings', { name, priority, soakTime: 0, image: IMAGE, version: 'v1' });
  expect(created.status).toBe(202);
  const id = created.body.ID as string;
  await waitFor(`ring ${name} stable`, async () => (await server.api('GET', `/ring/${id}`)).body.State === 'stable', { timeoutMs: 15_000 });
  for (let g = 0; g < groups; g++) {
    const group = provisioner.createGroup({ Name: `${name}-pg-${g}`, Image: IMAGE, Version: 'v1', MaxRolling: 1 });
    provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence, name: `${name}-inst-${g}` });
    const registered = await server.api('POST', `/ring/${id}/installationgroup`, { name: `${name}-ig-${g}`, soakTime: 0, provisionerGroupID: group.ID });
    expect(registered.status).toBe(200);
  }
  return id;
}

describe('webhook targets: internal addresses are refused (default settings)', () => {
  it('SSRF: metadata, loopback in odd spellings, IPv4-mapped IPv6 and the provisioner\'s lock endpoint are refused at creation; nothing is written, nothing is sent', async () => {
    const server = await elrond();
    const victim = await target();
    const port = new URL(victim.url).port;
    const group = provisioner.createGroup({ Name: 'ssrf-victim', Image: IMAGE, Version: 'v1' });
    const provisionerPort = new URL(provisionerUrl).port;
    const before = await snapshot();
    const attacks: Array<[string, RegExp]> = [
      ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', /URL: 169\.254\.169\.254 is a link-local address \(cloud metadata lives at 169\.254\.169\.254\); webhooks may only reach public addresses \(start the server with --webhook-allow-private/],
      ['http://[::ffff:a9fe:a9fe]/latest/meta-data/', /link-local address .*, written as IPv6/],
      [`http://0x7f.1:${port}/hook`, /URL: 127\.0\.0\.1 is a loopback address/],
      [`http://2130706433:${port}/hook`, /127\.0\.0\.1 is a loopback address/],
      [`http://127.1:${port}/hook`, /127\.0\.0\.1 is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/hook`, /loopback address, written as IPv6/],
      [`http://[::1]:${port}/hook`, /loopback address/],
      [`http://localhost:${port}/hook`, /localhost is a loopback name/],
      [`http://0x7f.1:${provisionerPort}/api/security/group/${group.ID}/api/lock`, /loopback address/],
      ['http://10.0.0.1/hook', /private address/],
      ['http://100.64.0.1/hook', /carrier-grade NAT/],
      [`gopher://127.0.0.1:${port}/`, /scheme gopher is not supported; use http or https/],
      ['file:///etc/passwd', /scheme file is not supported/],
    ];
    for (const [url, why] of attacks) {
      const reply = await server.api('POST', '/webhooks', { OwnerID: 'attacker', URL: url });
      expect({ url, status: reply.status }).toEqual({ url, status: 400 });
      expect(reply.body.error).toMatch(why);
    }
    expect(await snapshot()).toEqual(before);
    // State changes happen; none of them reaches the victim or the provisioner's lock endpoint.
    await createRing(server, 'after-ssrf', 1);
    expect(victim.requests).toEqual([]);
    expect(provisioner.requests.filter((r) => r.path.includes('/api/lock'))).toEqual([]);
    expect(provisioner.group(group.ID)?.APISecurityLock ?? false).toBe(false);
  });

  it('DNS rebinding: a name that resolves to 127.0.0.1 is refused when the delivery connects; an open and a closed port fail alike (no port-scan oracle)', async () => {
    const server = await elrond([], {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${FAKE_DNS}`.trim(),
      FAKE_DNS_ANSWERS: JSON.stringify({ 'rebind.elrond.test': '127.0.0.1' }),
    });
    const victim = await target();
    const closedPort = await freePort();
    const open = await server.api('POST', '/webhooks', { OwnerID: 'attacker', URL: `http://rebind.elrond.test:${new URL(victim.url).port}/hook` });
    const closed = await server.api('POST', '/webhooks', { OwnerID: 'attacker', URL: `http://rebind.elrond.test:${closedPort}/hook` });
    expect([open.status, closed.status]).toEqual([202, 202]); // a name is only known when a connection is made
    await createRing(server, 'rebind', 1);
    const errors = async (id: string) => (await outboxRows(id)).map((row) => row.last_error).filter(Boolean);
    await waitFor('both deliveries to fail', async () => (await errors(open.body.ID)).length > 0 && (await errors(closed.body.ID)).length > 0, { timeoutMs: 15_000 });
    const [openError] = await errors(open.body.ID);
    const [closedError] = await errors(closed.body.ID);
    expect(openError).toMatch(/refused to connect to rebind\.elrond\.test \(resolved to 127\.0\.0\.1\): a loopback address; start the server with --webhook-allow-private/);
    const generic = (text: string | null | undefined, id: string, port: string) => String(text).replace(id, 'ID').replace(port, 'PORT');
    expect(generic(openError, open.body.ID, new URL(victim.url).port)).toBe(generic(closedError, closed.body.ID, String(closedPort)));
    expect(victim.requests).toEqual([]);
    const failures = server.logs().filter((line) => line.msg === 'delivery failed; will retry');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((line) => /refused to connect/.test(String(line.error)))).toBe(true);
  });
});

describe('webhook deliveries are bounded (--webhook-allow-private: the targets listen on 127.0.0.1)', () => {
  it('a redirect is not followed: the signed body never reaches the new location; the receiver can check both signatures and the timestamp', async () => {
    const server = await elrond(['--webhook-allow-private']);
    const elsewhere = await target();
    const redirecting = await target({ kind: 'redirect', status: 307, location: `${elsewhere.url}/stolen?token=abc` });
    const hook = await server.api('POST', '/webhooks', { OwnerID: 'team', URL: `${redirecting.url}/hook`, Secret: 's3cret' });
    expect(hook.status).toBe(202);
    await createRing(server, 'redirect', 1);
    await waitFor('the redirect to be recorded', async () => (await outboxRows(hook.body.ID)).some((row) => row.last_error), { timeoutMs: 15_000 });
    const [row] = await outboxRows(hook.body.ID);
    expect(row!.last_error).toMatch(new RegExp(`webhook ${hook.body.ID} \\(http://127\\.0\\.0\\.1:\\d+/hook\\) answered 307 \\(a redirect to http://127\\.0\\.0\\.1:\\d+/stolen\\?token=••••••\\); webhooks do not follow redirects: point the webhook at the final URL`));
    expect(elsewhere.requests).toEqual([]);

    const first = redirecting.requests[0]!;
    const timestamp = String(first.headers['x-elrond-timestamp']);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
    expect(first.headers['x-elrond-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(first.body).digest('hex')}`);
    expect(first.headers['x-elrond-signature-v2']).toBe(`sha256=${createHmac('sha256', 's3cret').update(`${timestamp}.${first.body}`).digest('hex')}`);
  });

  it('a target dripping one byte every 2 s is cut at the 10 s deadline, while another target and Grafana are served at once', async () => {
    const grafana = new FakeGrafana();
    grafana.addToken('gtoken', 1);
    const grafanaUrl = await grafana.start();
    cleanups.push(() => grafana.stop());
    const server = await elrond(['--webhook-allow-private', '--grafana-url', grafanaUrl, '--grafana-token', 'gtoken']);
    const ring = await createRing(server, 'isolation', 1, 1);
    const slow = await target({ kind: 'drip', everyMs: 2000 });
    const fast = await target();
    const slowHook = await server.api('POST', '/webhooks', { OwnerID: 'slow', URL: `${slow.url}/hook` });
    expect((await server.api('POST', '/webhooks', { OwnerID: 'fast', URL: `${fast.url}/hook` })).status).toBe(202);
    expect((await server.api('POST', `/ring/${ring}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);

    const states = () => fast.requests.map((r) => (JSON.parse(r.body) as { new_state: string }).new_state);
    await waitFor('the fast target to see the release end', () => states().filter((s) => s === 'stable').length >= 2, { timeoutMs: 15_000 });
    await waitFor('Grafana to get the regions', () => grafana.annotations(1).length >= 2, { timeoutMs: 15_000 });
    // All of that while the slow target still holds its first delivery open.
    expect(slow.answers).toHaveLength(1);
    expect(slow.answers[0]!.closed).toBe(false);

    await waitFor('Elrond to give up on the slow answer', () => slow.answers[0]!.closed, { timeoutMs: 20_000 });
    expect(slow.answers[0]!.closedEarly).toBe(true);
    expect(slow.answers[0]!.bytesWritten).toBeLessThanOrEqual(6); // 10 s at one byte per 2 s
    // The failure is recorded just after the socket closes.
    await waitFor('the failure to be recorded', async () => (await outboxRows(slowHook.body.ID)).some((row) => row.last_error), { timeoutMs: 10_000 });
    const [row] = await outboxRows(slowHook.body.ID);
    expect(row!.last_error).toMatch(/no complete answer within 10 s/);
  }, 60_000);

  it('a 200 MB answer is not read: the socket is closed after 64 KiB and the delivery counts', async () => {
    const server = await elrond(['--webhook-allow-private']);
    const huge = await target({ kind: 'huge', bytes: 200 * 1024 * 1024 });
    const hook = await server.api('POST', '/webhooks', { OwnerID: 'team', URL: `${huge.url}/hook` });
    await createRing(server, 'huge', 1);
    await waitFor('both state changes delivered', async () => (await outboxRows(hook.body.ID)).filter((row) => row.delivered_at !== null).length === 2, { timeoutMs: 20_000 });
    expect((await outboxRows(hook.body.ID)).map((row) => ({ attempts: row.attempts, error: row.last_error }))).toEqual([
      { attempts: 1, error: null },
      { attempts: 1, error: null },
    ]);
    await waitFor('the target to see its connections closed', () => huge.answers.length === 2 && huge.answers.every((a) => a.closed), { timeoutMs: 10_000 });
    for (const answer of huge.answers) {
      expect(answer.closedEarly).toBe(true);
      expect(answer.bytesWritten).toBeLessThan(32 * 1024 * 1024); // socket buffers at most; the old client read all 200 MB
    }
  });

  it('at most 100 webhooks (409 beyond); 100 failing webhooks × 3 rings of backlog do not hide a Grafana annotation', async () => {
    const grafana = new FakeGrafana();
    grafana.addToken('gtoken', 1);
    const grafanaUrl = await grafana.start();
    cleanups.push(() => grafana.stop());
    const server = await elrond(['--webhook-allow-private', '--grafana-url', grafanaUrl, '--grafana-token', 'gtoken']);
    const deadPort = await freePort();
    for (let i = 0; i < 100; i++) {
      const created = await server.api('POST', '/webhooks', { OwnerID: 'load', URL: `http://127.0.0.1:${deadPort}/hook/${i}` });
      expect(created.status).toBe(202);
    }
    const before = await snapshot();
    const refused = await server.api('POST', '/webhooks', { OwnerID: 'load', URL: `http://127.0.0.1:${deadPort}/hook/100` });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('there are already 100 webhooks, the most Elrond delivers to: delete one you no longer need first (elrond webhook list, elrond webhook delete --webhook <id>)');
    expect(await snapshot()).toEqual(before);

    // 300 failing heads (100 webhooks × 3 rings) queue before the annotation; it is delivered all the same.
    await createRing(server, 'backlog-a', 1);
    await createRing(server, 'backlog-b', 2);
    const ring = await createRing(server, 'backlog-c', 3, 1);
    expect((await server.api('POST', `/ring/${ring}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
    await waitFor('Grafana to get the annotation', () => grafana.annotations(1).length > 0, { timeoutMs: 20_000 });
    const failing = await database.store.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('sink', '=', 'webhook').where('delivered_at', 'is', null).executeTakeFirstOrThrow();
    expect(Number(failing.n)).toBeGreaterThanOrEqual(300);
  }, 60_000);
});
