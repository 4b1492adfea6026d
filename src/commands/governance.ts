import { REMOTE_OPTIONS, ringOption } from './common-options.js';
import type { FreezeJson, RingWhy } from './elrond-api.js';
import { inputList, inputString, json, type CommandSpec, type CommandOutput } from './spec.js';
import { formatDuration } from '../model/durations.js';

export const FREEZE_TABLE_HEADERS = ['ID', 'WHEN', 'RINGS', 'REASON', 'BY', 'ACTIVE NOW'];

function when(freeze: FreezeJson): string {
  if (freeze.cron) return `cron "${freeze.cron}" for ${formatDuration(freeze.durationMs ?? 0)} (${freeze.timezone})`;
  return `${new Date(freeze.start ?? 0).toISOString()} → ${new Date(freeze.end ?? 0).toISOString()}`;
}

const ringsOption = { name: 'ring', valueName: 'id', kind: 'list', description: 'only this ring (repeatable); default: every ring' } as const;

const create: CommandSpec = {
  path: ['freeze', 'create'],
  operations: ['createFreeze'],
  summary: 'Create a freeze window: during it no ring or group starts (a group already rolling finishes, then holds).',
  examples: [
    'freeze create --start 2026-12-24T00:00:00Z --end 2026-12-27T00:00:00Z --reason "holidays"',
    'freeze create --cron "0 22 * * 5" --duration 60h --timezone Europe/Berlin --reason "no weekend releases"',
    'freeze create --ring <ring-id> --start +1h --end +3h --reason "customer demo"',
  ],
  options: [
    { name: 'start', valueName: 'time', kind: 'string', description: 'start of a one-off window: ISO 8601 or +2h' },
    { name: 'end', valueName: 'time', kind: 'string', description: 'end of a one-off window: ISO 8601 or +2h' },
    { name: 'cron', valueName: 'expression', kind: 'string', description: 'recurring window start, 5-field cron ("0 22 * * 5": Fridays 22:00)' },
    { name: 'duration', valueName: 'duration', kind: 'string', description: 'length of each recurring window (30m, 2h, 2d; at most 7d)' },
    { name: 'timezone', valueName: 'zone', kind: 'string', default: 'UTC', description: 'IANA timezone the cron is read in' },
    ringsOption,
    { name: 'reason', valueName: 'text', kind: 'string', required: true, description: 'why (shown to everyone the freeze holds back)' },
    ...REMOTE_OPTIONS,
  ],
  validate: (input) => (inputString(input, 'cron') || (inputString(input, 'start') && inputString(input, 'end')) ? undefined : 'give --start and --end (one-off) or --cron and --duration (recurring)'),
  async run(ctx, input) {
    const value = (name: string) => inputString(input, name) || undefined;
    const cron = value('cron');
    const request = cron
      ? { cron, duration: value('duration') ?? '', timezone: value('timezone') ?? 'UTC', rings: inputList(input, 'ring'), reason: inputString(input, 'reason') }
      : { start: value('start') ?? '', end: value('end') ?? '', rings: inputList(input, 'ring'), reason: inputString(input, 'reason') };
    return json(await ctx.api.createFreeze(request));
  },
};

const now: CommandSpec = {
  path: ['freeze', 'now'],
  operations: ['freezeNow'],
  summary: 'Stop the line: freeze every ring (or some) from now, for everyone to see. Anyone may pull it.',
  examples: ['freeze now --reason "incident 1234"', 'freeze now --reason "db maintenance" --until +2h'],
  options: [
    { name: 'reason', valueName: 'text', kind: 'string', required: true, description: 'why' },
    { name: 'until', valueName: 'time', kind: 'string', description: 'when it ends: ISO 8601 or +2h (default: 24 hours)' },
    ringsOption,
    ...REMOTE_OPTIONS,
  ],
  async run(ctx, input) {
    const until = inputString(input, 'until');
    return json(await ctx.api.freezeNow({ reason: inputString(input, 'reason'), rings: inputList(input, 'ring'), ...(until ? { until } : {}) }));
  },
};

const list: CommandSpec = {
  path: ['freeze', 'list'],
  operations: ['listFreezes'],
  readOnly: true,
  summary: 'List freeze windows, and whether each holds rings right now.',
  examples: ['freeze list'],
  options: [...REMOTE_OPTIONS],
  async run(ctx) {
    const freezes = await ctx.api.listFreezes();
    const rows = freezes.map((f) => [f.id, when(f), f.rings.length ? f.rings.join(', ') : 'all', f.reason, f.author, f.activeUntil ? `until ${new Date(f.activeUntil).toISOString()}` : '']);
    return { kind: 'table', headers: FREEZE_TABLE_HEADERS, rows, json: freezes };
  },
};

const remove: CommandSpec = {
  path: ['freeze', 'delete'],
  operations: ['deleteFreeze'],
  summary: 'Lift a freeze window.',
  examples: ['freeze delete --freeze <freeze-id>'],
  options: [{ name: 'freeze', valueName: 'id', kind: 'string', required: true, description: 'the freeze to lift' }, ...REMOTE_OPTIONS],
  run: async (ctx, input) => (await ctx.api.deleteFreeze(inputString(input, 'freeze')), { kind: 'text', text: 'Freeze lifted.' }),
};

export const WHY_TABLE_HEADERS = ['RING', 'STATE', 'WHAT HOLDS IT', 'NEXT'];

function whyTable(answers: RingWhy[]): CommandOutput {
  const rows = answers.map((r) => [`${r.name} (p${r.priority})`, r.state, r.holds.length ? r.holds.map((h) => h.message).join('\n') : 'nothing', r.next]);
  return { kind: 'table', headers: WHY_TABLE_HEADERS, rows, json: answers };
}

const ringWhy: CommandSpec = {
  path: ['ring', 'why'],
  operations: ['why'],
  readOnly: true,
  summary: 'Say exactly what holds a ring back: soak, an earlier ring, approval, freeze, lease, rollout progress, a failure, a pause.',
  examples: ['ring why --ring <ring-id>'],
  options: [ringOption('the ring to explain'), ...REMOTE_OPTIONS],
  run: async (ctx, input) => whyTable(await ctx.api.why(inputString(input, 'ring'))),
};

const why: CommandSpec = {
  path: ['why'],
  operations: ['why'],
  readOnly: true,
  summary: 'Say what holds each ring back (or one, with --ring).',
  examples: ['why', 'why --ring <ring-id>'],
  options: [{ name: 'ring', valueName: 'id', kind: 'string', description: 'only this ring' }, ...REMOTE_OPTIONS],
  run: async (ctx, input) => whyTable(await ctx.api.why(inputString(input, 'ring') || undefined)),
};

export const GOVERNANCE_COMMANDS: CommandSpec[] = [create, now, list, remove, ringWhy, why];
