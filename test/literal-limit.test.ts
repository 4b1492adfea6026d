/**
 * LIMITs written into the statement (store/literal-limit.ts): only non-negative integers. SQLite temporaries stay
 * in memory (store/connect.ts).
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/store/connect.js';
import { literalLimit } from '../src/store/literal-limit.js';
import { migrateToLatest } from '../src/store/migrate.js';

describe('literalLimit', () => {
  it('writes a non-negative integer into the SQL and refuses anything else', async () => {
    const store = connect('sqlite://:memory:');
    try {
      await migrateToLatest(store.db);
      const compiled = store.db.selectFrom('rings').select('id').orderBy('priority').limit(literalLimit(1)).compile();
      expect(compiled.sql).toMatch(/limit 1$/);
      expect(compiled.parameters).toEqual([]);
      fc.assert(
        fc.property(fc.oneof(fc.integer({ max: -1 }), fc.double().filter((n) => !Number.isInteger(n)), fc.constant(Number.MAX_SAFE_INTEGER + 2)), (n) => {
          expect(() => literalLimit(n)).toThrow(RangeError);
        }),
      );
    } finally {
      await store.close();
    }
  });

  it('SQLite keeps its temporary tables in memory', async () => {
    const store = connect('sqlite://:memory:');
    try {
      const row = (await sql<{ temp_store: number }>`pragma temp_store`.execute(store.db)).rows[0];
      expect(row?.temp_store).toBe(2);
    } finally {
      await store.close();
    }
  });
});
