import type { RegisterGroupRequest, UpdateGroupRequest } from './elrond-api.js';
import { DRY_RUN, REMOTE_OPTIONS, ringOption } from './common-options.js';
import { inputBool, inputInt, inputString, json, nothing, type CommandSpec, type OptionSpec } from './spec.js';

const groupOption: OptionSpec = { name: 'installation-group', valueName: 'id', kind: 'string', required: true, description: 'the id of the installation group' };

const register: CommandSpec = {
  path: ['ring', 'installation-group', 'register'],
  operations: ['registerGroup'],
  summary: 'Register an installation group (a provisioner group) with a ring.',
  examples: ['ring installation-group register --ring <ring-id> --installation-group-name canary-ig --provisioner-group-id <group-id> --soak-time 600'],
  options: [
    ringOption('the id of the ring'),
    { name: 'installation-group-name', valueName: 'name', kind: 'string', required: true, description: 'the name of the installation group' },
    { name: 'provisioner-group-id', valueName: 'id', kind: 'string', required: true, description: 'the provisioner group it stands for' },
    { name: 'soak-time', valueName: 'seconds', kind: 'int', default: 0, description: 'how long the group must stay healthy after its rollout' },
    DRY_RUN,
    ...REMOTE_OPTIONS,
  ],
  async run(ctx, input) {
    const request: RegisterGroupRequest = {
      name: inputString(input, 'installation-group-name'),
      soakTime: inputInt(input, 'soak-time'),
      provisionerGroupID: inputString(input, 'provisioner-group-id'),
    };
    if (inputBool(input, 'dry-run')) return json(request);
    return json(await ctx.api.registerGroup(inputString(input, 'ring'), request));
  },
};

const update: CommandSpec = {
  path: ['ring', 'installation-group', 'update'],
  operations: ['updateGroup'],
  summary: 'Update an installation group\'s name, provisioner group or soak time.',
  examples: ['ring installation-group update --installation-group <group-id> --soak-time 900'],
  options: [
    groupOption,
    { name: 'name', valueName: 'name', kind: 'string', description: 'new name' },
    { name: 'provisioner-group-id', valueName: 'id', kind: 'string', description: 'new provisioner group' },
    { name: 'soak-time', valueName: 'seconds', kind: 'int', default: 0, description: 'new soak time (0 leaves it unchanged)' },
    DRY_RUN,
    ...REMOTE_OPTIONS,
  ],
  async run(ctx, input) {
    const name = inputString(input, 'name');
    const soakTime = inputInt(input, 'soak-time');
    const provisionerGroupID = inputString(input, 'provisioner-group-id');
    const request: UpdateGroupRequest = { ...(name ? { name } : {}), ...(soakTime ? { soakTime } : {}), ...(provisionerGroupID ? { provisionerGroupID } : {}) };
    if (inputBool(input, 'dry-run')) return json(request);
    return json(await ctx.api.updateGroup(inputString(input, 'installation-group'), request));
  },
};

const remove: CommandSpec = {
  path: ['ring', 'installation-group', 'delete'],
  operations: ['deleteGroup'],
  summary: 'Remove an installation group from a ring.',
  examples: ['ring installation-group delete --ring <ring-id> --installation-group <group-id>'],
  options: [groupOption, ringOption('the id of the ring it belongs to'), ...REMOTE_OPTIONS],
  run: async (ctx, input) => (await ctx.api.deleteGroup(inputString(input, 'ring'), inputString(input, 'installation-group')), nothing),
};

export const RING_INSTALLATION_GROUP_COMMANDS: CommandSpec[] = [register, update, remove];
