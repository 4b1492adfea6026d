import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * The few places SQLite and Postgres differ, as capabilities (the kysely adapters' approach), so no
 * `if (postgres)` is scattered through the code.
 */
export interface DialectInfo {
  name: 'sqlite' | 'postgres';
  /** Column type of an auto-incrementing integer primary key. */
  autoIdType: 'integer' | 'bigserial';
}

export const SQLITE: DialectInfo = { name: 'sqlite', autoIdType: 'integer' };
export const POSTGRES: DialectInfo = { name: 'postgres', autoIdType: 'bigserial' };

/** Which dialect a Kysely instance talks to (migrations get a bare Kysely<unknown>). */
export function detectDialect(db: Kysely<unknown>): DialectInfo {
  return db.getExecutor().adapter instanceof PostgresAdapter ? POSTGRES : SQLITE;
}
