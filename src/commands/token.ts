import { ROLES } from '../service/access-policy.js';
import { DATABASE_OPTION } from './schema.js';
import { inputString, text, type CommandSpec, type CommandInput } from './spec.js';
import type { Store } from '../store/connect.js';
import { createApiToken, listApiTokens, parseRole, revokeApiToken } from '../store/api-tokens.js';

const nameOption = (description: string) => ({ name: 'name', valueName: 'name', kind: 'string' as const, required: true, description });

/** Run `work` on the database the command names, like `schema migrate`: these commands run beside the server, not through it. */
async function onDatabase<T>(input: CommandInput, work: (store: Store) => Promise<T>): Promise<T> {
  // Loaded here so remote commands do not pay for the database drivers.
  const { connect } = await import('../store/connect.js');
  const { migrateToLatest } = await import('../store/migrate.js');
  const store = connect(inputString(input, 'database'));
  try {
    await migrateToLatest(store.db);
    return await work(store);
  } finally {
    await store.close();
  }
}

const create: CommandSpec = {
  path: ['token', 'create'],
  operations: [],
  summary: 'Create a named API token with a role (admin, releaser, approver or viewer); it is printed once and only its hash is stored.',
  examples: ['token create --name ci-deployer --role releaser', 'token create --name grafana --role viewer --database postgres://elrond@localhost:5432/elrond'],
  options: [
    nameOption('who holds the token: recorded as the actor of everything it does (letters, digits, . _ -)'),
    { name: 'role', valueName: 'role', kind: 'string', required: true, description: `what the token may do: ${ROLES.join(', ')}`, check: (value) => void parseRole(value) },
    DATABASE_OPTION,
  ],
  cliOnly: true,
  async run(_ctx, input) {
    const name = inputString(input, 'name');
    const role = parseRole(inputString(input, 'role'));
    const token = await onDatabase(input, (store) => createApiToken(store.db, { name, role, now: Date.now() }));
    return text([token, '', `created token ${name} with the ${role} role. It is shown only this once: store it now (e.g. ELROND_API_TOKEN for the CLI, "Authorization: Bearer <token>" for the API).`].join('\n'));
  },
};

const list: CommandSpec = {
  path: ['token', 'list'],
  operations: [],
  summary: 'List API tokens: name, role, when created and last used (never the tokens).',
  examples: ['token list'],
  options: [DATABASE_OPTION],
  cliOnly: true,
  async run(_ctx, input) {
    const tokens = await onDatabase(input, (store) => listApiTokens(store.db));
    const when = (at: number | null) => (at === null ? 'never' : new Date(at).toISOString());
    return { kind: 'table', headers: ['NAME', 'ROLE', 'CREATED', 'LAST USED'], rows: tokens.map((t) => [t.name, t.role, when(t.createAt), when(t.lastUsedAt)]), json: tokens };
  },
};

const revoke: CommandSpec = {
  path: ['token', 'revoke'],
  operations: [],
  summary: 'Revoke an API token: running servers refuse it within seconds.',
  examples: ['token revoke --name ci-deployer'],
  options: [nameOption('the name of the token to revoke (see "elrond token list")'), DATABASE_OPTION],
  cliOnly: true,
  async run(_ctx, input) {
    const name = inputString(input, 'name');
    await onDatabase(input, (store) => revokeApiToken(store.db, name));
    return text(`revoked token ${name}: servers refuse it within a few seconds`);
  },
};

export const TOKEN_COMMANDS: CommandSpec[] = [create, list, revoke];
