import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGrafana } from './fakes/fake-grafana.js';

let clock = 1_700_000_000_000;
let fake: FakeGrafana;
let url: string;

async function call(method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string | null; body: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = new FakeGrafana({ now: () => clock });
  fake.addToken('glsa_org1', 1);
  fake.addToken('glsa_org2', 2);
  url = await fake.start();
});

afterEach(async () => {
  await fake.stop();
});

describe('FakeGrafana annotations', () => {
  it('creates annotations with incrementing ids, default time = now, per org', async () => {
    const a = await call('POST', '/api/annotations', 'glsa_org1', { panelId: 0, text: 'Initiating release', tags: ['ring:R', 'elrond'] });
    expect(a).toEqual({ status: 200, contentType: 'application/json', body: { message: 'Annotation added', id: 1 } });
    const b = await call('POST', '/api/annotations', 'glsa_org2', { dashboardUID: 'abc', panelId: 3, time: 5, timeEnd: 9, text: 'other org', tags: ['x'] });
    expect(b.body).toEqual({ message: 'Annotation added', id: 2 });
    expect(fake.annotations(1)).toMatchObject([{ id: 1, orgId: 1, time: clock, timeEnd: clock, panelId: 0, dashboardUID: '', tags: ['ring:R', 'elrond'], text: 'Initiating release' }]);
    expect(fake.annotations(2)).toMatchObject([{ id: 2, dashboardUID: 'abc', panelId: 3, time: 5, timeEnd: 9 }]);
  });

  it('requires text (400) and a known token (401)', async () => {
    expect(await call('POST', '/api/annotations', 'glsa_org1', { tags: ['a'] })).toMatchObject({ status: 400, body: { message: 'Failed to save annotation' } });
    expect(await call('POST', '/api/annotations', 'glsa_org1', { text: '' })).toMatchObject({ status: 400 });
    expect(await call('POST', '/api/annotations', 'glsa_bad', { text: 'x' })).toMatchObject({ status: 401, body: { message: 'Invalid API key' } });
    expect((await call('POST', '/api/annotations', undefined, { text: 'x' })).status).toBe(401);
    expect(fake.annotations()).toEqual([]);
  });

  it('patches only the given fields; 404 for unknown or foreign ids; 400 for bad ids', async () => {
    await call('POST', '/api/annotations', 'glsa_org1', { time: 100, text: 'start', tags: ['a'] });
    expect(await call('PATCH', '/api/annotations/1', 'glsa_org1', { timeEnd: 200, text: '', tags: null })).toEqual({ status: 200, contentType: 'application/json', body: { message: 'Annotation patched' } });
    expect(fake.annotations(1)[0]).toMatchObject({ time: 100, timeEnd: 200, text: 'start', tags: ['a'] });
    await call('PATCH', '/api/annotations/1', 'glsa_org1', { text: 'done', tags: ['b'], time: 0 });
    expect(fake.annotations(1)[0]).toMatchObject({ time: 100, timeEnd: 200, text: 'done', tags: ['b'] });
    expect(await call('PATCH', '/api/annotations/99', 'glsa_org1', { text: 'x' })).toMatchObject({ status: 404, body: { message: 'Annotation not found' } });
    expect(await call('PATCH', '/api/annotations/1', 'glsa_org2', { text: 'x' }, { 'X-Grafana-Org-Id': '1' })).toMatchObject({ status: 404, body: { message: 'Annotation not found' } });
    expect(await call('PATCH', '/api/annotations/abc', 'glsa_org1', { text: 'x' })).toMatchObject({ status: 400, body: { message: 'annotationId is invalid' } });
    expect(fake.requests.at(-2)?.headers['x-grafana-org-id']).toBe('1');
  });

  it('lists by tags (all must match), scoped to the token org; get by id; delete', async () => {
    await call('POST', '/api/annotations', 'glsa_org1', { text: 'one', tags: ['ring:R', 'elrond'] });
    await call('POST', '/api/annotations', 'glsa_org1', { text: 'two', tags: ['ring:S', 'elrond'] });
    await call('POST', '/api/annotations', 'glsa_org2', { text: 'three', tags: ['ring:R', 'elrond'] });
    const both = await call('GET', '/api/annotations?tags=ring:R&tags=elrond', 'glsa_org1');
    expect((both.body as Array<{ text: string }>).map((a) => a.text)).toEqual(['one']);
    const all = await call('GET', '/api/annotations?tags=elrond', 'glsa_org1');
    expect((all.body as unknown[]).length).toBe(2);
    const any = await call('GET', '/api/annotations?tags=ring:R&tags=ring:S&matchAny=true', 'glsa_org1');
    expect((any.body as unknown[]).length).toBe(2);
    expect(await call('GET', '/api/annotations/1', 'glsa_org1')).toMatchObject({ status: 200, body: { id: 1, text: 'one', alertId: 0, dashboardId: 0 } });
    expect((await call('GET', '/api/annotations/3', 'glsa_org1')).status).toBe(404);
    expect(await call('DELETE', '/api/annotations/1', 'glsa_org1')).toMatchObject({ status: 200, body: { message: 'Annotation deleted' } });
    expect(fake.annotations(1).map((a) => a.text)).toEqual(['two']);
  });

  it('fails on demand: failNext and down (status or socket reset)', async () => {
    fake.failNext(1, 500);
    expect((await call('POST', '/api/annotations', 'glsa_org1', { text: 'x' })).status).toBe(500);
    expect((await call('POST', '/api/annotations', 'glsa_org1', { text: 'x' })).status).toBe(200);
    fake.down(true);
    expect((await call('GET', '/api/annotations', 'glsa_org1')).status).toBe(503);
    fake.down(true, 'reset');
    await expect(call('GET', '/api/annotations', 'glsa_org1')).rejects.toThrow();
    fake.down(false);
    expect((await call('GET', '/api/annotations', 'glsa_org1')).status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200, 503, undefined, 200]);
  });
});
