import { describe, it, expect, afterEach } from 'vitest';
import pino from 'pino';
import { startHarness, type Harness, type HarnessOptions } from './helpers/harness.js';
import { freePort, waitFor } from './helpers/processes.js';
import { startServer, type RunningServer } from '../src/server.js';
import { defaultServerConfig, type ServerConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { WEBHOOK_SECRET_HEADER, webhookRegistration, keepWebhookRegistered, REGISTRATION_RETRY_MS } from '../src/integrations/provisioner-webhook-registration.js';
import { createProvisionerClient } from '../src/integrations/provisioner-client.js';
import { ManualClock } from '../src/model/clock.js';
import { nextStatusPollDelay } from '../src/model/group-decision.js';
import { FIRST_EVENT_WINDOW_MS, WEBHOOK_BACKSTOP_MS, WEBHOOK_QUIET_MS } from '../src/engine/wake-ups.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** One server whose --public-url is its own address, so the fake provisioner's deliveries reach it. */
async function harnessWithWebhooks(config: Partial<ServerConfig> = {}, options: Omit<HarnessOptions, 'config' | 'settleInstantly'> = {}): Promise<Harness> {
  const port = await freePort();
  const h = await startHarness({ settleInstantly: false, ...options, config: { listen: `127.0.0.1:${port}`, publicUrl: `http://127.0.0.1:${port}`, ...config } });
  open.push(h);
  return h;
}

/** Another replica (or the same server restarted) on the harness's database and provisioner. */
async function replica(h: Harness, publicUrl: string): Promise<RunningServer> {
  const config: ServerConfig = { ...defaultServerConfig(), database: h.server.store.description, listen: '127.0.0.1:0', poll: 0, provisionerServer: h.provisioner.url, publicUrl };
  const server = await startServer(config, { clock: h.clock, log: createLogger({ silent: true }), startLoops: false, awaitRegistration: true });
  open.push(server);
  return server;
}

function secretOf(h: Harness): string {
  const [webhook] = h.provisioner.webhooks();
  return webhook!.Headers!.find((header) => header.key === WEBHOOK_SECRET_HEADER)!.value!;
}

async function postEvent(h: Harness, body: unknown, secret = secretOf(h)): Promise<number> {
  const response = await fetch(`${h.server.url}/provisioner/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json', [WEBHOOK_SECRET_HEADER]: secret }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
}

const installationEvent = (id: string, newState: string, oldState: string, atMs: number) => ({ event_id: `evt-${id}-${newState}`, timestamp: atMs * 1_000_000, id, type: 'installation', new_state: newState, old_state: oldState, extra_data: { Environment: 'test', Name: id } });

/** A ring of one group of two installations, released to v2 and left rolling (the fake moves nothing until tick()). */
async function rollingGroup(h: Harness) {
  const ring = await h.ring('canary', 1, { installations: 2 });
  await h.settle();
  const release = await h.api('POST', '/rings/release', { image: 'mattermost/mattermost-enterprise-edition', version: 'v2' });
  expect(release.status, JSON.stringify(release.body)).toBe(202);
  await h.settle();
  const group = ring.groups[0]!;
  const row = async () => h.server.store.db.selectFrom('installation_groups').selectAll().where('id', '=', group.id).executeTakeFirstOrThrow();
  expect((await row()).phase).toBe('rolling');
  return { ring, group, row, installations: h.provisioner.installations(group.provisionerGroupId) };
}

const statusReads = (h: Harness) => h.provisioner.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/status')).length;
const groupReads = (h: Harness) => h.provisioner.requests.filter((r) => r.route === 'getGroup').length;

describe('provisioner webhooks: registration', () => {
  it('registers one webhook per public URL, with its secret header, however many replicas start or restart', async () => {
    const h = await harnessWithWebhooks();
    const publicUrl = `${h.server.url}`;
    const expected = webhookRegistration(publicUrl, secretOf(h));
    expect(h.provisioner.webhooks()).toMatchObject([{ OwnerID: expected.ownerId, URL: `${publicUrl}/provisioner/webhook` }]);
    const first = h.provisioner.webhooks()[0]!.ID;
    // Two more replicas, then a restart of one: still that one webhook.
    const [a] = await Promise.all([replica(h, publicUrl), replica(h, publicUrl)]);
    await a.close();
    await replica(h, publicUrl);
    expect(h.provisioner.webhooks().map((w) => w.ID)).toEqual([first]);
    // Lost on the provisioner (an operator deleted it), then two replicas start at the same moment: they agree on one.
    expect((await fetch(`${h.provisioner.url}/api/webhook/${first}`, { method: 'DELETE' })).status).toBe(200);
    await Promise.all([replica(h, publicUrl), replica(h, publicUrl)]);
    expect(h.provisioner.webhooks()).toHaveLength(1);
    expect(h.provisioner.webhooks()[0]).toMatchObject({ OwnerID: expected.ownerId, URL: expected.url, Headers: [{ key: WEBHOOK_SECRET_HEADER, value: expected.secret }] });
  });

  it('--provisioner-webhooks=false registers nothing and refuses deliveries; so does a server without --public-url', async () => {
    const off = await harnessWithWebhooks({ provisionerWebhooks: false });
    expect(off.provisioner.webhooks()).toEqual([]);
    expect(await postEvent(off, installationEvent('x', 'stable', 'update-in-progress', 0), 'anything')).toBe(404);
    const noUrl = await startHarness({ config: { publicUrl: '' } });
    open.push(noUrl);
    expect(noUrl.provisioner.webhooks()).toEqual([]);
  });
});

describe('provisioner webhooks: deliveries are hints', () => {
  it('a wrong or missing secret is refused with 401 and reads nothing', async () => {
    const h = await harnessWithWebhooks();
    const { installations } = await rollingGroup(h);
    const before = h.provisioner.requests.length;
    const event = installationEvent(installations[0]!.ID, 'stable', 'update-in-progress', h.clock.now());
    expect(await postEvent(h, event, 'not-the-secret')).toBe(401);
    expect(await postEvent(h, event, '')).toBe(401);
    await h.settle();
    expect(h.server.wakeUps.stats.events).toBe(0);
    expect(h.provisioner.requests.length).toBe(before);
  });

  it('bad bodies get a 4xx naming the problem: oversized 413, not JSON 400, not an installation id 400', async () => {
    const h = await harnessWithWebhooks();
    expect(await postEvent(h, `{"pad":"${'x'.repeat(70 * 1024)}"}`)).toBe(413);
    expect(await postEvent(h, '{not json')).toBe(400);
    expect(await postEvent(h, { type: 'installation', id: '../../etc', new_state: 'stable' })).toBe(400);
    expect(await postEvent(h, { type: 'cluster', id: 'c1', new_state: 'stable' })).toBe(202);
    // No Content-Length: the body is counted as it streams in, and the connection closed past the limit.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const streamed = await fetch(`${h.server.url}/provisioner/webhook`, { method: 'POST', headers: { [WEBHOOK_SECRET_HEADER]: secretOf(h) }, body: chunked, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toEqual({ error: 'the body is larger than 64 KiB: provisioner events are a few hundred bytes' });
    expect(h.server.wakeUps.stats.events).toBe(0);
    // Answered ahead of Express, and still counted in the request metrics.
    const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
    expect(metrics).toMatch(/elrond_http_requests_total\{method="POST",route="\/provisioner\/webhook",status="413"\} 2/);
    expect(metrics).toMatch(/elrond_http_requests_total\{method="POST",route="\/provisioner\/webhook",status="202"\} 1/);
  });

  it('a forged "stable" and out-of-order events cost one status read (and one group read) and change nothing', async () => {
    const h = await harnessWithWebhooks();
    const { ring, installations, row } = await rollingGroup(h);
    const stateBefore = (await row()).state;
    const eventsBefore = (await h.events(ring.id)).length;
    const readsBefore = statusReads(h);
    const groupReadsBefore = groupReads(h);
    // The provisioner has not rolled anything: these claim otherwise, newest first.
    for (const installation of installations) expect(await postEvent(h, installationEvent(installation.ID, 'stable', 'update-in-progress', h.clock.now()))).toBe(202);
    expect(await postEvent(h, installationEvent(installations[0]!.ID, 'update-requested', 'stable', h.clock.now() - 60_000))).toBe(202);
    await waitFor('events received', () => h.server.wakeUps.stats.events === 3, { timeoutMs: 5000, everyMs: 10 });
    await h.settle();
    expect((await row()).state).toBe(stateBefore);
    expect((await row()).phase).toBe('rolling');
    expect((await h.getRing(ring.id)).State).not.toBe('stable');
    const newEvents = (await h.events(ring.id)).slice(0, (await h.events(ring.id)).length - eventsBefore);
    expect(newEvents.filter((e) => e.kind === 'group.state')).toEqual([]);
    // Coalesced: two wake-worthy events for one group, one read (with the group read beside it: the claims said
    // every installation was done, so the status read was expected to find the rollout over).
    expect(statusReads(h) - readsBefore).toBe(1);
    expect(groupReads(h) - groupReadsBefore).toBeLessThanOrEqual(1);
  });

  it('a rollout looks done once every installation of the group has reported a state past rolling, and not after one goes back', async () => {
    const h = await harnessWithWebhooks();
    const { group, installations } = await rollingGroup(h);
    const wakeUps = h.server.wakeUps;
    const pgid = group.provisionerGroupId;
    // Straight to the wake-ups (the route answers before it is done with an event; its own tests are above).
    const send = (installation: { ID: string }, newState: string) => wakeUps.receive({ installationId: installation.ID, newState });
    const first = installations[0]!;
    const second = installations[1]!;
    expect(wakeUps.rolloutLooksDone(pgid)).toBe(false);
    await send(first, 'stable');
    expect(wakeUps.rolloutLooksDone(pgid)).toBe(false);
    await send(second, 'stable');
    expect(wakeUps.rolloutLooksDone(pgid)).toBe(true);
    // Out of order, or updating again: no longer a guess worth a second read.
    await send(first, 'update-in-progress');
    expect(wakeUps.rolloutLooksDone(pgid)).toBe(false);
    await send(first, 'update-failed');
    expect(wakeUps.rolloutLooksDone(pgid)).toBe(true);
    expect(wakeUps.rolloutLooksDone('no-such-group')).toBe(false);
    // Only a hint: the group is still rolling until its status says otherwise.
    await h.settle();
    expect((await h.server.store.db.selectFrom('installation_groups').select('phase').where('id', '=', group.id).executeTakeFirstOrThrow()).phase).toBe('rolling');
  });

  it('registered but no event yet: reads at 1, 2, 4, 8 and 10 s, then today\'s schedule, never the backstop', async () => {
    const span = 60_000;
    const off = await harnessWithWebhooks({ provisionerWebhooks: false });
    const usual = await statusReadsOver(off, span);
    const quiet = await statusReadsOver(await harnessWithWebhooks(), span);
    // The webhook is registered, but this provisioner says nothing: 5 reads in the first 10 s instead of dozens…
    expect(quiet.delays.slice(0, 5)).toEqual([1000, 1000, 2000, 4000, 2000]);
    const usualFirstWindow = usual.delays.reduce((acc, d) => (acc.at < FIRST_EVENT_WINDOW_MS ? { at: acc.at + d, reads: acc.reads + 1 } : acc), { at: 0, reads: 0 });
    expect(usualFirstWindow.reads).toBeGreaterThan(30);
    // …then, with no event by the end of the window, the schedule of webhooks off: never a 30 s wait.
    let elapsed = 0;
    for (const delay of quiet.delays) {
      if (elapsed >= FIRST_EVENT_WINDOW_MS) expect(Math.abs(delay - nextStatusPollDelay(elapsed, defaultServerConfig().provisionerStatusInterval * 1000)), `the read ${elapsed} ms in`).toBeLessThanOrEqual(5);
      elapsed += delay;
    }
    expect(Math.max(...quiet.delays)).toBeLessThan(WEBHOOK_BACKSTOP_MS);
  });

  it('events move the next read to the 30 s backstop; when they stop, polling returns to its schedule', async () => {
    const h = await harnessWithWebhooks();
    const { row, installations } = await rollingGroup(h);
    const delay = async () => (await row()).next_check_at - h.clock.now();
    // No event yet: the first read a second after the update.
    expect(await delay()).toBe(1000);
    // The provisioner says an installation started updating (a real event: right secret, real installation).
    expect(await postEvent(h, installationEvent(installations[0]!.ID, 'update-in-progress', 'update-requested', h.clock.now()))).toBe(202);
    await waitFor('event received', () => h.server.wakeUps.stats.events === 1, { timeoutMs: 5000, everyMs: 10 });
    const heardAt = h.clock.now();
    await h.advanceToNextDeadline();
    expect(await delay()).toBe(WEBHOOK_BACKSTOP_MS);
    // Half a minute later, still within the quiet window: the backstop again.
    await h.advanceToNextDeadline();
    expect(h.clock.now() - heardAt).toBeLessThanOrEqual(WEBHOOK_QUIET_MS);
    expect(await delay()).toBe(WEBHOOK_BACKSTOP_MS);
    // No event for longer than the window: the webhook is presumed broken, polling is back to its backoff.
    await h.advanceToNextDeadline();
    expect(h.clock.now() - heardAt).toBeGreaterThan(WEBHOOK_QUIET_MS);
    expect((await row()).phase).toBe('rolling');
    expect(await delay()).toBeLessThanOrEqual(10_000);
  });
});

/** A logger whose lines the test reads. */
function capturedLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { log, lines, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

/** Roll one group and walk the clock deadline by deadline for `spanMs`: the status reads that cost. */
async function statusReadsOver(h: Harness, spanMs: number, onRolling?: (installations: Array<{ ID: string }>) => Promise<void>): Promise<{ reads: number; delays: number[] }> {
  const { row, installations } = await rollingGroup(h);
  await onRolling?.(installations);
  const start = h.clock.now();
  const readsBefore = statusReads(h);
  const delays: number[] = [];
  while (h.clock.now() - start < spanMs) {
    delays.push((await row()).next_check_at - h.clock.now());
    expect(await h.advanceToNextDeadline()).toBe(true);
  }
  expect((await row()).phase).toBe('rolling');
  return { reads: statusReads(h) - readsBefore, delays };
}

describe('provisioner webhooks: registration fails', () => {
  it('the provisioner answering 500: polling keeps the schedule of webhooks off, the log says why, and registration is retried later', async () => {
    const span = 3 * 60_000;
    const off = await harnessWithWebhooks({ provisionerWebhooks: false });
    const usual = await statusReadsOver(off, span);
    // Today's schedule: a rollout is read often (dozens of times in three minutes), not at the 30 s backstop.
    expect(usual.reads).toBeGreaterThan(span / WEBHOOK_BACKSTOP_MS + 10);

    const captured = capturedLog();
    const failing = await harnessWithWebhooks({}, { log: captured.log, beforeServer: (p) => p.setErrorRate(1, 500, ['getWebhooks', 'createWebhook']) });
    expect(failing.provisioner.webhooks()).toEqual([]);
    expect(failing.server.wakeUps.eventsFlowing(failing.clock.now())).toBe(false);
    expect(captured.warnings()).toEqual([expect.stringMatching(/^provisioner webhook registration failed \(the provisioner answered 500 to list webhooks\): polling the provisioner on the usual schedule; retrying in 60 s$/)]);
    // An event that still reaches us (a webhook left over from before) cannot slow polling down while unregistered.
    const secret = (await failing.server.store.db.selectFrom('system').select('value').where('key', '=', 'provisioner-webhook-secret').executeTakeFirstOrThrow()).value;
    const unregistered = await statusReadsOver(failing, span, async (installations) => {
      expect(await postEvent(failing, installationEvent(installations[0]!.ID, 'update-in-progress', 'update-requested', failing.clock.now()), secret)).toBe(202);
      await waitFor('event received', () => failing.server.wakeUps.stats.events === 1, { timeoutMs: 5000, everyMs: 10 });
    });
    expect(unregistered.delays).toEqual(usual.delays);
    expect(unregistered.reads).toBe(usual.reads);

    // The clock passed the retry time long ago (real ticks check it every second): the provisioner failed each time.
    // Wait until every attempt so far has ended (one list request and one warning each): an attempt still failing
    // after the faults are cleared would set its retry a minute past the clock's move below.
    const concluded = () => {
      const tries = failing.provisioner.requests.filter((r) => r.route === 'getWebhooks').length;
      const failures = captured.warnings().filter((w) => w.startsWith('provisioner webhook registration failed')).length;
      return tries >= 2 && failures === tries;
    };
    await waitFor('a retry, ended', concluded, { timeoutMs: 5000, everyMs: 20 });
    expect(failing.provisioner.webhooks()).toEqual([]);
    // The provisioner recovers: the next retry, a minute later by the clock, registers the webhook.
    failing.provisioner.clearFaults();
    failing.clock.advance(REGISTRATION_RETRY_MS);
    await waitFor('registered on retry', () => failing.provisioner.webhooks().length === 1, { timeoutMs: 5000, everyMs: 20 });
    await waitFor('logged', () => captured.lines.some((l) => l.msg === 'provisioner webhook registered'), { timeoutMs: 5000, everyMs: 20 });
    expect(failing.provisioner.webhooks()[0]).toMatchObject({ URL: `${failing.server.url}/provisioner/webhook`, Headers: [{ key: WEBHOOK_SECRET_HEADER, value: secret }] });
  });

  it('an unreachable provisioner: the failure is logged with its cause and the attempt is repeated a minute later by the clock', async () => {
    const port = await freePort();
    const clock = new ManualClock();
    const captured = capturedLog();
    const api = createProvisionerClient({ baseUrl: `http://127.0.0.1:${port}`, now: () => clock.now() }).webhooks!;
    const results: boolean[] = [];
    const kept = keepWebhookRegistered({ api, wanted: webhookRegistration('http://127.0.0.1:1', 's'), log: captured.log, onResult: (ok) => results.push(ok), now: () => clock.now(), tickMs: 5 });
    open.push({ close: async () => kept.stop() });
    await kept.first;
    expect(results).toEqual([false]);
    expect(captured.warnings()).toEqual([expect.stringMatching(/^provisioner webhook registration failed \(cannot reach the provisioner to list webhooks \(ECONNREFUSED\)\): polling the provisioner on the usual schedule; retrying in 60 s$/)]);
    // Not before the retry time, however many ticks pass.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(results).toEqual([false]);
    clock.advance(REGISTRATION_RETRY_MS);
    await waitFor('the retry', () => results.length === 2, { timeoutMs: 5000, everyMs: 5 });
    expect(results).toEqual([false, false]);
  });
});
