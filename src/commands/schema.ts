import { SERVER_SETTINGS, envVarName } from '../config.js';
import { inputString, text, type CommandSpec, type OptionSpec } from './spec.js';

const databaseDefault = SERVER_SETTINGS.find((setting) => setting.flag === 'database')?.default;

export const DATABASE_OPTION: OptionSpec = {
  name: 'database',
  valueName: 'url',
  kind: 'string',
  ...(typeof databaseDefault === 'string' ? { default: databaseDefault } : {}),
  env: envVarName('database'),
  description: 'database URL: sqlite://file.db, sqlite:///abs/path.db or postgres://user@host:5432/db',
};

const migrate: CommandSpec = {
  path: ['schema', 'migrate'],
  operations: [],
  // Unlike the Go Elrond, "elrond server" migrates on start too; this is for migrating ahead of a deploy.
  summary: 'Bring the database schema up to date without starting the server ("elrond server" also does it when it starts).',
  examples: ['schema migrate --database sqlite://elrond.db', 'schema migrate --database postgres://elrond@localhost:5432/elrond'],
  options: [DATABASE_OPTION],
  cliOnly: true,
  async run(_ctx, input) {
    // Loaded here so remote commands do not pay for the database drivers.
    const { connect } = await import('../store/connect.js');
    const { migrateToLatest } = await import('../store/migrate.js');
    const store = connect(inputString(input, 'database'));
    try {
      const { applied } = await migrateToLatest(store.db);
      if (applied.length === 0) return text(`schema is up to date (${store.description})`);
      return text([...applied.map((name) => `applied migration ${name}`), `schema is up to date (${store.description})`].join('\n'));
    } finally {
      await store.close();
    }
  },
};

export const SCHEMA_COMMANDS: CommandSpec[] = [migrate];
