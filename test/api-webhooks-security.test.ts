/**
 * REST API — webhooks (create, list, get, delete), the API security lock (§6.3, honoured on every mutating
 * route), optional bearer auth, /healthz, /metrics, 405s, and the route table itself.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { TEST_DIALECTS } from './helpers/temp-database.js';
import { newId } from '../src/model/ids.js';
import { API_ROUTES } from '../src/http/api-routes.js';
import { createHttpApp } from '../src/http/app.js';
import { connect } from '../src/store/connect.js';
import { createLogger } from '../src/logging.js';

const WEBHOOK_KEYS = ['ID', 'OwnerID', 'URL', 'CreateAt', 'DeleteAt'];

async function counts(h: Harness) {
  const db = h.server.store.db;
  const n = async (table: 'rings' | 'installation_groups' | 'ring_installation_groups' | 'events' | 'releases' | 'rollouts' | 'webhooks') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return {
    rings: await n('rings'),
    groups: await n('installation_groups'),
    links: await n('ring_installation_groups'),
    events: await n('events'),
    releases: await n('releases'),
    rollouts: await n('rollouts'),
    webhooks: await n('webhooks'),
  };
}

async function snapshot(h: Harness) {
  const rings = (await h.api('GET', '/rings?per_page=-1&include_deleted=true')).body as any[];
  return rings.map((r) => ({ ...r, LockAcquiredBy: undefined, LockAcquiredAt: undefined }));
}

/** A route path with every parameter filled by `id`. */
const fill = (routePath: string, id: string) => routePath.replace(/:\w+/g, id);

for (const dialect of TEST_DIALECTS) {
  describe(`webhooks API (${dialect})`, () => {
    let h: Harness;
    beforeEach(async () => {
      // One case posts to 127.0.0.1: internal targets need --webhook-allow-private (test/security-webhooks.test.ts covers the refusals).
      h = await startHarness({ dialect, config: { webhookAllowPrivate: true } });
    });
    afterEach(async () => {
      await h.close();
    });

    it('POST /webhooks: 202 with the original keys; keys in any case; duplicate active URL is 409', async () => {
      const created = await h.api('POST', '/webhooks', { OwnerID: 'release-team', URL: 'https://hooks.example.com/a' });
      expect(created.status).toBe(202);
      expect(Object.keys(created.body)).toEqual(expect.arrayContaining(WEBHOOK_KEYS));
      expect(created.body).toMatchObject({ OwnerID: 'release-team', URL: 'https://hooks.example.com/a', CreateAt: h.clock.now(), DeleteAt: 0 });
      expect(created.body.ID).toMatch(/^[a-z0-9]{26}$/);
      const lower = await h.api('POST', '/webhooks', { ownerid: 'ops', url: 'http://127.0.0.1:9/b' });
      expect(lower.status).toBe(202);
      expect(lower.body).toMatchObject({ OwnerID: 'ops', URL: 'http://127.0.0.1:9/b' });

      const duplicate = await h.api('POST', '/webhooks', { OwnerID: 'other', URL: 'https://hooks.example.com/a' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error).toMatch(new RegExp(`a webhook for https://hooks.example.com/a already exists \\(${created.body.ID}\\)`));
    });

    it('POST /webhooks: malformed requests are 400 naming the field, and write nothing', async () => {
      const before = await counts(h);
      const cases: Array<[unknown, RegExp]> = [
        [undefined, /the request body is empty/],
        [{}, /the request body is empty/],
        [[], /the request body is empty/],
        [{ URL: 'https://x.example.com' }, /OwnerID: must specify owner/],
        [{ OwnerID: '  ', URL: 'https://x.example.com' }, /OwnerID: must specify owner/],
        [{ OwnerID: 'me' }, /URL: must specify a URL/],
        [{ OwnerID: 5, URL: 'https://x.example.com' }, /OwnerID: Expected string, received number/],
        [{ OwnerID: 'me', URL: 'not a url' }, /URL: "not a url" is not a URL/],
        [{ OwnerID: 'me', URL: 'ftp://x.example.com/' }, /URL: scheme ftp is not supported; use http or https/],
        [{ OwnerID: 'me', URL: 'file:///etc/passwd' }, /URL: scheme file is not supported/],
        [{ OwnerID: 'me', URL: 'http://' }, /is not a URL/],
        [{ OwnerID: 'me', URL: 'https://x.example.com/\u0000' }, /URL contains a NUL character/],
        ['{"OwnerID": "me", "URL": ', /not valid JSON/],
        [42, /must be a JSON object/],
      ];
      for (const [body, message] of cases) {
        const reply = await h.api('POST', '/webhooks', body);
        expect({ body, status: reply.status }).toEqual({ body, status: 400 });
        expect(reply.body.error).toMatch(message);
      }
      expect(await counts(h)).toEqual(before);
    });

    it('GET /webhooks (owner, paging, include_deleted), GET /webhook/{id}, DELETE /webhook/{id}', async () => {
      expect(await h.api('GET', '/webhooks')).toEqual({ status: 200, body: [] });
      const a = (await h.api('POST', '/webhooks', { OwnerID: 'team', URL: 'https://hooks.example.com/1' })).body;
      h.clock.advance(1000);
      const b = (await h.api('POST', '/webhooks', { OwnerID: 'team', URL: 'https://hooks.example.com/2' })).body;
      h.clock.advance(1000);
      const c = (await h.api('POST', '/webhooks', { OwnerID: 'solo', URL: 'https://hooks.example.com/3' })).body;

      expect((await h.api('GET', '/webhooks')).body.map((w: any) => w.ID)).toEqual([a.ID, b.ID, c.ID]);
      expect((await h.api('GET', '/webhooks?owner=team')).body.map((w: any) => w.ID)).toEqual([a.ID, b.ID]);
      expect((await h.api('GET', '/webhooks?owner=nobody')).body).toEqual([]);
      expect((await h.api('GET', '/webhooks?per_page=1&page=1')).body.map((w: any) => w.ID)).toEqual([b.ID]);
      expect((await h.api('GET', '/webhooks?per_page=-1')).body).toHaveLength(3);
      const badPage = await h.api('GET', '/webhooks?per_page=abc');
      expect(badPage.status).toBe(400);
      expect(badPage.body.error).toMatch(/per_page="abc" is not a whole number/);

      const got = await h.api('GET', `/webhook/${a.ID}`);
      expect(got).toEqual({ status: 200, body: expect.objectContaining({ ID: a.ID, OwnerID: 'team', URL: 'https://hooks.example.com/1', DeleteAt: 0 }) });
      expect(Object.keys(got.body)).toEqual(expect.arrayContaining(WEBHOOK_KEYS));

      const deleted = await fetch(`${h.server.url}/api/webhook/${a.ID}`, { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      expect(await deleted.text()).toBe('');
      const again = await h.api('DELETE', `/webhook/${a.ID}`);
      expect(again.status).toBe(400);
      expect(again.body.error).toMatch(new RegExp(`webhook ${a.ID} is already deleted`));
      const unknown = await h.api('DELETE', `/webhook/${newId()}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toMatch(/not found/);
      expect((await h.api('GET', `/webhook/${newId()}`)).status).toBe(404);
      expect((await h.api('GET', '/webhook/short')).status).toBe(404);

      const gone = (await h.api('GET', `/webhook/${a.ID}`)).body;
      expect(gone.DeleteAt).toBe(h.clock.now());
      expect((await h.api('GET', '/webhooks')).body.map((w: any) => w.ID)).toEqual([b.ID, c.ID]);
      expect((await h.api('GET', '/webhooks?include_deleted=true')).body.map((w: any) => w.ID)).toEqual([a.ID, b.ID, c.ID]);
      // The URL is free again once its webhook is deleted.
      expect((await h.api('POST', '/webhooks', { OwnerID: 'team', URL: 'https://hooks.example.com/1' })).status).toBe(202);
    });
  });

  describe(`API security lock (${dialect})`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness({ dialect });
    });
    afterEach(async () => {
      await h.close();
    });

    it('lock/unlock: 200 with no body, idempotent, 404 for unknown or malformed rings', async () => {
      const ring = await h.ring('lockme', 1);
      for (const action of ['lock', 'lock', 'unlock', 'unlock', 'lock']) {
        const reply = await fetch(`${h.server.url}/api/security/ring/${ring.id}/api/${action}`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
        expect(reply.status).toBe(200);
        expect(await reply.text()).toBe('');
        expect((await h.api('GET', `/ring/${ring.id}`)).body.APISecurityLock).toBe(action === 'lock');
      }
      const kinds = (await h.api('GET', `/events?ring=${ring.id}`)).body.map((e: any) => e.kind);
      expect(kinds.filter((k: string) => k === 'ring.locked')).toHaveLength(2);
      expect(kinds.filter((k: string) => k === 'ring.unlocked')).toHaveLength(1);
      for (const id of [newId(), 'nope']) {
        for (const action of ['lock', 'unlock']) {
          const reply = await h.api('POST', `/security/ring/${id}/api/${action}`);
          expect(reply.status).toBe(404);
          expect(reply.body.error).toMatch(/not found/);
        }
      }
    });

    it('an API-locked ring refuses every mutating route with 403 naming it, and nothing is written', async () => {
      const first = await h.ring('first', 1, { soak: 600 });
      const locked = await h.ring('locked', 2, { groups: 2 });
      await h.settle();
      // locked: released to v2 (so it has something to roll back), first: pending behind nothing.
      expect((await h.api('POST', `/ring/${locked.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
      for (let i = 0; i < 4; i++) await h.advance(2_000);
      expect((await h.api('GET', `/ring/${locked.id}`)).body.State).toBe('stable');
      expect((await h.api('POST', `/security/ring/${locked.id}/api/lock`)).status).toBe(200);

      const before = { counts: await counts(h), rings: await snapshot(h) };
      const groupId = locked.groups[0]!.id;
      const attempts: Array<[string, string, unknown?]> = [
        ['POST', `/ring/${locked.id}/update`, { name: 'renamed' }],
        ['POST', `/ring/${locked.id}/release`, { image: IMAGE, version: 'v3' }],
        ['POST', `/ring/${locked.id}/rollback`, {}],
        ['POST', `/ring/${locked.id}`],
        ['DELETE', `/ring/${locked.id}`],
        ['POST', `/ring/${locked.id}/installationgroup`, { name: 'new-group', provisionerGroupID: 'pgnew' }],
        ['DELETE', `/ring/${locked.id}/installationgroup/${groupId}`],
        ['POST', `/installationgroup/${groupId}/update`, { soakTime: 5 }],
        ['POST', '/rings/release', { image: IMAGE, version: 'v3' }],
        ['POST', '/rings/rollback', {}],
      ];
      for (const [method, route, body] of attempts) {
        const reply = await h.api(method, route, body);
        expect({ method, route, status: reply.status }).toEqual({ method, route, status: 403 });
        expect(reply.body.error).toMatch(new RegExp(`ring locked \\(${locked.id}\\) is API-locked, so it cannot be [\\w ]+: unlock it with "elrond security ring api-unlock --ring ${locked.id}"`));
      }
      expect(await counts(h)).toEqual(before.counts);
      expect(await snapshot(h)).toEqual(before.rings);
      // Reads still work.
      expect((await h.api('GET', `/ring/${locked.id}`)).status).toBe(200);
      expect((await h.api('GET', '/rings')).status).toBe(200);

      // Pause/resume/cancel: a locked ring they would move refuses the whole request.
      expect((await h.api('POST', `/security/ring/${locked.id}/api/unlock`)).status).toBe(200);
      await h.api('POST', '/rings/release', { image: IMAGE, version: 'v3' });
      await h.settle();
      expect((await h.api('GET', '/rings')).body.map((r: any) => r.State)).toEqual(['soaking-requested', 'release-pending']);
      expect((await h.api('POST', `/security/ring/${locked.id}/api/lock`)).status).toBe(200);
      const pause = await h.api('POST', '/rings/release/pause');
      expect(pause.status).toBe(403);
      expect(pause.body.error).toMatch(/ring locked .* is API-locked, so it cannot be paused/);
      const cancel = await h.api('POST', '/rings/release/cancel');
      expect(cancel.status).toBe(403);
      expect(cancel.body.error).toMatch(/cannot be cancelled/);
      expect((await h.api('GET', `/ring/${locked.id}`)).body.State).toBe('release-pending');
      // Resume has nothing to move (nothing paused): allowed.
      expect((await h.api('POST', '/rings/release/resume')).status).toBe(200);
      expect((await h.api('POST', `/security/ring/${locked.id}/api/unlock`)).status).toBe(200);
      expect((await h.api('POST', '/rings/release/pause')).status).toBe(200);
      expect((await h.api('POST', `/security/ring/${locked.id}/api/lock`)).status).toBe(200);
      const resume = await h.api('POST', '/rings/release/resume');
      expect(resume.status).toBe(403);
      expect(resume.body.error).toMatch(/cannot be resumed/);
      expect((await h.api('GET', `/ring/${locked.id}`)).body.State).toBe('release-paused');
      void first;
    });

    it('apiSecurityLock given at creation is honoured', async () => {
      const ring = (await h.api('POST', '/rings', { name: 'born-locked', priority: 1, apiSecurityLock: true })).body;
      expect(ring.APISecurityLock).toBe(true);
      await h.settle();
      expect((await h.api('POST', `/ring/${ring.ID}/update`, { priority: 3 })).status).toBe(403);
      expect((await h.api('DELETE', `/ring/${ring.ID}`)).status).toBe(403);
    });
  });
}

describe('bearer token (apiToken)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ config: { apiToken: 's3cret-token' } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('every /api route answers 401 without the token or with a wrong one; health and metrics stay open', async () => {
    const before = await counts(h);
    for (const route of API_ROUTES) {
      const url = `${h.server.url}/api${fill(route.path, newId())}`;
      for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cret-tokenX', 'Basic s3cret-token', 's3cret-token', 'Bearer ']) {
        const response = await fetch(url, {
          method: route.method.toUpperCase(),
          headers: { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
          ...(route.method === 'post' ? { body: JSON.stringify({ name: 'x', priority: 1, image: IMAGE, version: 'v1', OwnerID: 'o', URL: 'https://h.example.com' }) } : {}),
        });
        expect({ route: `${route.method} ${route.path}`, authorization, status: response.status }).toEqual({ route: `${route.method} ${route.path}`, authorization, status: 401 });
        expect(((await response.json()) as { error: string }).error).toMatch(/missing, wrong or revoked API token: send "Authorization: Bearer <token>"/);
      }
    }
    // Even unknown /api paths and bad bodies are 401 first.
    expect((await fetch(`${h.server.url}/api/nothing-here`)).status).toBe(401);
    expect((await fetch(`${h.server.url}/api/rings`, { method: 'POST', body: '{bad' })).status).toBe(401);
    expect(await counts(h)).toEqual(before);

    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.server.url}/metrics`)).status).toBe(200);
  });

  it('the right token (any case of "Bearer") is accepted', async () => {
    expect((await h.api('POST', '/rings', { name: 'authed', priority: 1 })).status).toBe(202);
    const lower = await fetch(`${h.server.url}/api/rings`, { headers: { Authorization: 'bearer s3cret-token' } });
    expect(lower.status).toBe(200);
    expect(((await lower.json()) as any[]).map((r) => r.Name)).toEqual(['authed']);
  });
});

describe('routes, health and metrics', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('API_ROUTES has no duplicate method+path, and every route is served', async () => {
    const keys = API_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const expected of [
      'GET /rings', 'POST /rings', 'POST /rings/release', 'POST /rings/release/pause', 'POST /rings/release/resume', 'POST /rings/release/cancel',
      'POST /rings/rollback', 'GET /ring/:ring', 'POST /ring/:ring', 'DELETE /ring/:ring', 'POST /ring/:ring/update', 'POST /ring/:ring/release',
      'POST /ring/:ring/rollback', 'POST /ring/:ring/installationgroup', 'DELETE /ring/:ring/installationgroup/:group', 'GET /release/:release',
      'POST /installationgroup/:group/update', 'GET /webhooks', 'POST /webhooks', 'GET /webhook/:webhook', 'DELETE /webhook/:webhook',
      'POST /security/ring/:ring/api/lock', 'POST /security/ring/:ring/api/unlock', 'GET /events',
    ]) {
      expect(keys).toContain(expected);
    }
    for (const route of API_ROUTES) {
      const response = await fetch(`${h.server.url}/api${fill(route.path, newId())}`, { method: route.method.toUpperCase() });
      const body = await response.text();
      expect(response.status).toBeLessThan(500);
      expect(body).not.toMatch(/no route/);
    }
  });

  it('a known path with another method is a 405 naming the allowed methods; unknown paths are a JSON 404', async () => {
    const put = await fetch(`${h.server.url}/api/rings`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD');
    expect(((await put.json()) as any).error).toMatch(/PUT is not allowed on \/api\/rings: use GET or POST/);
    const get = await fetch(`${h.server.url}/api/rings/release`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const options = await fetch(`${h.server.url}/api/ring/${newId()}`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, POST, DELETE, HEAD');
    const missing = await fetch(`${h.server.url}/api/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error).toMatch(/no route GET \/api\/nope/);
    const outside = await fetch(`${h.server.url}/nope`);
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as any).error).toMatch(/no route GET \/nope/);
  });

  it('GET /healthz is 200 while the database answers, 503 when it does not', async () => {
    const ok = await fetch(`${h.server.url}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });

    const dir = mkdtempSync(path.join(tmpdir(), 'elrond-health-'));
    const store = connect(`sqlite://${path.join(dir, 'gone.db')}`);
    await store.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    await store.close();
    const { app } = createHttpApp({ services: h.server.services, store, clock: h.clock, log: createLogger({ silent: true }) });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const down = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', error: 'database unreachable' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('GET /metrics counts requests and latencies by route template and status', async () => {
    const ring = await h.ring('metered', 1);
    await h.api('GET', '/rings');
    await h.api('GET', '/rings');
    await h.api('GET', `/ring/${ring.id}`);
    await h.api('GET', `/ring/${newId()}`);
    await h.api('POST', '/rings', { name: 'x', priority: 0 });
    const response = await fetch(`${h.server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/# TYPE elrond_http_requests_total counter/);
    expect(text).toMatch(/# TYPE elrond_http_request_duration_seconds histogram/);
    expect(text).toMatch(/elrond_http_requests_total\{method="GET",route="\/api\/rings",status="200"\} 2\n/);
    expect(text).toMatch(/elrond_http_requests_total\{method="GET",route="\/api\/ring\/:ring",status="200"\} 1\n/);
    expect(text).toMatch(/elrond_http_requests_total\{method="GET",route="\/api\/ring\/:ring",status="404"\} 1\n/);
    expect(text).toMatch(/elrond_http_requests_total\{method="POST",route="\/api\/rings",status="400"\} 1\n/);
    expect(text).toMatch(/elrond_http_request_duration_seconds_count\{method="GET",route="\/api\/rings"\} 2\n/);
    expect(text).toMatch(/elrond_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/ring\/:ring"\} 2\n/);
    // Ids never become label values.
    expect(text).not.toContain(ring.id);
  });
});
