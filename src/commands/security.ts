import { REMOTE_OPTIONS, ringOption } from './common-options.js';
import { inputString, nothing, type CommandSpec } from './spec.js';

const lock: CommandSpec = {
  path: ['security', 'ring', 'api-lock'],
  operations: ['lockRing'],
  summary: 'Lock a ring against API changes (update, release, delete, group changes).',
  examples: ['security ring api-lock --ring <ring-id>'],
  options: [ringOption('the id of the ring to lock'), ...REMOTE_OPTIONS],
  run: async (ctx, input) => (await ctx.api.lockRing(inputString(input, 'ring')), nothing),
};

const unlock: CommandSpec = {
  path: ['security', 'ring', 'api-unlock'],
  operations: ['unlockRing'],
  summary: 'Unlock a ring for API changes.',
  examples: ['security ring api-unlock --ring <ring-id>'],
  options: [ringOption('the id of the ring to unlock'), ...REMOTE_OPTIONS],
  run: async (ctx, input) => (await ctx.api.unlockRing(inputString(input, 'ring')), nothing),
};

export const SECURITY_COMMANDS: CommandSpec[] = [lock, unlock];
