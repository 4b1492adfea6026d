import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import path from 'node:path';
import type { Database } from './schema.js';
import { DataVersion, postgresDataVersion, sqliteDataVersion } from './data-version.js';
import { POSTGRES, SQLITE, type DialectInfo } from './dialect.js';
import { badRequest } from '../model/errors.js';
import { redactUrl } from '../model/redact.js';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectInfo;
  /**
   * The database URL for logs: `sqlite:///abs/path.db` (the file resolved), `sqlite://:memory:`, or the Postgres URL,
   * which opens the same database, unless it carries a password: then with its userinfo and parameter values hidden
   * (model/redact.ts, redactUrl: `postgres://••••••@host:5432/db`).
   */
  description: string;
  /** Changes whenever data a reader could be shown may have changed (store/data-version.ts). */
  dataVersion(): Promise<string>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Postgres pool size (`--db-pool-size`). */
  poolSize?: number;
  /** How long SQLite waits for another writer before failing (ms). */
  busyTimeoutMs?: number;
  /**
   * Told when an idle pooled Postgres connection breaks (the server restarted, a failover, the network); the pool
   * drops it and opens a new one on the next query. Default: one line on stderr. Never fatal.
   */
  onConnectionError?: (error: Error) => void;
}

/**
 * Postgres sessions ended by the server when idle inside a transaction this long (ms). Elrond's transactions
 * only talk to the database, so a session sitting idle in one belongs to a frozen or cut-off replica, and it
 * may be holding the `write-gate` row that every writer needs: the server ends it and the others carry on.
 */
export const PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
/** How long a query waits for a free pooled connection before failing (ms), instead of queueing forever. */
export const PG_CONNECTION_TIMEOUT_MS = 30_000;

export type ParsedDatabaseUrl = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/**
 * Parse a database URL: `sqlite://relative.db`, `sqlite:///absolute/path.db`, `sqlite://:memory:`,
 * `postgres://user@host:port/db` (also `postgresql://`).
 */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  const sqlite = /^sqlite3?:\/\/(.*)$/.exec(url);
  if (sqlite) {
    const rest = (sqlite[1] ?? '').replace(/\?.*$/, '');
    if (rest === '') throw badRequest(`database URL "${url}" names no file: use sqlite://elrond.db`);
    if (rest === ':memory:') return { kind: 'sqlite', file: ':memory:' };
    return { kind: 'sqlite', file: rest.startsWith('/') ? rest : path.resolve(rest) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw badRequest(
    `unsupported database URL "${redactUrl(url)}": use sqlite://file.db, sqlite:///abs/path.db, sqlite://:memory: or postgres://user@host:5432/db`,
  );
}

/** A password in the userinfo (`user:pw@`) or as a `password=` parameter. */
const hasPassword = (url: string) => /^[a-z]+:\/\/[^/@?]*:[^/@?]*@/i.test(url) || /[?&]password=/i.test(url);

/** Prepared statements kept per connection; Elrond issues a few hundred distinct statements. */
const STATEMENT_CACHE_SIZE = 1000;

/** Statements that change the schema: the columns a cached statement returns may change with them. */
const SCHEMA_CHANGE = /^\s*(create|alter|drop)\b/i;

/**
 * Kysely prepares every query afresh; better-sqlite3 statements can be reused (they are only ever run one at a
 * time on Elrond's single connection). Preparing was ~6% of the server's CPU under load.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(kyselySource: string): SqliteStatement {
      // Every transaction takes the write lock when it begins (store/system.ts, takeWriteGate).
      const source = kyselySource === 'begin' ? 'begin immediate' : kyselySource;
      let statement = statements.get(source);
      if (!statement) {
        const prepared = sqlite.prepare(source);
        // Cached readers know their columns: after a schema change (never cached itself, so each one is seen) they
        // are prepared again.
        if (!prepared.reader && SCHEMA_CHANGE.test(source)) {
          statements.clear();
          return prepared;
        }
        statement = prepared.reader ? withRowsBuiltOnce(prepared) : prepared;
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(source, statement);
      }
      return statement;
    },
  };
}

type RawRow = unknown[];

/** A function building a row object from a raw row, compiled for one statement's columns (a literal of fixed shape). */
function rowBuilder(statement: SqliteDatabase.Statement): ((row: RawRow) => Record<string, unknown>) | undefined {
  const names = statement.columns().map((column) => column.name);
  // A literal's "__proto__" sets the prototype instead of a column: such a statement keeps better-sqlite3's rows.
  if (names.includes('__proto__')) return undefined;
  // Later columns win over earlier ones of the same name, as in better-sqlite3's own rows.
  return new Function('row', `return { ${names.map((name, i) => `${JSON.stringify(name)}: row[${i}]`).join(', ')} };`) as (row: RawRow) => Record<string, unknown>;
}

/**
 * A reader whose rows are built by {@link rowBuilder} from better-sqlite3's raw (array) rows. better-sqlite3 builds
 * each row object column by column, turning every column name into a string again for every row: reading 100
 * rings took ~1.0 ms that way and ~0.4 ms this way (bench/, load: `GET /api/rings` reads 200 rows per answer).
 * The columns are read again after this connection changes the schema, and when a row's width differs from
 * theirs: another process's migration (SQLite recompiles the statement) adds columns, and Elrond's migrations
 * only ever add.
 */
function withRowsBuiltOnce(statement: SqliteDatabase.Statement): SqliteStatement {
  let build = rowBuilder(statement);
  if (!build) return statement;
  let width = statement.columns().length;
  statement.raw(true);
  const toObjects = (rows: RawRow[]) => {
    if (rows.length > 0 && rows[0]!.length !== width) {
      statement.raw(false);
      build = rowBuilder(statement)!;
      width = statement.columns().length;
      statement.raw(true);
    }
    return rows.map(build!);
  };
  return {
    reader: true,
    all: (parameters) => toObjects(statement.all(parameters) as RawRow[]),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const row of statement.iterate(parameters) as IterableIterator<RawRow>) yield toObjects([row])[0];
    },
  };
}

let pgTypesSet = false;

/** Open the database named by a URL. Tables are created by `migrateToLatest`, not here. */
export function connect(url: string, options: ConnectOptions = {}): Store {
  const parsed = parseDatabaseUrl(url);
  if (parsed.kind === 'sqlite') {
    const sqlite = new SqliteDatabase(parsed.file);
    if (parsed.file !== ':memory:') sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    // Statement journals, sorts and materialised subqueries stay in memory instead of temporary files (a few rows
    // each): an urgent release's 121 commits took ~180 µs each with them on disk, ~100 µs in memory (bench/, urgent).
    sqlite.pragma('temp_store = MEMORY');
    const version = new DataVersion(sqliteDataVersion(sqlite));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), plugins: [version.plugin] });
    return { db, dialect: SQLITE, description: `sqlite://${parsed.file}`, dataVersion: () => version.current(), close: () => db.destroy() };
  }
  if (!pgTypesSet) {
    // BIGINT (int8) columns hold millisecond timestamps and ids, well inside Number's exact range.
    pg.types.setTypeParser(20, (value: string) => Number(value));
    pgTypesSet = true;
  }
  const pool = new pg.Pool({
    connectionString: parsed.url,
    max: Math.max(1, options.poolSize ?? 10),
    // Shown in pg_stat_activity, so a DBA can tell replicas' sessions apart (a URL's application_name wins).
    fallback_application_name: 'elrond',
    // Notice a dead server or a cut connection on an idle socket instead of waiting on it for hours.
    keepAlive: true,
    connectionTimeoutMillis: PG_CONNECTION_TIMEOUT_MS,
    idle_in_transaction_session_timeout: PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
  // Without a listener an idle connection's error (e.g. Postgres restarting) would crash the process.
  pool.on('error', options.onConnectionError ?? ((error) => process.stderr.write(`elrond: a database connection was lost (${error.message}); it will be reopened\n`)));
  const version = new DataVersion(postgresDataVersion(() => db));
  const db: Kysely<Database> = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [version.plugin] });
  return { db, dialect: POSTGRES, description: hasPassword(parsed.url) ? redactUrl(parsed.url) : parsed.url, dataVersion: () => version.current(), close: () => db.destroy() };
}


