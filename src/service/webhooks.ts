import { z } from 'zod';
import type { ServiceDeps } from './deps.js';
import { inTransaction } from './deps.js';
import { lowerKeys, parseInput } from './inputs.js';
import type { Actor, Webhook } from '../model/ring.js';
import { badRequest, conflict } from '../model/errors.js';
import { redactUrl } from '../model/redact.js';
import { checkWebhookUrl, MAX_ACTIVE_WEBHOOKS } from '../model/webhook-target.js';
import { countActiveWebhooks, getWebhook, insertWebhook, listWebhooks, softDeleteWebhook } from '../store/webhooks.js';

const createInput = z.object({
  ownerid: z.string({ required_error: 'must specify owner' }).trim().min(1, 'must specify owner').max(256),
  url: z.string({ required_error: 'must specify a URL' }).trim().min(1, 'must specify a URL').max(2048),
  secret: z.string().max(256).optional(),
});

/** `--webhook-allow-private`: webhooks may target loopback, private and link-local addresses. */
export interface WebhookRules {
  webhookAllowPrivate?: boolean;
}

export function webhookService(deps: ServiceDeps & WebhookRules) {
  return {
    /**
     * POST /api/webhooks. An optional secret signs every delivery (X-Elrond-Signature, X-Elrond-Signature-V2).
     * The URL must pass {@link checkWebhookUrl}; at most {@link MAX_ACTIVE_WEBHOOKS} are active at once.
     */
    async create(body: unknown, actor: Actor): Promise<Webhook> {
      if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
        throw badRequest('the request body is empty: send {"OwnerID":"me","URL":"https://hooks.example.com/elrond"}');
      }
      const input = parseInput(createInput, lowerKeys(body), { ownerid: 'e.g. "OwnerID": "release-team"', url: 'e.g. "URL": "https://hooks.example.com/elrond"' });
      const url = checkWebhookUrl(input.url, { allowPrivate: deps.webhookAllowPrivate ?? false });
      return inTransaction(deps, async (tx) => {
        if ((await countActiveWebhooks(tx.db)) >= MAX_ACTIVE_WEBHOOKS) {
          throw conflict(`there are already ${MAX_ACTIVE_WEBHOOKS} webhooks, the most Elrond delivers to: delete one you no longer need first (elrond webhook list, elrond webhook delete --webhook <id>)`);
        }
        const webhook = await insertWebhook(tx.db, { ownerId: input.ownerid, url, secret: input.secret || null, now: tx.now });
        await tx.record({ kind: 'webhook.created', actor, message: `webhook ${webhook.id} for ${redactUrl(url)} created (owner ${input.ownerid})` });
        return webhook;
      });
    },
    get: (id: string) => getWebhook(deps.store.db, id),
    list: (filter: { ownerId?: string; page: number; perPage: number; includeDeleted: boolean }) => listWebhooks(deps.store.db, filter),
    /** DELETE /api/webhook/{id}: 404 unknown, 400 when already deleted. */
    async delete(id: string, actor: Actor): Promise<void> {
      await inTransaction(deps, async (tx) => {
        const webhook = await getWebhook(tx.db, id);
        if (!(await softDeleteWebhook(tx.db, id, tx.now))) throw badRequest(`webhook ${id} is already deleted`);
        await tx.record({ kind: 'webhook.deleted', actor, message: `webhook ${id} for ${redactUrl(webhook.url)} deleted` });
      });
    },
  };
}

export type WebhookService = ReturnType<typeof webhookService>;
