import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { connect, type Store } from '../src/store/connect.js';
import { acquireLease } from '../src/store/leases.js';
import { startLiveness, type Liveness } from '../src/store/liveness.js';
import { TEST_DIALECTS, tempDatabase, type TempDatabase } from './helpers/temp-database.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TTL = 10 * 60_000;
const now = () => Date.now();

/**
 * A separate process that announces its liveness as `owner`, takes the lease on `groupId` for ten minutes and
 * says "held"; it then waits until killed (built code from dist/: run `npx tsc -p tsconfig.json` first).
 */
async function holderProcess(url: string, owner: string, groupId: string): Promise<ChildProcess> {
  const script = `
    const { connect } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/store/connect.js'))});
    const { startLiveness } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/store/liveness.js'))});
    const { acquireLease } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/store/leases.js'))});
    const store = connect(${JSON.stringify(url)});
    await startLiveness(store.db, ${JSON.stringify(url)}, ${JSON.stringify(owner)}, () => {});
    const held = await acquireLease(store.db, 'installation_groups', ${JSON.stringify(groupId)}, ${JSON.stringify(owner)}, Date.now(), ${TTL});
    process.stdout.write(held ? 'held\\n' : 'refused\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(line.toString().trim()).toBe('held');
  return child;
}

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function databaseWithGroup(kind: 'sqlite' | 'postgres'): Promise<{ temp: TempDatabase; groupId: string }> {
  const temp = await tempDatabase(kind);
  cleanups.push(() => temp.cleanup());
  await temp.store.db.insertInto('installation_groups').values({ id: 'ig-1', name: 'canary-ig', state: 'release-requested', soak_time: 0, provisioner_group_id: 'pg-1', create_at: now() }).execute();
  return { temp, groupId: 'ig-1' };
}

/** A second replica on the same database: its own connection and its own liveness. */
async function replica(url: string, owner: string): Promise<{ store: Store; liveness: Liveness | undefined }> {
  const store = connect(url, { poolSize: 2 });
  const liveness = await startLiveness(store.db, url, owner, () => undefined);
  cleanups.push(async () => {
    await liveness?.close();
    await store.close();
  });
  return { store, liveness };
}

describe.each(TEST_DIALECTS)('lease takeover decided by liveness (%s)', (kind) => {
  it('a SIGKILLed owner\'s unexpired lease is taken at once; a live owner keeps its lease', async () => {
    const { temp, groupId } = await databaseWithGroup(kind);
    const holder = await holderProcess(temp.url, 'elrond-old', groupId);
    const { store } = await replica(temp.url, 'elrond-new');

    // Alive (and its lease has ten minutes left): not taken.
    expect(await acquireLease(store.db, 'installation_groups', groupId, 'elrond-new', now(), TTL)).toBe(false);

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    // Dead: taken at once, though the lease would last another ten minutes.
    expect(await acquireLease(store.db, 'installation_groups', groupId, 'elrond-new', now(), TTL)).toBe(true);
    const row = await store.db.selectFrom('installation_groups').select('locked_by').where('id', '=', groupId).executeTakeFirstOrThrow();
    expect(row.locked_by).toBe('elrond-new');
  }, 30_000);

  it('an owner that never announced liveness (an older replica) is not taken for dead: its lease runs to its end', async () => {
    const { temp, groupId } = await databaseWithGroup(kind);
    await acquireLease(temp.store.db, 'installation_groups', groupId, 'elrond-legacy', now(), TTL);
    const { store } = await replica(temp.url, 'elrond-new');
    expect(await acquireLease(store.db, 'installation_groups', groupId, 'elrond-new', now(), TTL)).toBe(false);
    expect(await acquireLease(store.db, 'installation_groups', groupId, 'elrond-new', now() + TTL + 1, TTL)).toBe(true);
  });

  it('of two live replicas racing for a dead owner\'s lease, exactly one gets it', async () => {
    const { temp, groupId } = await databaseWithGroup(kind);
    const holder = await holderProcess(temp.url, 'elrond-old', groupId);
    const a = await replica(temp.url, 'elrond-a');
    const b = await replica(temp.url, 'elrond-b');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const results = await Promise.all([
      acquireLease(a.store.db, 'installation_groups', groupId, 'elrond-a', now(), TTL),
      acquireLease(b.store.db, 'installation_groups', groupId, 'elrond-b', now(), TTL),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    // And the winner, alive, keeps it against the other.
    const [winner, loser] = results[0] ? ['elrond-a', b] : ['elrond-b', a];
    expect(await acquireLease(loser.store.db, 'installation_groups', groupId, loser === a ? 'elrond-a' : 'elrond-b', now(), TTL)).toBe(false);
    const row = await a.store.db.selectFrom('installation_groups').select('locked_by').where('id', '=', groupId).executeTakeFirstOrThrow();
    expect(row.locked_by).toBe(winner);
  }, 30_000);
});
