import { describe, it, expect, afterEach } from 'vitest';
import { sql } from 'kysely';
import { appliedMigrations, migrateToLatest } from '../src/store/migrate.js';
import { TEST_DIALECTS, tempDatabase, type TempDatabase } from './helpers/temp-database.js';

const opened: TempDatabase[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.cleanup();
});

for (const dialect of TEST_DIALECTS) {
  describe(`${dialect}: migrations`, () => {
    it('migrates a fresh database, and re-running applies nothing', async () => {
      const temp = await tempDatabase(dialect, false);
      opened.push(temp);
      const first = await migrateToLatest(temp.store.db);
      expect(first.applied[0]).toBe('0001_initial_schema');
      const second = await migrateToLatest(temp.store.db);
      expect(second.applied).toEqual([]);
      expect(await appliedMigrations(temp.store.db)).toEqual(first.applied);
    });

    it('refuses a database that has a migration this build does not know', async () => {
      const temp = await tempDatabase(dialect);
      opened.push(temp);
      await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01')`.execute(temp.store.db);
      await expect(migrateToLatest(temp.store.db)).rejects.toThrow(/9999_from_the_future.*newer Elrond/);
    });
  });
}
