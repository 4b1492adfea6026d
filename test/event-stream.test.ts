import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { startPageServer, openSse, type PageServer, type SseConnection } from './helpers/status-page-server.js';
import { IMAGE } from './helpers/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function server(options: Parameters<typeof startPageServer>[0] = {}): Promise<PageServer> {
  const started = await startPageServer(options);
  cleanups.push(() => started.close());
  return started;
}

async function sse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const connection = await openSse(url, headers);
  cleanups.push(() => connection.close());
  return connection;
}

const latest = async (s: PageServer) => Math.max(0, ...((await s.api('GET', '/events?limit=1')).body as Array<{ id: number }>).map((e) => e.id));

describe('GET /api/stream (Server-Sent Events of the events table)', () => {
  it('pushes what happens after the client\'s last event id, as change messages carrying ids and kinds only', async () => {
    const s = await server();
    const [ringId] = await s.fleet([{ name: 'canary', priority: 1 }], 1);
    const since = await latest(s);
    const stream = await sse(`${s.server.url}/api/stream?since=${since}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect((await s.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    const change = await stream.waitFor('for the release', (m) => m.data.events.some((e: { kind: string }) => e.kind === 'ring.state'));
    expect(change.event).toBe('change');
    expect(Number(change.id)).toBe(change.data.latest);
    expect(change.data.events[0]).toEqual({ id: since + 1, kind: 'ring.state', ringId, groupId: null, rolloutId: expect.any(String) });
    // Nothing but ids and kinds: no messages, names or reasons travel on the stream.
    expect(Object.keys(change.data.events[0]).sort()).toEqual(['groupId', 'id', 'kind', 'ringId', 'rolloutId']);
    // Ids only go up.
    await s.settle();
    await stream.waitFor('for the group starting', (m) => m.data.events.some((e: { kind: string }) => e.kind === 'group.state'));
    const ids = stream.messages.flatMap((m) => m.data.events.map((e: { id: number }) => e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('works across replicas: a change made through one replica reaches a listener on another (both read the events table)', async () => {
    const a = await server();
    const b = await server({ database: a.database, clock: a.clock });
    await a.fleet([{ name: 'canary', priority: 1 }], 1);
    const onB = await sse(`${b.server.url}/api/stream?since=${await latest(a)}`);
    expect((await a.api('POST', '/freezes/now', { reason: 'incident 1234' })).status).toBe(201);
    const change = await onB.waitFor('for the freeze made through replica A', (m) => m.data.events.some((e: { kind: string }) => e.kind === 'freeze.created'));
    expect(change.data.complete).toBe(true);
  });

  it('resumes from Last-Event-ID after a disconnect: what happened meanwhile comes first, then what is new', async () => {
    const s = await server();
    await s.fleet([{ name: 'canary', priority: 1 }], 1);
    const before = await latest(s);
    // Three changes while nobody listens.
    for (const reason of ['one', 'two', 'three']) expect((await s.api('POST', '/freezes/now', { reason: `freeze ${reason}` })).status).toBe(201);
    const back = await sse(`${s.server.url}/api/stream`, { 'Last-Event-ID': String(before) });
    const missed = await back.waitFor('with the missed events', (m) => m.data.events.length > 0);
    expect(missed.data.events.map((e: { id: number; kind: string }) => [e.id, e.kind])).toEqual([
      [before + 1, 'freeze.created'],
      [before + 2, 'freeze.created'],
      [before + 3, 'freeze.created'],
    ]);
    expect(missed.id).toBe(String(before + 3));
    expect((await s.api('POST', '/freezes/now', { reason: 'freeze four' })).status).toBe(201);
    const next = await back.waitFor('with the new one', (m) => m.data.events.some((e: { id: number }) => e.id === before + 4));
    expect(Number(next.id)).toBe(before + 4);
  });

  it('serves a bounded number of listeners: one more gets a 503 saying so, and a place frees when one leaves', async () => {
    const s = await server();
    const listeners: SseConnection[] = [];
    for (let i = 0; i < 100; i++) listeners.push(await sse(`${s.server.url}/api/stream`));
    expect(listeners.every((l) => l.status === 200)).toBe(true);
    const refused = await fetch(`${s.server.url}/api/stream`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect((await refused.json()).error).toMatch(/serves live updates to 100 viewers at a time/);
    listeners[0]!.close();
    for (let i = 0; i < 100; i++) {
      const retry = await fetch(`${s.server.url}/api/stream`);
      await retry.body?.cancel();
      if (retry.status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no place freed after a listener left');
  });

  it('merges what a listener that stops reading is owed into one message, instead of queueing every change for it', async () => {
    const s = await server();
    const since = await latest(s);
    // A listener that sends its request and then reads nothing (a stalled phone, a stuck proxy).
    const socket = net.connect(Number(new URL(s.server.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    cleanups.push(() => void socket.destroy());
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.write(`GET /api/stream?since=${since} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
    for (let i = 0; i < 200 && !received.includes('retry: 3000'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toMatch(/^HTTP\/1.1 200 OK/);
    socket.pause();
    // Another replica (or a big rollout) writes 250 000 events: more than the sockets' buffers hold (about 4 MB here).
    const rows = Array.from({ length: 250_000 }, (_, i) => ({ at: s.clock.now(), actor: 'elrond', source: 'supervisor', kind: 'group.progress', message: `step ${i}` }));
    for (let i = 0; i < rows.length; i += 1000) await s.server.store.db.insertInto('events').values(rows.slice(i, i + 1000)).execute();
    const last = await latest(s);
    // Let the stream read it all and write what it can; then the listener reads again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    socket.resume();
    const deadline = Date.now() + 15_000;
    while (!received.includes(`id: ${last}\n`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const messages = received.split('\n\n').filter((block) => block.includes('event: change')).map((block) => JSON.parse(/data: (.*)/.exec(block)![1]!) as { latest: number; events: unknown[]; complete: boolean });
    expect(messages.at(-1)).toEqual({ latest: last, events: [], complete: false });
    // 250 000 events are 1250 reads of the table; what was held back for the listener was merged, not queued.
    expect(messages.length).toBeLessThan(1250);
  }, 120_000);
});
