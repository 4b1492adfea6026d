import { REMOTE_OPTIONS } from './common-options.js';
import { formatDuration } from '../model/durations.js';
import { inertCsvCell } from '../model/inert-text.js';
import { eventList, inputInt, inputString, type CommandSpec } from './spec.js';

export const STATUS_TABLE_HEADERS = ['RING', 'PRIORITY', 'STATE', 'VERSION', 'GROUPS', 'SOAK LEFT', 'WAITING FOR / DOING'];

const soakLeft = (seconds: number) => (seconds ? formatDuration(seconds * 1000) : '');

const status: CommandSpec = {
  path: ['status'],
  operations: ['status'],
  readOnly: true,
  summary: 'Every ring at a glance: state, active → desired version, groups done, soak remaining, what it waits for.',
  examples: ['status'],
  options: [...REMOTE_OPTIONS],
  async run(ctx) {
    const rings = await ctx.api.status();
    const rows = rings.map((ring) => [
      ring.name,
      String(ring.priority),
      ring.state,
      ring.activeVersion === ring.desiredVersion ? ring.activeVersion : `${ring.activeVersion} → ${ring.desiredVersion}`,
      ring.groupsTotal ? `${ring.groupsDone}/${ring.groupsTotal}` : '0',
      soakLeft(ring.soakRemainingSeconds),
      ring.doing,
    ]);
    return { kind: 'table', headers: STATUS_TABLE_HEADERS, rows, json: rings };
  },
};

const OUTPUTS = ['table', 'json', 'csv'];

export const HISTORY_HEADERS = ['AT', 'WHO', 'FROM', 'WHAT', 'RING', 'STATE', 'MESSAGE', 'REASON'];

const history: CommandSpec = {
  path: ['history'],
  operations: ['listEvents'],
  readOnly: true,
  summary: 'Who did what, when and from where (CLI, API, chat), with the reasons for forces, rollbacks and freeze overrides.',
  examples: ['history', 'history --ring <ring-id> --since 7d --limit 50', 'history --since 2026-11-01T00:00:00Z --output csv'],
  options: [
    { name: 'ring', valueName: 'id', kind: 'string', description: 'only this ring\'s history' },
    { name: 'since', valueName: 'time', kind: 'string', description: 'only entries since: a duration back from now (2h, 7d) or an ISO 8601 time' },
    { name: 'limit', valueName: 'n', kind: 'int', default: 20, description: 'how many entries (1 to 10000)' },
    {
      name: 'output',
      valueName: 'format',
      kind: 'string',
      default: 'table',
      description: 'table, json or csv',
      check: (value) => {
        if (!OUTPUTS.includes(value)) throw new Error('must be table, json or csv');
      },
    },
    ...REMOTE_OPTIONS,
  ],
  validate: (input) => (inputInt(input, 'limit') < 1 ? '--limit must be 1 or more' : undefined),
  async run(ctx, input) {
    const ring = inputString(input, 'ring');
    const since = inputString(input, 'since');
    const list = await ctx.api.listEvents({ limit: inputInt(input, 'limit'), ...(ring ? { ring } : {}), ...(since ? { since } : {}) });
    const rows = list.map((e) => {
      const data = (e.data ?? {}) as Record<string, unknown>;
      return [
        new Date(e.at).toISOString().replace('T', ' ').slice(0, 19),
        e.actor,
        e.source === 'supervisor' ? 'elrond' : e.source,
        e.kind,
        typeof data.ringName === 'string' ? data.ringName : (e.ringId ?? ''),
        e.oldState || e.newState ? `${e.oldState ?? ''} → ${e.newState ?? ''}` : '',
        e.message,
        typeof data.reason === 'string' ? data.reason : '',
      ];
    });
    switch (inputString(input, 'output') || 'table') {
      case 'json':
        return eventList(list);
      case 'csv':
        return { kind: 'text', text: [HISTORY_HEADERS, ...rows].map((row) => row.map(inertCsvCell).join(',')).join('\n') };
      default:
        return { kind: 'table', headers: HISTORY_HEADERS, rows, json: list };
    }
  },
};

export const STATUS_COMMANDS: CommandSpec[] = [status, history];
