/**
 * Queries built and compiled once, run with new arguments (store/prepared-query.ts): the same rows as the query built
 * afresh, on every database the suite runs on; writes still seen by the data version; misuse refused.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedQuery } from '../src/store/prepared-query.js';
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
});
