import { DEFAULT_RING_SOAK_SECONDS } from '../model/ring.js';
import { parseEnvVariableFlag, parseEnvVariableFlags } from '../model/env-vars.js';
import type { CreateRingRequest, RingReleaseRequest, RollbackRequest, UpdateRingRequest } from './elrond-api.js';
import { DRY_RUN, PAGING_OPTIONS, REMOTE_OPTIONS, TABLE, ringOption } from './common-options.js';
import { formatRingTable } from './format-ring-table.js';
import { inputBool, inputInt, inputList, inputString, json, nothing, ringList, type CommandInput, type CommandSpec } from './spec.js';

/** Go's `omitempty`: leave out empty strings and zeros, as the original CLI's requests did. */
function compact<T extends object>(request: T): T {
  return Object.fromEntries(Object.entries(request).filter(([, value]) => value !== '' && value !== 0 && value !== undefined)) as T;
}

const create: CommandSpec = {
  path: ['ring', 'create'],
  operations: ['createRing'],
  summary: 'Create a ring (and optionally its first installation group).',
  examples: [
    'ring create --name canary --priority 1 --soak-time 3600',
    'ring create --name canary --priority 1 --installation-group-name canary-ig --installation-group-provisioner-group-id <group-id> --installation-group-soak-time 600',
  ],
  options: [
    { name: 'name', valueName: 'name', kind: 'string', description: 'the name that identifies the ring' },
    { name: 'priority', valueName: 'n', kind: 'int', default: 1, description: 'release order: lower numbers release first; must not be 0' },
    { name: 'installation-group-name', valueName: 'name', kind: 'string', description: 'name of an installation group to register with the ring' },
    { name: 'installation-group-soak-time', valueName: 'seconds', kind: 'int', default: 0, description: 'soak time of that installation group' },
    { name: 'installation-group-provisioner-group-id', valueName: 'id', kind: 'string', description: 'provisioner group of that installation group' },
    { name: 'soak-time', valueName: 'seconds', kind: 'int', default: DEFAULT_RING_SOAK_SECONDS, description: 'how long the ring must stay healthy after a release (0: no soak)' },
    { name: 'image', valueName: 'image', kind: 'string', description: 'the Mattermost image of the ring\'s first release' },
    { name: 'version', valueName: 'version', kind: 'string', description: 'the Mattermost version of the ring\'s first release' },
    { name: 'approval-required', kind: 'bool', description: 'each release waits for an approver\'s click (Approve on the release card) before this ring starts' },
    DRY_RUN,
    ...REMOTE_OPTIONS,
  ],
  async run(ctx, input) {
    const request: CreateRingRequest = {
      ...compact({
        name: inputString(input, 'name'),
        priority: inputInt(input, 'priority'),
        image: inputString(input, 'image'),
        version: inputString(input, 'version'),
      }),
      // Always sent, 0 included: "--soak-time 0" means no soak (the original's omitempty made it 7200).
      soakTime: inputInt(input, 'soak-time'),
      ...(inputBool(input, 'approval-required') ? { approvalRequired: true } : {}),
      installationGroup: compact({
        name: inputString(input, 'installation-group-name'),
        soakTime: inputInt(input, 'installation-group-soak-time'),
        provisionerGroupID: inputString(input, 'installation-group-provisioner-group-id'),
      }),
    };
    if (inputBool(input, 'dry-run')) return json(request);
    return json(await ctx.api.createRing(request));
  },
};

const update: CommandSpec = {
  path: ['ring', 'update'],
  operations: ['updateRing'],
  summary: 'Update a ring\'s name, priority or soak time.',
  examples: ['ring update --ring <ring-id> --priority 2', 'ring update --ring <ring-id> --soak-time 7200 --dry-run'],
  options: [
    ringOption('the id of the ring to update'),
    { name: 'name', valueName: 'name', kind: 'string', description: 'new name of the ring' },
    { name: 'priority', valueName: 'n', kind: 'int', default: 0, description: 'new priority (0 leaves it unchanged)' },
    { name: 'soak-time', valueName: 'seconds', kind: 'int', default: 0, description: 'new soak time (0 leaves it unchanged)' },
    { name: 'image', valueName: 'image', kind: 'string', description: 'accepted for compatibility; this does not release (use "ring release")' },
    { name: 'version', valueName: 'version', kind: 'string', description: 'accepted for compatibility; this does not release (use "ring release")' },
    {
      name: 'approval-required',
      valueName: 'true|false',
      kind: 'string',
      description: 'whether releases wait for an approver\'s click before this ring starts',
      check: (value) => {
        if (value !== 'true' && value !== 'false') throw new Error('must be true or false');
      },
    },
    DRY_RUN,
    ...REMOTE_OPTIONS,
  ],
  async run(ctx, input) {
    const approval = inputString(input, 'approval-required');
    const request: UpdateRingRequest = {
      ...compact({
        name: inputString(input, 'name'),
        priority: inputInt(input, 'priority'),
        soakTime: inputInt(input, 'soak-time'),
        image: inputString(input, 'image'),
        version: inputString(input, 'version'),
      }),
      ...(approval ? { approvalRequired: approval === 'true' } : {}),
    };
    if (inputBool(input, 'dry-run')) return json(request);
    return json(await ctx.api.updateRing(inputString(input, 'ring'), request));
  },
};

function releaseRequest(input: CommandInput): RingReleaseRequest {
  const reason = inputString(input, 'reason');
  return {
    Image: inputString(input, 'image'),
    Version: inputString(input, 'version'),
    Force: inputBool(input, 'force'),
    // The original always sends a map, so a single-ring release proceeds even for the same version.
    EnvVariables: parseEnvVariableFlags(inputList(input, 'env-variable')) ?? {},
    ...(reason ? { reason } : {}),
    ...(inputBool(input, 'override-freeze') ? { overrideFreeze: true } : {}),
  };
}

function rollbackRequest(input: CommandInput): RollbackRequest {
  const reason = inputString(input, 'reason');
  return reason ? { reason } : {};
}

/** The mode `ring release` runs in, by the original's precedence (plus rollback, Elrond's). */
export function releaseMode(input: CommandInput): 'dry-run' | 'plan' | 'pause' | 'resume' | 'cancel' | 'rollback-all' | 'rollback' | 'all-rings' | 'ring' | 'none' {
  if (inputBool(input, 'dry-run')) return 'dry-run';
  if (inputBool(input, 'plan') && (inputBool(input, 'all-rings') || inputString(input, 'ring'))) return 'plan';
  if (inputBool(input, 'pause')) return 'pause';
  if (inputBool(input, 'resume')) return 'resume';
  if (inputBool(input, 'cancel')) return 'cancel';
  if (inputBool(input, 'rollback')) {
    if (inputBool(input, 'all-rings')) return 'rollback-all';
    return inputString(input, 'ring') ? 'rollback' : 'none';
  }
  if (inputBool(input, 'all-rings')) return 'all-rings';
  return inputString(input, 'ring') ? 'ring' : 'none';
}

const release: CommandSpec = {
  path: ['ring', 'release'],
  operations: ['releaseRing', 'releaseAllRings', 'pauseReleases', 'resumeReleases', 'cancelReleases', 'rollbackRing', 'rollbackAllRings', 'planRelease'],
  summary: 'Release a ring or all rings to an image/version, or pause, resume, cancel or roll back releases (in chat, with no flags: a form).',
  chatForm: 'release',
  examples: [
    'ring release --ring <ring-id> --image mattermost/mattermost-enterprise-edition --version 10.5.1',
    'ring release --all-rings --image mattermost/mattermost-enterprise-edition --version 10.5.1 --reason "monthly release"',
    'ring release --ring <ring-id> --env-variable MM_FEATUREFLAGS_X:true --env-variable MM_OLD_SETTING:',
    'ring release --pause',
    'ring release --rollback --ring <ring-id> --reason "error rate up"',
    'ring release --all-rings --image mattermost/mattermost-enterprise-edition --version 10.5.1 --plan',
    'ring release --all-rings --image mattermost/mattermost-enterprise-edition --version 10.5.2 --override-freeze --reason "security fix"',
  ],
  options: [
    ringOption('the id of the ring to release (or use --all-rings)', false),
    { name: 'image', valueName: 'image', kind: 'string', description: 'the Mattermost image to release (default: the ring\'s current one)' },
    { name: 'version', valueName: 'version', kind: 'string', description: 'the Mattermost version to release (default: the ring\'s current one)' },
    { name: 'force', kind: 'bool', description: 'skip ring ordering and soak times' },
    { name: 'all-rings', kind: 'bool', description: 'release every ring, in priority order' },
    { name: 'pause', kind: 'bool', description: 'pause every pending release' },
    { name: 'resume', kind: 'bool', description: 'resume paused releases' },
    { name: 'cancel', kind: 'bool', description: 'cancel releases that have not started' },
    { name: 'rollback', kind: 'bool', description: 'roll back to the previous release: with --ring, one ring; with --all-rings, every ring the newest release reached' },
    { name: 'reason', valueName: 'text', kind: 'string', description: 'why, recorded with the release or rollback' },
    { name: 'plan', kind: 'bool', description: 'show what the release would do (rings, versions, env diff, soaks, approvals, freezes, ETA) and change nothing' },
    { name: 'override-freeze', kind: 'bool', description: 'start even during a freeze window (admins only; needs --reason; recorded)' },
    {
      name: 'env-variable',
      valueName: 'NAME:VALUE',
      kind: 'list',
      description: 'environment variable to set; NAME: (empty value) removes NAME',
      check: (value) => void parseEnvVariableFlag(value),
    },
    DRY_RUN,
    ...REMOTE_OPTIONS,
  ],
  validate(input) {
    if (releaseMode(input) !== 'none') return undefined;
    return inputBool(input, 'rollback')
      ? 'say what to roll back: --rollback --ring <id> for one ring, or --rollback --all-rings'
      : 'say which rings to release: --ring <id> for one ring or --all-rings for every ring (or use --pause, --resume, --cancel or --rollback)';
  },
  async run(ctx, input) {
    const ringId = inputString(input, 'ring');
    switch (releaseMode(input)) {
      case 'dry-run':
        return json(inputBool(input, 'rollback') ? rollbackRequest(input) : releaseRequest(input));
      case 'plan': {
        const request = releaseRequest(input);
        const plan = await ctx.api.planRelease(ringId || undefined, request);
        return { kind: 'plan', plan, request, ...(ringId ? { ringId } : {}) };
      }
      case 'pause':
        return (await ctx.api.pauseReleases(), nothing);
      case 'resume':
        return (await ctx.api.resumeReleases(), nothing);
      case 'cancel':
        return (await ctx.api.cancelReleases(), nothing);
      case 'rollback-all':
        return ringList(await ctx.api.rollbackAllRings(rollbackRequest(input)));
      case 'rollback':
        return json(await ctx.api.rollbackRing(ringId, rollbackRequest(input)));
      case 'all-rings':
        return ringList(await ctx.api.releaseAllRings(releaseRequest(input)));
      case 'ring':
        return json(await ctx.api.releaseRing(ringId, releaseRequest(input)));
      case 'none':
        throw new Error(release.validate?.(input) ?? 'nothing to do');
    }
  },
};

const getRelease: CommandSpec = {
  path: ['ring', 'get-release'],
  operations: ['getRelease'],
  readOnly: true,
  summary: 'Get a release (image, version, environment variables, force).',
  examples: ['ring get-release --release <release-id>'],
  options: [{ name: 'release', valueName: 'id', kind: 'string', required: true, description: 'the id of the release' }, ...REMOTE_OPTIONS],
  run: async (ctx, input) => json(await ctx.api.getRelease(inputString(input, 'release'))),
};

const approve: CommandSpec = {
  path: ['ring', 'approve'],
  operations: ['approveRing'],
  summary: 'Approve a ring that waits for approval before its release starts (what Approve on the release card does).',
  examples: ['ring approve --ring <ring-id>'],
  options: [ringOption('the ring to approve'), ...REMOTE_OPTIONS],
  run: async (ctx, input) => json(await ctx.api.approveRing(inputString(input, 'ring'))),
};

const get: CommandSpec = {
  path: ['ring', 'get'],
  operations: ['getRing'],
  readOnly: true,
  summary: 'Get a ring and its installation groups.',
  examples: ['ring get --ring <ring-id>'],
  options: [ringOption('the id of the ring'), ...REMOTE_OPTIONS],
  run: async (ctx, input) => json(await ctx.api.getRing(inputString(input, 'ring'))),
};

const list: CommandSpec = {
  path: ['ring', 'list'],
  operations: ['listRings', 'getRelease'],
  readOnly: true,
  summary: 'List rings.',
  examples: ['ring list', 'ring list --table', 'ring list --per-page -1 --include-deleted'],
  options: [...PAGING_OPTIONS, TABLE, ...REMOTE_OPTIONS],
  async run(ctx, input) {
    const rings = await ctx.api.listRings({ page: inputInt(input, 'page'), perPage: inputInt(input, 'per-page'), includeDeleted: inputBool(input, 'include-deleted') });
    return inputBool(input, 'table') ? formatRingTable(ctx.api, rings) : ringList(rings);
  },
};

const remove: CommandSpec = {
  path: ['ring', 'delete'],
  operations: ['deleteRing'],
  summary: 'Delete a ring.',
  examples: ['ring delete --ring <ring-id>'],
  options: [ringOption('the id of the ring to delete'), ...REMOTE_OPTIONS],
  run: async (ctx, input) => (await ctx.api.deleteRing(inputString(input, 'ring')), nothing),
};

/** `release …`: the same command, shorter to type (its examples say so). */
const releaseAlias: CommandSpec = {
  ...release,
  path: ['release'],
  summary: 'Short for "ring release": release rings, or pause, resume, cancel or roll back releases (in chat, with no flags: a form).',
  examples: release.examples.map((example) => example.replace(/^ring release/, 'release')),
};

export const RING_COMMANDS: CommandSpec[] = [create, update, release, releaseAlias, approve, getRelease, get, list, remove];
