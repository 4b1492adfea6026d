import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { FakeGrafana } from './fakes/fake-grafana.js';

let h: Harness | undefined;
let grafana: FakeGrafana | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await grafana?.stop();
  grafana = undefined;
  await receiver?.stop();
  receiver = undefined;
});

interface Delivery {
  path: string;
  raw: string;
  body: { timestamp: number; id: string; name: string; type: string; new_state: string; old_state: string; extra_data?: Record<string, string> };
  signature: string | undefined;
  status: number;
}

/** Records webhook deliveries; answers 500 to the next `failures` of them. */
class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  failures = 0;
  #server: http.Server | undefined;
  url = '';

  async start(): Promise<string> {
    this.#server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const status = this.failures > 0 ? (this.failures--, 500) : 200;
        const signature = req.headers['x-elrond-signature'];
        this.deliveries.push({ path: req.url ?? '', raw, body: JSON.parse(raw), signature: Array.isArray(signature) ? signature[0] : signature, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  ok(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path && d.status === 200);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function startWithGrafana(tokens: Record<string, number>) {
  grafana = new FakeGrafana({ now: () => h?.clock.now() ?? Date.now() });
  for (const [token, org] of Object.entries(tokens)) grafana.addToken(token, org);
  const url = await grafana.start();
  h = await startHarness({ config: { grafanaUrl: url, grafanaTokens: Object.keys(tokens) } });
  return h;
}

describe('Grafana annotations', () => {
  it('posts a region per group rollout and per ring release, once in each org, and closes it with timeEnd', async () => {
    await startWithGrafana({ 'glsa_org_one': 1, 'glsa_org_two': 2 });
    const ring = await h!.ring('canary', 1, { groups: 2, groupSoak: 10, soak: 60 });
    await h!.settle();
    const t0 = h!.clock.now();
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(10_000);
    await h!.advance(10_000);
    await h!.advance(60_000);
    const json = await h!.getRing(ring.id);
    expect(json.State).toBe('stable');
    const releaseId = json.ActiveReleaseID;

    const [g0, g1] = ring.groups as [(typeof ring.groups)[0], (typeof ring.groups)[0]];
    for (const org of [1, 2]) {
      const annotations = grafana!.annotations(org).map((a) => ({ tags: [...a.tags].sort(), time: a.time - t0, timeEnd: a.timeEnd - t0, text: a.text }));
      const common = ['elrond', 'ring:canary', `image:${IMAGE}`, 'version:v2', `release:${releaseId}`];
      expect(annotations).toEqual(
        expect.arrayContaining([
          { tags: [...common, `installation-group:${g0.provisionerGroupId}`].sort(), time: 0, timeEnd: 10_000, text: expect.stringMatching(/installation group .*: stable/) },
          { tags: [...common, `installation-group:${g1.provisionerGroupId}`].sort(), time: 10_000, timeEnd: 20_000, text: expect.stringMatching(/: stable/) },
          { tags: [...common].sort(), time: 0, timeEnd: 80_000, text: expect.stringMatching(/Release to ring canary: stable/) },
        ]),
      );
      expect(annotations).toHaveLength(3);
    }
    // Exactly one POST and one PATCH per region and org; never the org header.
    const byMethod = (m: string) => grafana!.requests.filter((r) => r.method === m);
    expect(byMethod('POST')).toHaveLength(6);
    expect(byMethod('PATCH')).toHaveLength(6);
    expect(grafana!.requests.every((r) => r.headers['x-grafana-org-id'] === undefined && r.status === 200)).toBe(true);
    expect(byMethod('POST')[0]!.body).toMatchObject({ time: t0, tags: expect.arrayContaining(['elrond']) });
  });

  it('Grafana being down never fails a release; the annotations are delivered once it is back', async () => {
    await startWithGrafana({ 'glsa_only': 7 });
    const ring = await h!.ring('r', 1, { groupSoak: 10, soak: 30 });
    await h!.settle();
    grafana!.down(true);
    const t0 = h!.clock.now();
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(10_000);
    await h!.advance(30_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    expect(grafana!.annotations()).toEqual([]);
    expect(grafana!.requests.length).toBeGreaterThan(0);
    expect(await h!.server.outbox.backlog()).toBe(4);

    grafana!.down(false);
    for (let i = 0; i < 20 && (await h!.server.outbox.backlog()) > 0; i++) await h!.advance(60_000);
    expect(await h!.server.outbox.backlog()).toBe(0);
    const regions = grafana!.annotations(7).map((a) => [a.tags.some((t) => t.startsWith('installation-group:')) ? 'group' : 'ring', a.time - t0, a.timeEnd - t0]);
    // Times are those of the rollout, not of the late delivery.
    expect(regions.sort()).toEqual([
      ['group', 0, 10_000],
      ['ring', 0, 40_000],
    ]);
    expect(h!.server.supervisor.loop.failures).toBe(0);
  });

  it('a retried rollout of the same release gets its own region', async () => {
    await startWithGrafana({ 'glsa_x': 1 });
    const ring = await h!.ring('retry', 1, { soak: 10 });
    await h!.settle();
    h!.provisioner.failNext('putGroup', 400);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    expect((await h!.getRing(ring.id)).State).toBe('release-failed');
    await h!.advance(1_000);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(10_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    const groupRegions = grafana!.annotations(1).filter((a) => a.tags.some((t) => t.startsWith('installation-group:')));
    expect(groupRegions.map((a) => a.text.replace(/.*: /, '')).sort()).toEqual(['release-failed', 'stable']);
    expect(grafana!.annotations(1).filter((a) => !a.tags.some((t) => t.startsWith('installation-group:'))).map((a) => a.text.replace(/.*: /, '')).sort()).toEqual(['release-failed', 'stable']);
  });
});

describe('webhooks', () => {
  it('posts every ring and group state change, in order per ring, signed when the webhook has a secret, retried on failure', async () => {
    receiver = new WebhookReceiver();
    const base = await receiver.start();
    h = await startHarness({ config: { webhookAllowPrivate: true } }); // the receiver listens on 127.0.0.1
    const signed = await h.api('POST', '/webhooks', { OwnerID: 'release-team', URL: `${base}/signed`, Secret: 's3cret' });
    expect(signed.status).toBe(202);
    expect(signed.body.hasSecret).toBe(true);
    expect(JSON.stringify(signed.body)).not.toContain('s3cret');
    expect((await h.api('POST', '/webhooks', { OwnerID: 'audit', URL: `${base}/plain` })).status).toBe(202);

    const r1 = await h.ring('first', 1, { groups: 2, soak: 10 });
    const r2 = await h.ring('second', 2, { soak: 10 });
    await h.settle();
    receiver.failures = 3; // the next three deliveries fail, whichever hook they are for
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    for (let i = 0; i < 10; i++) await h.advance(10_000);
    expect((await h.getRing(r2.id)).State).toBe('stable');
    expect(await h.server.outbox.backlog()).toBe(0);
    expect(receiver.deliveries.filter((d) => d.status === 500)).toHaveLength(3);

    for (const ring of [r1, r2]) {
      const events = (await h.events(ring.id)).reverse().filter((e) => e.kind === 'ring.state' || e.kind === 'group.state');
      const expected = events.map((e) => ({
        type: e.installationGroupId ? 'installation-group' : 'ring',
        id: e.installationGroupId ?? ring.id,
        old_state: e.oldState,
        new_state: e.newState,
      }));
      for (const path of ['/signed', '/plain']) {
        const mine = receiver.ok(path).filter((d) => d.body.id === ring.id || ring.groups.some((g) => g.id === d.body.id));
        expect(mine.map((d) => ({ type: d.body.type, id: d.body.id, old_state: d.body.old_state, new_state: d.body.new_state }))).toEqual(expected);
      }
    }
    const ringPayloads = receiver.ok('/plain').filter((d) => d.body.id === r1.id);
    expect(ringPayloads.map((d) => d.body.new_state)).toEqual([
      'creation-requested',
      'stable',
      'release-pending',
      'release-requested',
      'release-in-progress',
      'soaking-requested',
      'stable',
    ]);
    expect(ringPayloads[0]!.body).toMatchObject({ name: 'first', type: 'ring', old_state: 'n/a' });
    const groupPayload = receiver.ok('/plain').find((d) => d.body.type === 'installation-group' && d.body.id === r1.groups[0]!.id)!;
    expect(groupPayload.body).toMatchObject({ id: r1.groups[0]!.id, name: r1.groups[0]!.name, old_state: 'release-pending', new_state: 'release-requested', extra_data: { RingID: r1.id } });
    expect(Object.keys(groupPayload.body).sort()).toEqual(['extra_data', 'id', 'name', 'new_state', 'old_state', 'timestamp', 'type']);
    // Timestamps are nanoseconds, as in the original.
    expect(String(groupPayload.body.timestamp)).toHaveLength(19);

    for (const delivery of receiver.ok('/signed')) {
      expect(delivery.signature).toBe(`sha256=${createHmac('sha256', 's3cret').update(delivery.raw).digest('hex')}`);
    }
    expect(receiver.ok('/plain').every((d) => d.signature === undefined)).toBe(true);
  });

  it('a failure reason travels in extra_data of the ring and group payloads', async () => {
    receiver = new WebhookReceiver();
    const base = await receiver.start();
    h = await startHarness({ config: { webhookAllowPrivate: true } }); // the receiver listens on 127.0.0.1
    await h.api('POST', '/webhooks', { OwnerID: 'o', URL: `${base}/hook` });
    const ring = await h.ring('f', 1);
    await h.settle();
    h.provisioner.failNext('putGroup', 403);
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    const failed = receiver.ok('/hook').filter((d) => d.body.new_state === 'release-failed');
    expect(failed.map((d) => d.body.type).sort()).toEqual(['installation-group', 'ring']);
    expect(failed.find((d) => d.body.type === 'ring')!.body.extra_data!.Reason).toMatch(/API-locked \(403\)/);
  });
});

describe('events', () => {
  it('records every state change, retry and failure; GET /api/events filters by ring and limits', async () => {
    h = await startHarness();
    const r1 = await h.ring('ev', 1, { soak: 10 });
    const r2 = await h.ring('other', 2, { soak: 10 });
    await h.settle();
    h.provisioner.failNext('getGroup', 503);
    await h.api('POST', `/ring/${r1.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    await h.advance(1_000);
    await h.advance(10_000);
    const all = await h.events(r1.id);
    expect(all.every((e) => e.ringId === r1.id)).toBe(true);
    expect(all.map((e) => e.kind)).toEqual(expect.arrayContaining(['ring.state', 'group.state', 'group.retry', 'group.registered']));
    const retry = all.find((e) => e.kind === 'group.retry')!;
    expect(retry.message).toMatch(/503 to read the group; retry 1 of 8/);
    const limited = await h.api('GET', `/events?ring=${r1.id}&limit=2`);
    expect(limited.body).toHaveLength(2);
    expect(limited.body[0].newState).toBe('stable'); // newest first
    expect((await h.events(r2.id)).every((e) => e.ringId === r2.id)).toBe(true);
  });
});
