/**
 * Queries built and compiled once, run with new arguments (store/prepared-query.ts): the same rows as the query built
 * afresh, on every database the suite runs on; writes still seen by the data version; misuse refused. The
 * compare-and-set every state change goes through (store/compare-and-set.ts) does what Kysely's own update does.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { preparedQuery } from '../src/store/prepared-query.js';
import { compareAndSet } from '../src/store/compare-and-set.js';
import { insertRing } from '../src/store/rings.js';
import { RING_STATES, type RingState } from '../src/model/ring-states.js';
import { TEST_DIALECTS, tempDatabase, type TempDatabase } from './helpers/temp-database.js';

const freezeByReason = preparedQuery((db, a: { reason: string; since: number }) => db.selectFrom('freezes').select(['id', 'reason']).where('reason', '=', a.reason).where('create_at', '>=', a.since).orderBy('id'));
const deleteFreeze = preparedQuery((db, a: { id: string; at: number }) => db.updateTable('freezes').set({ delete_at: a.at }).where('id', '=', a.id).where('delete_at', '=', 0));

describe.each(TEST_DIALECTS)('prepared queries (%s)', (dialect) => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await tempDatabase(dialect);
  });
  afterAll(async () => {
    await temp.cleanup();
  });

  const insertFreeze = (id: string, reason: string, createAt: number) =>
    temp.store.db.insertInto('freezes').values({ id, start_at: 0, end_at: 1, cron: null, duration_ms: null, timezone: 'UTC', reason, author: 'test', source: 'api', create_at: createAt, delete_at: 0 }).execute();

  it('reads what the query built afresh reads, whatever the arguments hold', async () => {
    const db = temp.store.db;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }).filter((s) => !s.includes('\u0000')), fc.integer({ min: 0, max: 1000 }), async (reason, createAt) => {
        const id = `f${n++}`;
        await insertFreeze(id, reason, createAt);
        for (const since of [0, createAt, createAt + 1]) {
          const fresh = await db.selectFrom('freezes').select(['id', 'reason']).where('reason', '=', reason).where('create_at', '>=', since).orderBy('id').execute();
          expect(await freezeByReason.rows(db, { reason, since })).toEqual(fresh);
        }
        expect(await freezeByReason.first(db, { reason, since: createAt })).toEqual({ id: expect.any(String), reason });
      }),
      { numRuns: 40 },
    );
  });

  it('runs inside a transaction, and every write moves the data version (not only the first, when it was compiled)', async () => {
    const db = temp.store.db;
    await insertFreeze('w1', 'one', 1);
    await insertFreeze('w2', 'two', 1);
    const before = await temp.store.dataVersion();
    expect(await db.transaction().execute((trx) => deleteFreeze.affected(trx, { id: 'w1', at: 5 }))).toBe(1);
    const afterFirst = await temp.store.dataVersion();
    expect(afterFirst).not.toBe(before);
    expect(await deleteFreeze.affected(db, { id: 'w2', at: 6 })).toBe(1);
    expect(await temp.store.dataVersion()).not.toBe(afterFirst);
    // Nothing left to change: no row, the data version still counts the write sent (a spurious change is harmless).
    expect(await deleteFreeze.affected(db, { id: 'w2', at: 7 })).toBe(0);
    expect((await db.selectFrom('freezes').select(['id', 'delete_at']).where('id', 'in', ['w1', 'w2']).orderBy('id').execute()).map((r) => Number(r.delete_at))).toEqual([5, 6]);
  });

  it('refuses an argument that shapes the query instead of being bound, and a missing argument', async () => {
    const db = temp.store.db;
    const shaped = preparedQuery((q, a: { all: boolean; reason: string }) => (a.all ? q.selectFrom('freezes').select('id') : q.selectFrom('freezes').select('id').where('reason', '=', a.reason)));
    await expect(shaped.rows(db, { all: true, reason: 'x' })).rejects.toThrow(/argument\(s\) all read but not bound/);
    await expect(freezeByReason.rows(db, { reason: 'x' } as { reason: string; since: number })).rejects.toThrow(/argument since is missing/);
  });

  it('compare-and-set changes exactly what the update Kysely builds changes, whatever the columns, states and conditions', async () => {
    const db = temp.store.db;
    let n = 0;
    const ring = async () => insertRing(db, { id: `cas${n++}`, name: `cas-${n}`, state: 'stable', priority: n, soak_time: 0, active_release_id: 'r', desired_release_id: 'r', previous_release_id: null, rollout_id: null, create_at: 1, soak_until: null, failure_reason: null, locked_by: 'owner', approved_by: null, approved_at: null, force_requested_by: null });
    const states = fc.subarray([...RING_STATES] as RingState[], { minLength: 1, maxLength: 4 });
    const change = fc.record(
      { status_message: fc.string({ maxLength: 20 }), next_check_at: fc.integer({ min: 0, max: 100 }), failure_reason: fc.option(fc.string({ maxLength: 20 })), state: fc.constantFrom(...RING_STATES) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(states, change, fc.option(fc.constantFrom('owner', 'other')), fc.option(fc.constantFrom(0, 5)), async (from, set, owner, nextCheckAt) => {
        const [mine, theirs] = [await ring(), await ring()];
        const condition = { from, ...(owner !== null ? { owner } : {}), ...(nextCheckAt !== null ? { nextCheckAt } : {}) };
        const got = await compareAndSet(db, 'rings', { id: mine.id, set, ...condition });
        let query = db.updateTable('rings').set(set).where('id', '=', theirs.id).where('state', 'in', from);
        if (owner !== null) query = query.where('locked_by', '=', owner);
        if (nextCheckAt !== null) query = query.where('next_check_at', '=', nextCheckAt);
        const expected = await query.returningAll().executeTakeFirst();
        const strip = (row: Record<string, unknown> | undefined) => row && { ...row, id: 0, name: 0, priority: 0, create_seq: 0 };
        expect(strip(got)).toEqual(strip(expected));
      }),
      { numRuns: 60 },
    );
    // A value Kysely has to build (an expression) is left to Kysely.
    const target = await ring();
    expect((await compareAndSet(db, 'rings', { id: target.id, from: ['stable'], set: { status_message: sql<string>`'built by ' || 'kysely'` } }))?.status_message).toBe('built by kysely');
  });
});
