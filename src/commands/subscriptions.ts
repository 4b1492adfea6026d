import { REMOTE_OPTIONS } from './common-options.js';
import type { SubscriptionJson } from './elrond-api.js';
import { inputList, inputString, text, type CommandSpec } from './spec.js';

export const SUBSCRIPTION_TABLE_HEADERS = ['CHANNEL', 'RINGS', 'BY', 'SINCE'];

const channelOption = {
  name: 'channel',
  valueName: 'team/channel',
  kind: 'string',
  description: 'the channel, as team-name/channel-name (or its id); in chat, the current channel by default',
} as const;

const ringsOf = (s: SubscriptionJson) => (s.rings.length ? s.rings.map((r) => r.name).join(', ') : 'every ring');

const subscribe: CommandSpec = {
  path: ['subscribe'],
  operations: ['subscribe'],
  summary: 'Make a channel follow releases: it gets each release card and its thread (every ring\'s, or only --ring\'s).',
  examples: ['subscribe', 'subscribe --ring <ring-id> --ring <ring-id>', 'subscribe --channel release-team/ops'],
  options: [{ name: 'ring', valueName: 'id', kind: 'list', description: 'only releases of this ring (repeatable); default: every ring' }, channelOption, ...REMOTE_OPTIONS],
  async run(ctx, input) {
    const channel = inputString(input, 'channel');
    const rings = inputList(input, 'ring');
    const saved = await ctx.api.subscribe({ ...(channel ? { channel } : {}), ...(rings.length ? { rings } : {}) });
    return text(`${saved.channel} ${saved.replaced ? 'now follows' : 'follows'} releases of ${ringsOf(saved)}: each gets its card and thread there.`);
  },
};

const unsubscribe: CommandSpec = {
  path: ['unsubscribe'],
  operations: ['unsubscribe'],
  summary: 'Stop a channel following releases (its cards stay, and stop being updated).',
  examples: ['unsubscribe', 'unsubscribe --channel release-team/ops'],
  options: [channelOption, ...REMOTE_OPTIONS],
  async run(ctx, input) {
    const channel = inputString(input, 'channel');
    const removed = await ctx.api.unsubscribe(channel ? { channel } : {});
    return text(`${removed.channel} no longer follows releases.`);
  },
};

const subscriptions: CommandSpec = {
  path: ['subscriptions'],
  operations: ['listSubscriptions'],
  readOnly: true,
  summary: 'List the channels that follow releases, --notify-channel (the default) first.',
  examples: ['subscriptions'],
  options: [...REMOTE_OPTIONS],
  async run(ctx) {
    const list = await ctx.api.listSubscriptions();
    const rows = list.map((s) => [s.default ? `${s.channel} (--notify-channel: releases not started from chat)` : s.channel, ringsOf(s), s.createdBy, s.default ? '' : new Date(s.createAt).toISOString().slice(0, 16).replace('T', ' ')]);
    return { kind: 'table', headers: SUBSCRIPTION_TABLE_HEADERS, rows, json: list };
  },
};

export const SUBSCRIPTION_COMMANDS: CommandSpec[] = [subscribe, unsubscribe, subscriptions];
