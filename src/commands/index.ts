import { EVENT_COMMANDS } from './events.js';
import { RING_INSTALLATION_GROUP_COMMANDS } from './ring-installation-group.js';
import { RING_COMMANDS } from './ring.js';
import { DATABASE_OPTION, SCHEMA_COMMANDS } from './schema.js';
import { SECURITY_COMMANDS } from './security.js';
import { SERVER_COMMANDS } from './server.js';
import type { CommandSpec, GroupSpec } from './spec.js';
import { DRY_RUN, REMOTE_OPTIONS, ringOption } from './common-options.js';
import { WEBHOOK_COMMANDS } from './webhook.js';
import { STATUS_COMMANDS } from './status.js';
import { GOVERNANCE_COMMANDS } from './governance.js';
import { DEMO_COMMANDS } from './demo.js';
import { SUBSCRIPTION_COMMANDS } from './subscriptions.js';
import { TOKEN_COMMANDS } from './token.js';

/** Every command of `elrond` and `/elrond`, as data. A test checks the paths are unique. */
export const COMMANDS: CommandSpec[] = [
  ...SERVER_COMMANDS,
  ...DEMO_COMMANDS,
  ...SCHEMA_COMMANDS,
  ...TOKEN_COMMANDS,
  ...RING_COMMANDS,
  ...RING_INSTALLATION_GROUP_COMMANDS,
  ...WEBHOOK_COMMANDS,
  ...SECURITY_COMMANDS,
  ...EVENT_COMMANDS,
  ...STATUS_COMMANDS,
  ...GOVERNANCE_COMMANDS,
  ...SUBSCRIPTION_COMMANDS,
];

/**
 * The words that only group commands (`elrond ring`, `elrond security ring`…), with the flags the Go CLI
 * declared on them as cobra persistent flags (`elrond ring --server URL list`, `elrond security ring --ring ID api-lock`);
 * `freeze`, Elrond's own, takes `--server` there too, like the other remote groups.
 */
export const GROUPS: GroupSpec[] = [
  { path: ['schema'], summary: 'Manage the database schema.', persistent: [DATABASE_OPTION] },
  { path: ['token'], summary: 'Manage API tokens (on the database, like schema migrate).', persistent: [DATABASE_OPTION] },
  { path: ['ring'], summary: 'Create, change and release rings.', persistent: [...REMOTE_OPTIONS, DRY_RUN] },
  { path: ['ring', 'installation-group'], summary: 'Manage the installation groups of a ring.' },
  { path: ['webhook'], summary: 'Manage webhooks that receive ring state changes.', persistent: REMOTE_OPTIONS },
  { path: ['security'], summary: 'Lock rings against API changes.', persistent: REMOTE_OPTIONS },
  { path: ['security', 'ring'], summary: 'Lock or unlock one ring.', persistent: [ringOption('the id of the ring')] },
  { path: ['freeze'], summary: 'Freeze windows: times when no ring or group starts.', persistent: REMOTE_OPTIONS },
];

export type { CommandSpec, CommandInput, CommandOutput, CommandContext, GroupSpec, OptionSpec } from './spec.js';
