import { afterEach, describe, expect, it } from 'vitest';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { createReadCache } from '../src/service/read-cache.js';
import { ManualClock } from '../src/model/clock.js';
import { startServer, type RunningServer } from '../src/server.js';
import { defaultServerConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { FakeProvisioner } from './fakes/fake-provisioner.js';
import { TEST_DIALECTS, tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { IMAGE } from './helpers/harness.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('read cache', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
  let version = 1;
  const cache = () => createReadCache({ dataVersion: async () => String(version), clock, maxEntries: 2 });

  it('serves an answer again while the data version and the second are unchanged, and recomputes when either moves', async () => {
    const reads = cache();
    let computed = 0;
    const compute = async () => ++computed;
    expect(await reads.read('k', compute)).toBe(1);
    expect(await reads.read('k', compute)).toBe(1);
    version++;
    expect(await reads.read('k', compute)).toBe(2);
    clock.advance(1000);
    expect(await reads.read('k', compute)).toBe(3);
    expect(await reads.read('other', compute)).toBe(4);
    expect(reads.stats).toEqual({ hits: 1, misses: 4 });
  });

  it('peeks at an answer without computing one: found only for the data as it is now, or while being computed for it', async () => {
    const reads = cache();
    expect(await reads.peek('k')).toBeUndefined();
    const gate = deferred<string>();
    const first = reads.read('k', () => gate.promise);
    const peeked = reads.peek<string>('k');
    gate.resolve('answer');
    expect(await first).toBe('answer');
    expect(await peeked).toBe('answer');
    expect(await reads.peek('k')).toBe('answer');
    version++;
    expect(await reads.peek('k')).toBeUndefined();
    expect(reads.stats).toEqual({ hits: 2, misses: 1 });
  });

  it('computes once for many concurrent requests', async () => {
    const reads = cache();
    const gate = deferred<string>();
    let computed = 0;
    const answers = Promise.all(Array.from({ length: 10 }, () => reads.read('k', () => (computed++, gate.promise))));
    gate.resolve('answer');
    expect(await answers).toEqual(Array(10).fill('answer'));
    expect(computed).toBe(1);
  });

  it('when the data changes during a computation, the requests arriving meanwhile share one new computation and never get the old answer', async () => {
    const reads = cache();
    const first = deferred<string>();
    const computations: string[] = [];
    const early = reads.read('k', () => (computations.push('v1'), first.promise));
    await Promise.resolve();
    version++;
    const late = Array.from({ length: 5 }, () => reads.read('k', async () => (computations.push('v2'), 'new')));
    first.resolve('old');
    expect(await early).toBe('old');
    expect(await Promise.all(late)).toEqual(Array(5).fill('new'));
    expect(computations).toEqual(['v1', 'v2']);
  });

  it('keeps answers up to a total weight, least recently used dropped first; one heavier than that is not kept', async () => {
    const reads = createReadCache({ dataVersion: async () => String(version), clock, maxBytes: 100 });
    const weigh = (answer: string) => answer.length;
    let computed = 0;
    const answer = (size: number) => async () => (computed++, 'x'.repeat(size));
    await reads.read('a', answer(60), weigh);
    await reads.read('b', answer(30), weigh);
    await reads.read('a', answer(60), weigh);
    expect(computed).toBe(2);
    await reads.read('c', answer(30), weigh); // 120 bytes: 'b' (least recently used) goes
    await reads.read('a', answer(60), weigh);
    await reads.read('b', answer(30), weigh);
    expect(computed).toBe(4);
    await reads.read('huge', answer(200), weigh);
    await reads.read('huge', answer(200), weigh);
    expect(computed).toBe(6);
  });

  it('does not keep failures, and drops the least recently used answer beyond its size', async () => {
    const reads = cache();
    await expect(reads.read('k', async () => Promise.reject(new Error('database gone')))).rejects.toThrow('database gone');
    expect(await reads.read('k', async () => 'recovered')).toBe('recovered');
    await reads.read('a', async () => 'a');
    await reads.read('k', async () => 'not used: still cached');
    await reads.read('b', async () => 'b'); // size 2: drops 'a', the least recently used
    expect(await reads.read('k', async () => 'not used either')).toBe('recovered');
    expect(await reads.read('a', async () => 'a again')).toBe('a again');
  });
});

describe.each(TEST_DIALECTS)('data version (%s)', (dialect) => {
  let temp: TempDatabase;
  afterEach(async () => temp?.cleanup());

  it('moves on every write this process sends at once and every commit of another connection by the next turn; not on reads (nor, on SQLite, outbox bookkeeping)', async () => {
    temp = await tempDatabase(dialect);
    const { store } = temp;
    const v0 = await store.dataVersion();
    await store.db.selectFrom('rings').selectAll().execute();
    if (dialect === 'sqlite') expect(await store.dataVersion()).toBe(v0);
    await store.db.insertInto('outbox').values({ event_id: null, sink: 'webhook', target: 't', ordering_key: 'k', payload: '{}', create_at: 1, next_attempt_at: 1 }).execute();
    // On Postgres any commit moves the snapshot, so only a SQLite process can tell its outbox writes apart.
    if (dialect === 'sqlite') expect(await store.dataVersion()).toBe(v0);
    await store.db.insertInto('system').values({ key: 'test', value: '1' }).execute();
    const v1 = await store.dataVersion();
    expect(v1).not.toBe(v0);

    // Another process's commit.
    if (dialect === 'sqlite') {
      const other = new SqliteDatabase(temp.url.replace(/^sqlite:\/\//, ''));
      other.prepare("update system set value = '2' where key = 'test'").run();
      other.close();
    } else {
      const other = new pg.Client({ connectionString: temp.url });
      await other.connect();
      await other.query("update system set value = '2' where key = 'test'");
      await other.end();
    }
    // On SQLite the counter is read once per turn of the event loop: a commit by another connection shows on the
    // next turn (what a request received after that commit runs in), not within the turn that read it before.
    if (dialect === 'sqlite') {
      expect(await store.dataVersion()).toBe(v1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const v2 = await store.dataVersion();
    expect(v2).not.toBe(v1);
    // A Postgres snapshot also moves with commits to other databases of the server (other test files run in
    // parallel), so only SQLite's version can be expected to hold still.
    if (dialect === 'sqlite') expect(await store.dataVersion()).toBe(v2);
  });
});

describe.each(TEST_DIALECTS)('cached reads across replicas (%s)', (dialect) => {
  const servers: RunningServer[] = [];
  let temp: TempDatabase;
  let provisioner: FakeProvisioner;
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await provisioner?.stop();
    await temp?.cleanup();
  });

  it('a change made through one replica is in the very next answer of another, which otherwise answers from its cache', async () => {
    provisioner = new FakeProvisioner({ settleInstantly: true });
    const provisionerUrl = await provisioner.start();
    temp = await tempDatabase(dialect);
    await temp.store.close();
    // A clock that does not move: answers are shared within one second, and a loaded machine must not tick it
    // between the two reads this test compares.
    const clock = new ManualClock();
    const start = async () => {
      const server = await startServer(
        { ...defaultServerConfig(), database: temp.url, listen: '127.0.0.1:0', poll: 0, provisionerServer: provisionerUrl },
        { log: createLogger({ silent: true }), startLoops: false, clock },
      );
      servers.push(server);
      return server;
    };
    const [a, b] = [await start(), await start()];
    const get = async (server: RunningServer, route: string) => (await fetch(`${server.url}/api${route}`)).json() as Promise<Array<{ Name: string; State: string }>>;
    const hits = async (server: RunningServer) => Number(/^elrond_read_cache_total\{result="hit"\} (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);

    expect(await get(b, '/rings')).toEqual([]);
    const hitsBefore = await hits(b);
    expect(await get(b, '/rings')).toEqual([]);
    // On Postgres any commit on the server (other test files' databases included) starts a new version.
    if (dialect === 'sqlite') expect(await hits(b)).toBe(hitsBefore + 1);

    const created = await fetch(`${a.url}/api/rings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'canary', priority: 1, image: IMAGE, version: 'v1' }) });
    expect(created.status).toBe(202);
    expect((await get(b, '/rings')).map((r) => r.Name)).toEqual(['canary']);
    const status = (await (await fetch(`${b.url}/api/status`)).json()) as Array<{ name: string; state: string }>;
    expect(status.map((r) => [r.name, r.state])).toEqual([['canary', 'creation-requested']]);

    // The engine's own moves (here on replica A) show at once too.
    await a.supervisor.runUntilIdle();
    expect((await get(b, '/rings')).map((r) => r.State)).toEqual(['stable']);
  });
});
