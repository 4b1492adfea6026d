import type { OptionSpec } from './spec.js';

export const DEFAULT_SERVER_URL = 'http://localhost:3018';

/** Every remote command takes these on the CLI; chat talks to Elrond in-process and has neither. */
export const REMOTE_OPTIONS: OptionSpec[] = [
  { name: 'server', valueName: 'url', kind: 'string', default: DEFAULT_SERVER_URL, env: 'ELROND_SERVER', cliOnly: true, description: 'the Elrond server whose API is called' },
  { name: 'api-token', valueName: 'token', kind: 'string', env: 'ELROND_API_TOKEN', cliOnly: true, description: 'API token, sent as "Authorization: Bearer <token>"' },
];

export const DRY_RUN: OptionSpec = { name: 'dry-run', kind: 'bool', description: 'print the API request as JSON instead of sending it' };

export const TABLE: OptionSpec = { name: 'table', kind: 'bool', description: 'show the result as a table instead of JSON' };

export const PAGING_OPTIONS: OptionSpec[] = [
  { name: 'page', valueName: 'n', kind: 'int', default: 0, description: 'the page to fetch, starting at 0' },
  { name: 'per-page', valueName: 'n', kind: 'int', default: 100, description: 'how many to fetch per page (-1 for all)' },
  { name: 'include-deleted', kind: 'bool', description: 'include deleted ones' },
];

export function ringOption(description: string, required = true): OptionSpec {
  return { name: 'ring', valueName: 'id', kind: 'string', required, description };
}
