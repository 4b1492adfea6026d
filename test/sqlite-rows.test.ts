/**
 * SQLite rows are built from better-sqlite3's raw rows by a function compiled per statement (store/connect.ts,
 * withRowsBuiltOnce). They must be the rows better-sqlite3 itself would build, whatever the column names, and
 * follow the schema when it changes.
 */
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Store } from '../src/store/connect.js';

let dir: string | undefined;
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function open(): { store: Store; file: string } {
  dir = mkdtempSync(path.join(tmpdir(), 'elrond-rows-'));
  const file = path.join(dir, 'rows.db');
  store = connect(`sqlite://${file}`);
  return { store, file };
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

describe('rows read from SQLite', () => {
  it('are the rows better-sqlite3 builds, whatever the columns are called and hold', async () => {
    const { store, file } = open();
    const plain = new SqliteDatabase(file);
    try {
      const text = fc.string({ maxLength: 12 }).filter((t) => !t.includes('\0'));
      const value = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), text, fc.constant(null));
      // Names as a query can alias them: quotes, unicode, JavaScript's own property names, repeats.
      const name = fc.oneof(text, fc.constantFrom('id', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '1e3', 'a b', '\\', '`${x}`', "');x('"));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 8 }), async (columns) => {
          const query = `select ${columns.map(([column, v]) => `${literal(v)} as ${quote(column)}`).join(', ')}`;
          const ours = (await sql.raw<Record<string, unknown>>(query).execute(store.db)).rows;
          const theirs = plain.prepare(query).all() as Array<Record<string, unknown>>;
          expect(ours).toEqual(theirs);
          expect(Object.keys(ours[0]!)).toEqual(Object.keys(theirs[0]!));
          expect(Object.getPrototypeOf(ours[0])).toBe(Object.getPrototypeOf(theirs[0]));
        }),
        { numRuns: 300 },
      );
    } finally {
      plain.close();
    }
  });

  it('follow the schema when this process changes it, and when another process does', async () => {
    const { store, file } = open();
    await sql`create table t (a integer)`.execute(store.db);
    await sql`insert into t (a) values (1)`.execute(store.db);
    const all = async () => (await store.db.selectFrom('t' as never).selectAll().execute()) as unknown[];
    expect(await all()).toEqual([{ a: 1 }]);

    await sql`alter table t add column b text default 'x'`.execute(store.db);
    expect(await all()).toEqual([{ a: 1, b: 'x' }]);
    // As wide as before, named differently: known only because this connection changed the schema.
    await sql`alter table t rename column a to z`.execute(store.db);
    expect(await all()).toEqual([{ z: 1, b: 'x' }]);
    await sql`alter table t rename column z to a`.execute(store.db);
    expect(await all()).toEqual([{ a: 1, b: 'x' }]);
    // The same change sent again is seen again.
    await sql`alter table t rename column a to z`.execute(store.db);
    expect(await all()).toEqual([{ z: 1, b: 'x' }]);
    await sql`alter table t rename column z to a`.execute(store.db);

    // A migration run by another process (`elrond schema migrate`): SQLite prepares the statement again, wider.
    const other = new SqliteDatabase(file);
    other.exec(`alter table t add column c integer default 7`);
    other.close();
    expect(await all()).toEqual([{ a: 1, b: 'x', c: 7 }]);
  });
});

function literal(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  return Object.is(value, -0) ? '0' : String(value);
}
