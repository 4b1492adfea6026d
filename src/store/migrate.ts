import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Database } from './schema.js';
import { ElrondError } from '../model/errors.js';

/** `migrations/` sits two levels above this file both in the source tree and in dist/. */
export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

const MIGRATION_FILE = /^(\d{4}_[a-z0-9_-]+)\.(ts|js)$/;

/** Loads `migrations/NNNN_name.{ts,js}`; the name without extension is the migration's key. */
export class FolderMigrationProvider implements MigrationProvider {
  readonly #folder: string;
  constructor(folder = MIGRATIONS_FOLDER) {
    this.#folder = folder;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of (await readdir(this.#folder)).sort()) {
      const match = MIGRATION_FILE.exec(file);
      if (!match?.[1]) continue;
      const module = (await import(pathToFileURL(path.join(this.#folder, file)).href)) as Migration;
      migrations[match[1]] = { up: module.up, ...(module.down ? { down: module.down } : {}) };
    }
    return migrations;
  }
}

export interface MigrationReport {
  applied: string[];
  results: MigrationResult[];
}

/** Names of migrations recorded in the database (empty for a new database). */
export async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  try {
    const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    return rows.rows.map((row) => row.name);
  } catch {
    return [];
  }
}

/**
 * Bring the schema up to date. Refuses a database that has migrations this build does not know (it was
 * migrated by a newer Elrond): running old code on a newer schema could corrupt it.
 */
export async function migrateToLatest(db: Kysely<Database>, provider = new FolderMigrationProvider()): Promise<MigrationReport> {
  const known = Object.keys(await provider.getMigrations());
  const unknown = (await appliedMigrations(db)).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ElrondError(
      'Conflict',
      `the database has migrations this Elrond does not know (${unknown.join(', ')}): it was upgraded by a newer Elrond. ` +
        'Run that newer version, or point --database at another database.',
    );
  }
  const migrator = new Migrator({ db, provider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new ElrondError('Internal', `migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName), results };
}
