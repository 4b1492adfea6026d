/**
 * Supervisor passes over many queued rings: they let requests in between ring steps, and a backstop pass that
 * finds nothing changed writes nothing (no lease taken, no wait rewritten).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, IMAGE, DEFAULT_DIALECT, type Harness } from './helpers/harness.js';
import { statementsOf } from './helpers/statements.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Ring 1 soaking for an hour, `queued` more rings waiting behind it. */
async function queue(queued: number): Promise<Harness> {
  h = await startHarness();
  await h.ring('first', 1, { soak: 3600 });
  for (let i = 0; i < queued; i++) await h.ring(`queued-${i}`, i + 2, { soak: 0 });
  await h.settle();
  expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
  await h.settle();
  expect((await h.getRing((await h.api('GET', '/rings')).body[0].ID)).State).toBe('soaking-requested');
  return h;
}

describe('supervisor passes over many queued rings', () => {
  it('a backstop pass that finds every ring waiting as before writes nothing', async () => {
    const h = await queue(40);
    // A pass that looks at every ring refreshes what the queued rings wait for (ring "first" is soaking now)...
    await h.server.supervisor.runUntilIdle();
    // ...and the next finds nothing to change: this process sends no write (the data version's first part counts
    // them; its second part, other processes' commits, moves with anything on a shared Postgres server).
    const localWrites = async () => (await h.server.store.dataVersion()).split('/')[0];
    const before = await localWrites();
    await h.server.supervisor.runUntilIdle();
    expect(await localWrites()).toBe(before);
    const waiting = ((await h.api('GET', '/rings?per_page=-1')).body as Array<{ State: string; statusMessage: string; LockAcquiredBy: string | null }>).slice(1);
    expect(waiting.every((r) => r.State === 'release-pending' && /waiting for ring first to finish its release \(soaking-requested\)/.test(r.statusMessage) && r.LockAcquiredBy === null)).toBe(true);
  });

  it('a backstop pass reads the queued rings together, and still refreshes the one whose stored wait is out of date', async () => {
    const h = await queue(60);
    await h.server.supervisor.runUntilIdle();
    const rings = (await h.api('GET', '/rings?per_page=-1')).body as Array<{ ID: string; statusMessage: string }>;
    const stale = rings[30]!;
    // A wait stored by an older version of the decision, not due for an hour: only a full pass can notice it.
    await h.server.store.db.updateTable('rings').set({ status_message: 'stale', next_check_at: h.clock.now() + 3_600_000 }).where('id', '=', stale.ID).execute();
    // Count the statements the engine sends (every one goes through the database's executor).
    const executor = h.server.store.db.getExecutor() as unknown as { executeQuery: (...args: unknown[]) => Promise<unknown> };
    const original = executor.executeQuery.bind(executor);
    let statements = 0;
    executor.executeQuery = (...args: unknown[]) => {
      statements++;
      return original(...args);
    };
    try {
      await h.server.supervisor.runUntilIdle();
    } finally {
      executor.executeQuery = original;
    }
    expect((await h.getRing(stale.ID)).statusMessage).toMatch(/waiting for ring first to finish its release/);
    // Read one ring at a time, 60 queued rings cost 5 statements or more each.
    expect(statements).toBeLessThan(60);
  });

  it('a backstop pass rewords the waits of queued rings in one transaction, without stepping each one', async () => {
    const h = await queue(40);
    await h.server.supervisor.runUntilIdle();
    // What the queued rings said while an earlier ring was the one in progress: same state, same deadline.
    await h.server.store.db.updateTable('rings').set({ status_message: 'waiting for ring gone to finish its release (release-in-progress)' }).where('state', '=', 'release-pending').execute();
    // A step that moved one ring meanwhile wrote newer words: they stay.
    const rings = (await h.api('GET', '/rings?per_page=-1')).body as Array<{ ID: string }>;
    const { rewriteWaitMessages } = await import('../src/store/rings.js');
    const ring5 = await h.getRing(rings[5]!.ID);
    const stale = { id: rings[5]!.ID, state: 'release-pending' as const, nextCheckAt: (await h.server.store.db.selectFrom('rings').select('next_check_at').where('id', '=', rings[5]!.ID).executeTakeFirstOrThrow()).next_check_at };
    expect(await rewriteWaitMessages(h.server.store.db, [{ ...stale, from: 'what an older read saw', to: 'lost' }])).toBe(0);
    expect((await h.getRing(ring5.ID)).statusMessage).toBe(ring5.statusMessage);

    const sent = await statementsOf(h, () => h!.server.supervisor.runUntilIdle());
    const waiting = ((await h.api('GET', '/rings?per_page=-1')).body as Array<{ State: string; statusMessage: string }>).slice(1);
    expect(waiting.map((r) => r.statusMessage)).toEqual(waiting.map(() => 'waiting for ring first to finish its release (soaking-requested)'));
    // No ring's lease taken or given back: one step each took two lease writes, a read of the ring and its gates.
    expect(sent.filter((statement) => /"locked_by"/.test(statement) && /^update "rings"/.test(statement))).toEqual([]);
    // The reads of one look at every ring; the rewrites go in one transaction (not sent through this executor).
    expect(sent.length).toBeLessThan(15);
  });

  it('answers requests while a pass steps hundreds of due rings', async () => {
    const h = await queue(150);
    // Every queued ring due at once, as at the start of a release of all of them.
    await h.server.store.db.updateTable('rings').set({ next_check_at: 0, status_message: 'due' }).where('state', '=', 'release-pending').execute();
    let passDone = false;
    const pass = h.server.supervisor.runUntilIdle().then(() => {
      passDone = true;
    });
    const health = await fetch(`${h.server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(passDone).toBe(false);
    await pass;
    const rings = (await h.api('GET', '/rings?per_page=-1')).body as Array<{ statusMessage: string }>;
    expect(rings.slice(1).every((r) => /waiting for ring first/.test(r.statusMessage))).toBe(true);
  });
});

describe('how many passes a release takes', () => {
  /** A forced release of one ring of three groups, the provisioner settling each rollout at once. */
  async function forcedRing(): Promise<{ h: Harness; ringId: string; groups: Array<{ provisionerGroupId: string }> }> {
    h = await startHarness();
    const ring = await h.ring('forced', 1, { soak: 3600, groups: 3 });
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2', force: true })).status).toBe(202);
    return { h, ringId: ring.id, groups: ring.groups };
  }

  it('one ring step chains the moves due at once: release started, rolling, first group started', async () => {
    const { h, ringId, groups } = await forcedRing();
    // One pass is not enough for the whole release; what matters is how far its ring step went.
    await expect(h.server.supervisor.runUntilIdle(1)).rejects.toThrow(/still busy/);
    expect((await h.getRing(ringId)).State).toBe('release-in-progress');
    const moves = (await h.events(ringId)).filter((e) => e.kind === 'ring.state').map((e) => `${e.oldState}→${e.newState}`);
    expect(moves.slice(0, 3)).toEqual(['release-requested→release-in-progress', 'release-pending→release-requested', 'stable→release-pending']);
    expect(h.provisioner.puts(groups[0]!.provisionerGroupId)).toHaveLength(1);
  });

  it('a group that rolled out hands its ring the next decision at once, not at the next pass', async () => {
    const { h, ringId } = await forcedRing();
    // Pass by pass (each ring move and each group hand-off waiting for the next one) this took 7 passes. On Postgres a
    // pass waits for the group steps in flight when it ends; one that a finishing step starts a moment later (its
    // ring's next group) can fall to the next pass, depending on how the queries interleave: one more at most.
    await h.server.supervisor.runUntilIdle(DEFAULT_DIALECT === 'postgres' ? 4 : 3);
    expect((await h.getRing(ringId)).State).toBe('stable');
    expect(h.provisioner.puts()).toHaveLength(3);
  });

  it('a pass sends the groups a ring step started to the provisioner before it steps the next ring', async () => {
    h = await startHarness();
    await h.ring('first', 1, { soak: 3600 });
    await h.ring('second', 2, { soak: 3600 });
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2', force: true })).status).toBe(202);
    const statements = await statementsOf(h, () => h!.server.supervisor.runUntilIdle(1).catch(() => undefined));
    // Leases taken, in order: ring first, its group (its step starts at once), then ring second.
    const taking = /^update "(rings|installation_groups)" set "locked_by" = \S+, "locked_at" = \S+, "locked_until" = \S+ where "id" = \S+ and \("locked_by" is null/;
    const leases = statements.filter((sql) => taking.test(sql)).map((sql) => (sql.includes('"rings"') ? 'ring' : 'group'));
    expect(leases.slice(0, 3)).toEqual(['ring', 'group', 'ring']);
  });
});
