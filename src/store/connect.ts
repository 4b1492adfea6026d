import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import path from 'node:path';
import type { Database } from './schema.js';
import { POSTGRES, SQLITE, type DialectInfo } from './dialect.js';
import { badRequest } from '../model/errors.js';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectInfo;
  /** The URL with any password hidden, for logs. */
  description: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Postgres pool size. */
  poolSize?: number;
  /** How long SQLite waits for another writer before failing (ms). */
  busyTimeoutMs?: number;
}

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

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
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
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect: SQLITE, description: `sqlite ${parsed.file}`, close: () => db.destroy() };
  }
  if (!pgTypesSet) {
    // BIGINT (int8) columns hold millisecond timestamps and ids, well inside Number's exact range.
    pg.types.setTypeParser(20, (value: string) => Number(value));
    pgTypesSet = true;
  }
  const pool = new pg.Pool({ connectionString: parsed.url, max: options.poolSize ?? 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: POSTGRES, description: `postgres ${redactUrl(parsed.url)}`, close: () => db.destroy() };
}


