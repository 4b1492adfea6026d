import { REMOTE_OPTIONS, TABLE } from './common-options.js';
import { eventList, inputBool, inputInt, inputString, type CommandSpec } from './spec.js';

export const EVENT_TABLE_HEADERS = ['AT', 'ACTOR', 'KIND', 'RING', 'STATE', 'MESSAGE'];

const events: CommandSpec = {
  path: ['events'],
  operations: ['listEvents'],
  readOnly: true,
  summary: 'Show what happened, newest first: state changes, releases, approvals, who asked.',
  examples: ['events', 'events --ring <ring-id> --limit 20 --table'],
  options: [
    { name: 'ring', valueName: 'id', kind: 'string', description: 'only this ring\'s events' },
    { name: 'limit', valueName: 'n', kind: 'int', default: 100, description: 'how many events to show (1 to 10000)' },
    TABLE,
    ...REMOTE_OPTIONS,
  ],
  validate: (input) => (inputInt(input, 'limit') < 1 ? '--limit must be 1 or more' : undefined),
  async run(ctx, input) {
    const ring = inputString(input, 'ring');
    const list = await ctx.api.listEvents({ limit: inputInt(input, 'limit'), ...(ring ? { ring } : {}) });
    if (!inputBool(input, 'table')) return eventList(list);
    const rows = list.map((e) => [
      new Date(e.at).toISOString(),
      `${e.actor} (${e.source})`,
      e.kind,
      e.ringId ?? '',
      e.oldState || e.newState ? `${e.oldState ?? ''} -> ${e.newState ?? ''}` : '',
      e.message,
    ]);
    return { kind: 'table', headers: EVENT_TABLE_HEADERS, rows, json: list };
  },
};

export const EVENT_COMMANDS: CommandSpec[] = [events];
