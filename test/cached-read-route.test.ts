/**
 * `GET /api/...` answered ahead of Express from the read cache (src/http/cached-read-route.ts): only an answer the
 * Express route computed for the same roles and URL, for the data as it is now, and only to a caller proven the
 * same way; everything else goes on to Express.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createCachedReadHandler, restReadKey, type CachedRestAnswer } from '../src/http/cached-read-route.js';
import { createReadCache } from '../src/service/read-cache.js';
import { tokenCaller } from '../src/service/access-policy.js';
import { ManualClock } from '../src/model/clock.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { createApiToken, revokeApiToken } from '../src/store/api-tokens.js';
import { restCredentials, TOKEN_CACHE_MS } from '../src/http/rest-credentials.js';

const ADMIN = 'a'.repeat(32);
const VIEWER = 'v'.repeat(32);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const length = options.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(options.body)) };
    const req = http.request(url, { method: options.method ?? 'GET', headers: { ...options.headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the cached-read route', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /** The route in front of a stand-in for Express that answers 299 and counts what reached it. */
  async function route() {
    const clock = new ManualClock(Date.UTC(2026, 11, 3, 12));
    const state = { version: 1, fellThrough: [] as string[], observed: [] as string[] };
    const reads = createReadCache({ dataVersion: async () => String(state.version), clock });
    const proven = new WeakMap<http.IncomingMessage, unknown>();
    const handler = createCachedReadHandler({
      reads,
      credentials: restCredentials({ tokens: [{ token: ADMIN, role: 'admin' }, { token: VIEWER, role: 'viewer' }], now: () => clock.now() }),
      allowSelfApproval: false,
      proven: proven as WeakMap<http.IncomingMessage, never>,
      fallback: (req, res) => {
        state.fellThrough.push(`${req.method} ${req.url}${proven.has(req) ? ' (proven)' : ''}`);
        res.statusCode = 299;
        res.end('express');
      },
      observe: (path, status) => state.observed.push(`${path} ${status}`),
    });
    const server = http.createServer((req, res) => {
      if (!handler(req, res)) {
        state.fellThrough.push(`${req.method} ${req.url} (not taken)`);
        res.statusCode = 299;
        res.end('express');
      }
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    /** What the Express route would have cached for an admin asking `path`. */
    const cache = (path: string, body: unknown, role: 'admin' | 'viewer' = 'admin') =>
      reads.read<CachedRestAnswer>(restReadKey(tokenCaller({ name: 'x', source: 'api' }, role), path), async () => ({ status: 200, body: Buffer.from(JSON.stringify(body)), route: '/api/rings' }));
    return { url, state, cache, clock };
  }

  it('answers a read the Express route cached, for the data as it is now, without Express', async () => {
    const { url, state, cache } = await route();
    const rings = Array.from({ length: 40 }, (_, i) => ({ ID: `ring-${i}`, Name: `ring ${i}` }));
    await cache('/api/rings?page=0', rings);

    const plain = await request(`${url}/api/rings?page=0`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('application/json');
    expect(JSON.parse(plain.body.toString())).toEqual(rings);
    const gzipped = await request(`${url}/api/rings?page=0`, { headers: { Authorization: `Bearer ${ADMIN}`, 'Accept-Encoding': 'gzip' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gzipped.body).toString())).toEqual(rings);
    expect(state.fellThrough).toEqual([]);
    expect(state.observed).toEqual(['/api/rings 200', '/api/rings 200']);

    // The data changed: the cached answer is out of date, and Express computes the new one.
    state.version++;
    expect((await request(`${url}/api/rings?page=0`, { headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(299);
    expect(state.fellThrough).toEqual(['GET /api/rings?page=0 (proven)']);
  });

  it('hands Express every request it cannot answer from the cache exactly', async () => {
    const { url, state, cache } = await route();
    await cache('/api/rings', [{ ID: 'one' }]);
    const asks: Array<[string, { method?: string; headers?: Record<string, string>; body?: string }]> = [
      // No token, a wrong one: Express refuses them (401), nothing is proven.
      ['/api/rings', {}],
      ['/api/rings', { headers: { Authorization: `Bearer ${'w'.repeat(32)}` } }],
      // Another role: another answer (the policy may show a viewer less).
      ['/api/rings', { headers: { Authorization: `Bearer ${VIEWER}` } }],
      // Another URL, even one Express would route the same.
      ['/api/rings/', { headers: { Authorization: `Bearer ${ADMIN}` } }],
      ['/api/rings?per_page=60', { headers: { Authorization: `Bearer ${ADMIN}` } }],
      // A body (Express parses it and may refuse it), HEAD, a write.
      ['/api/rings', { headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: '{"x":' }],
      ['/api/rings', { method: 'HEAD', headers: { Authorization: `Bearer ${ADMIN}` } }],
      ['/api/rings', { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: '{}' }],
      ['/healthz', { headers: { Authorization: `Bearer ${ADMIN}` } }],
    ];
    for (const [path, options] of asks) expect((await request(`${url}${path}`, options)).status, `${options.method ?? 'GET'} ${path}`).toBe(299);
    expect(state.fellThrough).toEqual([
      'GET /api/rings',
      'GET /api/rings',
      'GET /api/rings (proven)',
      'GET /api/rings/ (proven)',
      'GET /api/rings?per_page=60 (proven)',
      'GET /api/rings (not taken)',
      'HEAD /api/rings (not taken)',
      'POST /api/rings (not taken)',
      'GET /healthz (not taken)',
    ]);
    expect(state.observed).toEqual([]);
  });

  it('serves an answer only within the second it was computed in (answers count soak time down)', async () => {
    const { url, state, cache, clock } = await route();
    await cache('/api/rings', []);
    expect((await request(`${url}/api/rings`, { headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    clock.advance(1000);
    expect((await request(`${url}/api/rings`, { headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(299);
    expect(state.fellThrough).toHaveLength(1);
  });
});

describe('cached reads on the real server', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('gives the answer Express gives, shows a write at once, and stops answering a revoked token', async () => {
    h = await startHarness({ config: { apiToken: ADMIN } });
    const { url } = h.server;
    await h.ring('alpha', 1);
    const dash = { Authorization: `Bearer ${await createApiToken(h.server.store.db, { name: 'dash', role: 'viewer', now: h.clock.now() })}`, 'Accept-Encoding': 'gzip' };

    // The first read is computed by Express, the second found in the cache: the same bytes and headers.
    const first = await request(`${url}/api/rings`, { headers: dash });
    const second = await request(`${url}/api/rings`, { headers: dash });
    expect(second.status).toBe(200);
    expect(second.body.equals(first.body)).toBe(true);
    const headersOf = (reply: Reply) => Object.fromEntries(Object.entries(reply.headers).filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name)));
    expect(headersOf(second)).toEqual(headersOf(first));

    await h.ring('beta', 2);
    const after = JSON.parse(gunzipSync((await request(`${url}/api/rings`, { headers: dash })).body).toString()) as Array<{ Name: string }>;
    expect(after.map((ring) => ring.Name)).toEqual(['alpha', 'beta']);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/elrond_http_requests_total\{method="GET",route="\/api\/rings",status="200"\} 3\n/);

    // Revoked (`elrond token revoke`, straight to the database): refused by the same check Express makes, once the
    // stored tokens are read again (TOKEN_CACHE_MS), though the answer is still cached.
    const cached = await request(`${url}/api/rings`, { headers: dash });
    expect(cached.status).toBe(200);
    await revokeApiToken(h.server.store.db, 'dash');
    h.clock.advance(TOKEN_CACHE_MS + 1);
    const refused = await request(`${url}/api/rings`, { headers: dash });
    expect(refused.status).toBe(401);
  });
});
