import type { CreateWebhookRequest } from './elrond-api.js';
import { PAGING_OPTIONS, REMOTE_OPTIONS, TABLE } from './common-options.js';
import { redactUrl } from '../model/redact.js';
import { inputBool, inputInt, inputString, json, nothing, webhookList, type CommandSpec, type OptionSpec } from './spec.js';

/** The original `webhook list --table` headers. */
export const WEBHOOK_TABLE_HEADERS = ['ID', 'OWNER', 'URL'];

const webhookOption: OptionSpec = { name: 'webhook', valueName: 'id', kind: 'string', required: true, description: 'the id of the webhook' };

const create: CommandSpec = {
  path: ['webhook', 'create'],
  operations: ['createWebhook'],
  summary: 'Register a URL that receives every ring state change.',
  examples: ['webhook create --owner release-team --url https://hooks.example.com/elrond', 'webhook create --owner me --url https://hooks.example.com/elrond --secret s3cr3t'],
  options: [
    { name: 'owner', valueName: 'owner', kind: 'string', required: true, description: 'who owns the webhook (any label)' },
    { name: 'url', valueName: 'url', kind: 'string', required: true, description: 'the http(s) URL to POST to' },
    { name: 'secret', valueName: 'secret', kind: 'string', description: 'sign each delivery: X-Elrond-Signature: sha256=HMAC(secret, body), and X-Elrond-Signature-V2 over "<X-Elrond-Timestamp>.<body>"' },
    ...REMOTE_OPTIONS,
  ],
  async run(ctx, input) {
    const secret = inputString(input, 'secret');
    const request: CreateWebhookRequest = { OwnerID: inputString(input, 'owner'), URL: inputString(input, 'url'), ...(secret ? { secret } : {}) };
    return json(await ctx.api.createWebhook(request));
  },
};

const get: CommandSpec = {
  path: ['webhook', 'get'],
  operations: ['getWebhook'],
  readOnly: true,
  summary: 'Get a webhook.',
  examples: ['webhook get --webhook <webhook-id>'],
  options: [webhookOption, ...REMOTE_OPTIONS],
  run: async (ctx, input) => json(await ctx.api.getWebhook(inputString(input, 'webhook'))),
};

const list: CommandSpec = {
  path: ['webhook', 'list'],
  operations: ['listWebhooks'],
  readOnly: true,
  summary: 'List webhooks.',
  examples: ['webhook list', 'webhook list --owner release-team --table'],
  options: [{ name: 'owner', valueName: 'owner', kind: 'string', description: 'only this owner\'s webhooks' }, ...PAGING_OPTIONS, TABLE, ...REMOTE_OPTIONS],
  async run(ctx, input) {
    const owner = inputString(input, 'owner');
    const webhooks = await ctx.api.listWebhooks({
      page: inputInt(input, 'page'),
      perPage: inputInt(input, 'per-page'),
      includeDeleted: inputBool(input, 'include-deleted'),
      ...(owner ? { owner } : {}),
    });
    if (!inputBool(input, 'table')) return webhookList(webhooks);
    return { kind: 'table', headers: WEBHOOK_TABLE_HEADERS, rows: webhooks.map((w) => [w.ID, w.OwnerID, redactUrl(w.URL)]), json: webhooks };
  },
};

const remove: CommandSpec = {
  path: ['webhook', 'delete'],
  operations: ['deleteWebhook'],
  summary: 'Delete a webhook.',
  examples: ['webhook delete --webhook <webhook-id>'],
  options: [webhookOption, ...REMOTE_OPTIONS],
  run: async (ctx, input) => (await ctx.api.deleteWebhook(inputString(input, 'webhook')), nothing),
};

export const WEBHOOK_COMMANDS: CommandSpec[] = [create, get, list, remove];
