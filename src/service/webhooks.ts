import { z } from 'zod';
import { objectId, Paging } from './inputs.js';
import { readOperation, writeOperation } from './operation.js';
import type { Webhook } from '../model/ring.js';
import { badRequest, conflict } from '../model/errors.js';
import { redactUrl } from '../model/redact.js';
import { checkWebhookUrl, MAX_ACTIVE_WEBHOOKS } from '../model/webhook-target.js';
import { countActiveWebhooks, getWebhook, insertWebhook, listWebhooks, softDeleteWebhook } from '../store/webhooks.js';

const CreateWebhook = z.object({
  ownerId: z.string({ required_error: 'must specify owner' }).trim().min(1, 'must specify owner').max(256),
  url: z.string({ required_error: 'must specify a URL' }).trim().min(1, 'must specify a URL').max(2048),
  secret: z.string().max(256).optional(),
});
const OneWebhook = z.object({ webhookId: objectId });
const WebhookPage = Paging.extend({ ownerId: z.string().optional() });

const MANAGE_WEBHOOKS = { role: 'admin', verb: 'manage webhooks' } as const;
const SEE_WEBHOOKS = { role: 'viewer', verb: 'look at webhooks' } as const;

export const WEBHOOK_OPERATIONS = {
  /**
   * POST /api/webhooks. An optional secret signs every delivery (X-Elrond-Signature, X-Elrond-Signature-V2).
   * The URL must pass {@link checkWebhookUrl}; at most {@link MAX_ACTIVE_WEBHOOKS} are active at once.
   */
  createWebhook: writeOperation({
    summary: 'register a URL that receives every ring state change',
    input: CreateWebhook,
    hints: { ownerId: 'e.g. "OwnerID": "release-team"', url: 'e.g. "URL": "https://hooks.example.com/elrond"' },
    guard: MANAGE_WEBHOOKS,
    async run(tx, input, actor): Promise<Webhook> {
      const url = checkWebhookUrl(input.url, { allowPrivate: tx.facts.webhookAllowPrivate ?? false });
      if ((await countActiveWebhooks(tx.db)) >= MAX_ACTIVE_WEBHOOKS) {
        throw conflict(`there are already ${MAX_ACTIVE_WEBHOOKS} webhooks, the most Elrond delivers to: delete one you no longer need first (elrond webhook list, elrond webhook delete --webhook <id>)`);
      }
      const webhook = await insertWebhook(tx.db, { ownerId: input.ownerId, url, secret: input.secret || null, now: tx.now });
      await tx.record({ kind: 'webhook.created', actor, message: `webhook ${webhook.id} for ${redactUrl(url)} created (owner ${input.ownerId})` });
      return webhook;
    },
  }),
  getWebhook: readOperation({
    summary: 'a webhook',
    input: OneWebhook,
    guard: SEE_WEBHOOKS,
    run: (ctx, input) => getWebhook(ctx.db, input.webhookId),
  }),
  listWebhooks: readOperation({
    summary: 'list webhooks',
    input: WebhookPage,
    guard: SEE_WEBHOOKS,
    run: (ctx, { ownerId, ...paging }) => listWebhooks(ctx.db, { ...paging, ...(ownerId ? { ownerId } : {}) }),
  }),
  /** DELETE /api/webhook/{id}: 404 unknown, 400 when already deleted. */
  deleteWebhook: writeOperation({
    summary: 'delete a webhook',
    input: OneWebhook,
    guard: MANAGE_WEBHOOKS,
    async run(tx, { webhookId }, actor): Promise<void> {
      const webhook = await getWebhook(tx.db, webhookId);
      if (!(await softDeleteWebhook(tx.db, webhookId, tx.now))) throw badRequest(`webhook ${webhookId} is already deleted`);
      await tx.record({ kind: 'webhook.deleted', actor, message: `webhook ${webhookId} for ${redactUrl(webhook.url)} deleted` });
    },
  }),
};
