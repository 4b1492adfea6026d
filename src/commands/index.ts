import { EVENT_COMMANDS } from './events.js';
import { RING_INSTALLATION_GROUP_COMMANDS } from './ring-installation-group.js';
import { RING_COMMANDS } from './ring.js';
import { SCHEMA_COMMANDS } from './schema.js';
import { SECURITY_COMMANDS } from './security.js';
import { SERVER_COMMANDS } from './server.js';
import type { CommandSpec } from './spec.js';
import { WEBHOOK_COMMANDS } from './webhook.js';
import { STATUS_COMMANDS } from './status.js';
import { GOVERNANCE_COMMANDS } from './governance.js';
import { DEMO_COMMANDS } from './demo.js';

/** Every command of `elrond` and `/elrond`, as data. A test checks the paths are unique. */
export const COMMANDS: CommandSpec[] = [
  ...SERVER_COMMANDS,
  ...DEMO_COMMANDS,
  ...SCHEMA_COMMANDS,
  ...RING_COMMANDS,
  ...RING_INSTALLATION_GROUP_COMMANDS,
  ...WEBHOOK_COMMANDS,
  ...SECURITY_COMMANDS,
  ...EVENT_COMMANDS,
  ...STATUS_COMMANDS,
  ...GOVERNANCE_COMMANDS,
];

/** Summaries of the commands that only group others (`elrond ring`, `elrond security ring`…). */
export const GROUP_SUMMARIES: Readonly<Record<string, string>> = {
  schema: 'Manage the database schema.',
  ring: 'Create, change and release rings.',
  'ring installation-group': 'Manage the installation groups of a ring.',
  webhook: 'Manage webhooks that receive ring state changes.',
  security: 'Lock rings against API changes.',
  'security ring': 'Lock or unlock one ring.',
  freeze: 'Freeze windows: times when no ring or group starts.',
};

export type { CommandSpec, CommandInput, CommandOutput, CommandContext, OptionSpec } from './spec.js';
