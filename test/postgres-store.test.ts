import { describe, it, expect, afterEach } from 'vitest';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { TEST_POSTGRES_URL, tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { connect, type Store } from '../src/store/connect.js';
import { redactUrl } from '../src/model/redact.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { acquireLease, holdLease, releaseLease, renewLease } from '../src/store/leases.js';
import { inTransaction } from '../src/service/deps.js';
import { systemClock } from '../src/model/clock.js';
import type { Database } from '../src/store/schema.js';

/**
 * The store on Postgres, as several replicas use it: the same schema as SQLite from the same migrations,
 * leases decided by the database across connection pools (one per "process"), the gate serializing writers,
 * and a pool that survives its connections being cut.
 */

const NEEDS = '(set ELROND_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run)';
const opened: TempDatabase[] = [];
const stores: Store[] = [];
afterEach(async () => {
  while (stores.length) await stores.pop()!.close();
  while (opened.length) await opened.pop()!.cleanup();
});

async function temp(kind: 'sqlite' | 'postgres', migrate = true): Promise<TempDatabase> {
  const database = await tempDatabase(kind, migrate);
  opened.push(database);
  return database;
}

/** Another process's view of the same database: its own pool. */
function otherProcess(url: string): Store {
  const store = connect(url, { poolSize: 3 });
  stores.push(store);
  return store;
}

async function insertRing(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .insertInto('rings')
    .values({ id, name: id, state: 'stable', priority: 1, create_seq: 1, soak_time: 0, active_release_id: 'r', desired_release_id: 'r', create_at: 0 } as never)
    .execute();
}

describe('database URLs in logs', () => {
  it('hides passwords, and describes a SQLite file by its absolute URL', () => {
    // One redactUrl (model/redact.ts) for every surface: userinfo and every parameter value go.
    expect(redactUrl('postgres://elrond:s3cret@db:5432/elrond')).toBe('postgres://••••••@db:5432/elrond');
    expect(redactUrl('postgres://elrond@db/elrond?sslmode=require&password=s3cret')).toBe('postgres://••••••@db/elrond?sslmode=••••••&password=••••••');
    const store = connect('sqlite://:memory:');
    stores.push(store);
    expect(store.description).toBe('sqlite://:memory:');
  });
});

describe.skipIf(!TEST_POSTGRES_URL)(`Postgres store ${NEEDS}`, () => {
  it('the migrations give SQLite and Postgres the same tables, columns, types, nullability and indexes', async () => {
    const [lite, pgdb] = await Promise.all([temp('sqlite'), temp('postgres')]);
    const liteSchema = await describeSchema(lite.store.db, 'sqlite');
    const pgSchema = await describeSchema(pgdb.store.db, 'postgres');
    expect(Object.keys(pgSchema).sort()).toEqual(Object.keys(liteSchema).sort());
    for (const table of Object.keys(liteSchema)) expect({ table, ...pgSchema[table] }).toEqual({ table, ...liteSchema[table] });
    expect(Object.keys(liteSchema)).toEqual(expect.arrayContaining(['rings', 'installation_groups', 'events', 'outbox', 'system']));
  });

  it('three processes migrating an empty database at once all succeed, and each migration runs once', async () => {
    const database = await temp('postgres', false);
    const processes = [otherProcess(database.url), otherProcess(database.url), otherProcess(database.url)];
    const reports = await Promise.all(processes.map((store) => migrateToLatest(store.db)));
    const applied = reports.flatMap((r) => r.applied);
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied.length).toBeGreaterThan(0);
    const recorded = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(processes[0]!.db);
    expect(Number(recorded.rows[0]!.n)).toBe(applied.length);
    const gate = await processes[1]!.db.selectFrom('system').select('value').where('key', '=', 'write-gate').execute();
    expect(gate).toHaveLength(1);
  });

  it('a lease goes to exactly one of many processes racing for it, and only expires, renews and releases as its owner says', async () => {
    const database = await temp('postgres');
    await insertRing(database.store.db, 'ring-a');
    const processes = [otherProcess(database.url), otherProcess(database.url), otherProcess(database.url)];
    const now = Date.now();
    const attempts = await Promise.all(
      Array.from({ length: 30 }, (_, i) => acquireLease(processes[i % 3]!.db, 'rings', 'ring-a', `owner-${i % 3}`, now, 5_000).then((won) => (won ? i % 3 : -1))),
    );
    const winners = attempts.filter((w) => w >= 0);
    // One owner won; the same owner asking again while it holds the lease does not take it "again".
    expect(winners).toHaveLength(1);
    const winner = `owner-${winners[0]}`;
    const loser = winner === 'owner-0' ? 'owner-1' : 'owner-0';
    // Others cannot renew or release it; after it expires one of them takes it, and the old owner's renewal fails.
    expect(await renewLease(processes[1]!.db, 'rings', 'ring-a', loser, now, 5_000)).toBe(false);
    await releaseLease(processes[1]!.db, 'rings', 'ring-a', loser);
    expect(await acquireLease(processes[1]!.db, 'rings', 'ring-a', loser, now + 4_999, 5_000)).toBe(false);
    expect(await acquireLease(processes[1]!.db, 'rings', 'ring-a', loser, now + 5_001, 5_000)).toBe(true);
    expect(await renewLease(processes[0]!.db, 'rings', 'ring-a', winner, now + 5_002, 5_000)).toBe(false);
    await releaseLease(processes[2]!.db, 'rings', 'ring-a', loser);
    const row = await database.store.db.selectFrom('rings').select(['locked_by', 'locked_until']).where('id', '=', 'ring-a').executeTakeFirstOrThrow();
    expect(row).toEqual({ locked_by: null, locked_until: 0 });
  });

  it('a held lease is renewed while its holder works past the TTL, so nobody else can take it; released, it is free', async () => {
    const database = await temp('postgres');
    await insertRing(database.store.db, 'ring-b');
    const [a, b] = [otherProcess(database.url), otherProcess(database.url)];
    const lease = await holdLease(a.db, 'rings', 'ring-b', 'a', systemClock, 300);
    expect(lease).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await acquireLease(b.db, 'rings', 'ring-b', 'b', Date.now(), 300)).toBe(false);
    await lease!.release();
    expect(await acquireLease(b.db, 'rings', 'ring-b', 'b', Date.now(), 300)).toBe(true);
  });

  it('the gate serializes write transactions across processes, and the second reads what the first committed', async () => {
    const database = await temp('postgres');
    await insertRing(database.store.db, 'ring-c');
    const [a, b] = [otherProcess(database.url), otherProcess(database.url)];
    const order: string[] = [];
    let aHoldsTheGate!: () => void;
    const aStarted = new Promise<void>((resolve) => (aHoldsTheGate = resolve));
    const first = inTransaction({ store: a, clock: systemClock, sinks: [] }, async (tx) => {
      order.push('a:start');
      aHoldsTheGate();
      await tx.db.updateTable('rings').set({ status_message: 'written by a' }).where('id', '=', 'ring-c').execute();
      await new Promise((resolve) => setTimeout(resolve, 300));
      order.push('a:commit');
    });
    // b begins once a is inside its transaction (a fixed 50 ms was not always enough for a's first connection on a
    // busy CI machine, and then b simply went first).
    await aStarted;
    const second = inTransaction({ store: b, clock: systemClock, sinks: [] }, async (tx) => {
      order.push('b:start');
      return (await tx.db.selectFrom('rings').select('status_message').where('id', '=', 'ring-c').executeTakeFirstOrThrow()).status_message;
    });
    const [, seen] = await Promise.all([first, second]);
    expect(order).toEqual(['a:start', 'a:commit', 'b:start']);
    expect(seen).toBe('written by a');
  });

  it('a transaction Postgres aborts as a deadlock victim runs again; other errors do not', async () => {
    const database = await temp('postgres');
    let runs = 0;
    const result = await inTransaction({ store: database.store, clock: systemClock, sinks: [] }, async (tx) => {
      runs++;
      await tx.db.insertInto('system').values({ key: `try-${runs}`, value: 'x' }).execute();
      if (runs === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      return 'done';
    });
    expect(result).toBe('done');
    expect(runs).toBe(2);
    // The aborted attempt left nothing behind.
    expect(await database.store.db.selectFrom('system').select('key').where('key', 'like', 'try-%').execute()).toEqual([{ key: 'try-2' }]);
    let failing = 0;
    await expect(
      inTransaction({ store: database.store, clock: systemClock, sinks: [] }, async () => {
        failing++;
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(failing).toBe(1);
  });

  it('survives the server ending its connections: the error is reported, not fatal, and the next query reconnects', async () => {
    const database = await temp('postgres');
    await database.store.close();
    const errors: string[] = [];
    const store = connect(database.url, { poolSize: 2, onConnectionError: (error) => errors.push(error.message) });
    stores.push(store);
    await store.db.selectFrom('system').select('key').execute();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name = 'elrond'`);
    await admin.end();
    for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors.length).toBeGreaterThan(0);
    const rows = await store.db.selectFrom('system').select('key').where('key', '=', 'write-gate').execute();
    expect(rows).toHaveLength(1);
  });
});

type Schema = Record<string, { columns: string[]; indexes: string[] }>;

/**
 * Tables → "name type null|not-null" per column, in order, and explicitly created indexes. Types are folded to one
 * vocabulary (int4 = integer, int8 = bigint); an auto-increment id is `autoid` (INTEGER on SQLite, bigserial on
 * Postgres). SQLite reports a TEXT PRIMARY KEY as nullable (a historical quirk: it accepts NULL there), so
 * primary keys are compared as not null.
 */
async function describeSchema(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Promise<Schema> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const schema: Schema = {};
  for (const table of tables) {
    const primary = dialect === 'sqlite' ? await sqlitePrimaryKey(db, table.name) : new Set<string>();
    schema[table.name] = {
      columns: table.columns.map((c) => {
        const type = c.isAutoIncrementing ? 'autoid' : foldType(c.dataType);
        return `${c.name} ${type} ${c.isNullable && !primary.has(c.name) ? 'null' : 'not-null'}${c.hasDefaultValue && !c.isAutoIncrementing ? ' default' : ''}`;
      }),
      indexes: [],
    };
  }
  const indexes =
    dialect === 'sqlite'
      ? (await sql<{ name: string; table: string }>`select name, tbl_name as "table" from sqlite_master where type = 'index' and name not like 'sqlite_autoindex%'`.execute(db)).rows
      : (await sql<{ name: string; table: string }>`select indexname as name, tablename as "table" from pg_indexes where schemaname = current_schema() and indexname not like '%_key' and indexname not in (select conname from pg_constraint where contype = 'p')`.execute(db)).rows;
  for (const index of indexes) schema[index.table]?.indexes.push(index.name);
  for (const table of Object.values(schema)) table.indexes.sort();
  return schema;
}

async function sqlitePrimaryKey(db: Kysely<Database>, table: string): Promise<Set<string>> {
  const rows = (await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${table})`.execute(db)).rows;
  return new Set(rows.filter((r) => r.pk > 0).map((r) => r.name));
}

function foldType(type: string): string {
  const t = type.toLowerCase().replace(/\(.*\)$/, '');
  return ({ int4: 'integer', int: 'integer', int8: 'bigint', bool: 'boolean', 'character varying': 'varchar' } as Record<string, string>)[t] ?? t;
}
