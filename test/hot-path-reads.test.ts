/**
 * What a step reads from the database (bench/, urgent: a step's reads were most of a release's CPU): a release is
 * read once, the rings a pending ring's gates can name come in one statement, a ring mid-release reads no other
 * ring, and the provisioner client keeps one keep-alive setting on its sockets.
 */
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { statementsOf } from './helpers/statements.js';
import { nextWorkDueAt } from '../src/store/work-queue.js';
import { findRelease, releasesById } from '../src/store/releases.js';
import { findRing, ringsGating } from '../src/store/rings.js';
import { loadRingViews } from '../src/store/ring-view.js';
import { createProvisionerClient } from '../src/integrations/provisioner-client.js';
import { connect } from '../src/store/connect.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { takeWriteGate } from '../src/store/system.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Two rings of one group; ring "second" waits behind "first", which is rolling (its rollout never settles). */
async function twoRings(): Promise<{ h: Harness; first: string; second: string }> {
  h = await startHarness({ settleInstantly: false });
  const first = await h.ring('first', 1, { soak: 60 });
  const second = await h.ring('second', 2, { soak: 60 });
  await h.settle();
  expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
  await h.settle();
  expect((await h.getRing(first.id)).State).toBe('release-in-progress');
  expect((await h.getRing(second.id)).State).toBe('release-pending');
  return { h, first: first.id, second: second.id };
}

describe('reads on the hot path', () => {
  it('a release is read from the database once, then kept (frozen: it never changes)', async () => {
    const { h, first } = await twoRings();
    const ring = (await findRing(h.server.store.db, first))!;
    const statements = await statementsOf(h, async () => {
      for (let i = 0; i < 3; i++) {
        expect((await findRelease(h.server.store.db, ring.desiredReleaseId))?.version).toBe('v2');
        expect((await releasesById(h.server.store.db, [ring.desiredReleaseId])).get(ring.desiredReleaseId)?.version).toBe('v2');
      }
    });
    expect(statements.filter((sql) => sql.includes('"releases"')).length).toBeLessThanOrEqual(1);
    expect(Object.isFrozen(await findRelease(h.server.store.db, ring.desiredReleaseId))).toBe(true);
  });

  it('the rings a pending ring\'s gates can name come in one statement, and it still waits for the ring rolling', async () => {
    const { h, first, second } = await twoRings();
    const ring = (await findRing(h.server.store.db, second))!;
    let gating: Awaited<ReturnType<typeof ringsGating>> = [];
    const statements = await statementsOf(h, async () => {
      gating = await ringsGating(h.server.store.db, ring);
    });
    expect(statements).toHaveLength(1);
    expect(gating.map((r) => r.id)).toEqual([first]);
    expect((await h.getRing(second)).statusMessage).toMatch(/waiting for ring first to finish its release/);
  });

  it('a ring mid-release is decided without reading the other rings; a pending one reads them', async () => {
    const { h, first, second } = await twoRings();
    const settings = { now: h.clock.now(), maxParallelGroups: 1, approvers: [] };
    const [rolling] = await loadRingViews(h.server.store.db, [(await findRing(h.server.store.db, first))!], settings);
    expect(rolling!.rings).toEqual([]);
    const [pending] = await loadRingViews(h.server.store.db, [(await findRing(h.server.store.db, second))!], settings);
    expect(pending!.rings.map((r) => r.id)).toEqual([first]);
  });

  it('the provisioner client keeps one keep-alive delay on its sockets (axios and the agent used to flip it every call)', async () => {
    h = await startHarness();
    const ring = await h.ring('first', 1);
    const client = createProvisionerClient({ baseUrl: h.provisioner.url });
    const delays: number[] = [];
    const original = Socket.prototype.setKeepAlive;
    Socket.prototype.setKeepAlive = function (this: Socket, enable?: boolean, delay?: number) {
      if (enable) delays.push(delay ?? 0);
      return original.call(this, enable, delay);
    };
    try {
      for (let i = 0; i < 5; i++) await client.getGroupStatus(ring.groups[0]!.provisionerGroupId);
    } finally {
      Socket.prototype.setKeepAlive = original;
    }
    expect(delays.length).toBeGreaterThan(0);
    expect(new Set(delays.map((ms) => Math.floor(ms / 1000))).size).toBe(1);
  });

  it('a group step gives its lease back in its own write, not in one more statement', async () => {
    h = await startHarness({ settleInstantly: false });
    const ring = await h.ring('first', 1);
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await h.settle();
    const groupId = ring.groups[0]!.id;
    await h.server.store.db.updateTable('installation_groups').set({ next_check_at: 0 }).where('id', '=', groupId).execute();
    const statements = await statementsOf(h, () => h!.settle());
    const leaseWrites = statements.filter((sql) => /^update "installation_groups" set .*"locked_by" = (\?|\$\d+)/.test(sql));
    // Taken, then given back inside the step's own transaction (whose statements this does not see), not apart.
    expect(leaseWrites).toHaveLength(1);
    expect(leaseWrites[0]).toMatch(/"locked_by" is null or "locked_until" < (\?|\$\d+)/);
    const row = await h.server.store.db.selectFrom('installation_groups').select(['locked_by', 'locked_until', 'phase']).where('id', '=', groupId).executeTakeFirstOrThrow();
    expect(row).toEqual({ locked_by: null, locked_until: 0, phase: 'rolling' });
  });
});

describe('a pass', () => {
  it('ends with one statement for when it is next due', async () => {
    const { h } = await twoRings();
    const due = await h.server.store.db.selectFrom('installation_groups').select((eb) => eb.fn.min('next_check_at').as('at')).where('state', 'in', ['release-requested', 'release-soaking-requested']).executeTakeFirstOrThrow();
    let next: number | null = null;
    const statements = await statementsOf(h, async () => {
      next = await nextWorkDueAt(h.server.store.db);
    });
    expect(statements).toHaveLength(1);
    expect(next).toBe(Number(due.at));
  });
});

describe('SQLite transactions', () => {
  it('take the write lock when they begin, so no gate row is written: another process cannot write until commit', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elrond-immediate-'));
    const url = `sqlite://${path.join(dir, 'elrond.db')}`;
    const first = connect(url, { busyTimeoutMs: 20 });
    const second = connect(url, { busyTimeoutMs: 20 });
    try {
      await migrateToLatest(first.db);
      const gate = () => second.db.selectFrom('system').select('value').where('key', '=', 'write-gate').executeTakeFirst();
      const before = await gate();
      await first.db.transaction().execute(async (trx) => {
        await takeWriteGate(trx, 12_345);
        await trx.selectFrom('system').selectAll().execute();
        // Only a read so far, yet the other connection's write already has to wait for this transaction.
        await expect(second.db.insertInto('system').values({ key: 'probe', value: '1' }).execute()).rejects.toThrow(/database is locked/);
      });
      await second.db.insertInto('system').values({ key: 'probe', value: '1' }).execute();
      expect(await gate()).toEqual(before);
    } finally {
      await first.close();
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
