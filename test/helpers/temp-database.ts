import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connect, type Store } from '../../src/store/connect.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { newId } from '../../src/model/ids.js';

export interface TempDatabase {
  url: string;
  store: Store;
  cleanup(): Promise<void>;
}

/** The Postgres server tests may use, from ELROND_TEST_POSTGRES_URL (CI sets it). */
export const TEST_POSTGRES_URL = process.env.ELROND_TEST_POSTGRES_URL ?? '';

/** Which databases a database-backed test runs on: SQLite always, Postgres when configured. */
export const TEST_DIALECTS: Array<'sqlite' | 'postgres'> = TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

if (!TEST_POSTGRES_URL && !process.env.ELROND_QUIET_SKIP) {
  process.env.ELROND_QUIET_SKIP = '1';
  console.info(
    'Postgres tests skipped: set ELROND_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run the suite on Postgres too.',
  );
}

/** A migrated database of the given kind, unique to the caller: a temp SQLite file or a fresh Postgres database. */
export async function tempDatabase(kind: 'sqlite' | 'postgres' = 'sqlite', migrate = true): Promise<TempDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'elrond-test-'));
    const url = `sqlite://${path.join(dir, 'elrond.db')}`;
    const store = connect(url);
    if (migrate) await migrateToLatest(store.db);
    return {
      url,
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `elrond_test_${newId().slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = TEST_POSTGRES_URL.replace(/\/[^/?]*(\?.*)?$/, `/${name}$1`).replace('$1', '');
  const store = connect(url, { poolSize: 5 });
  if (migrate) await migrateToLatest(store.db);
  return {
    url,
    store,
    cleanup: async () => {
      await store.close();
      const drop = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await drop.connect();
      await drop.query(`drop database if exists ${name} with (force)`);
      await drop.end();
    },
  };
}
