import axios from 'axios';
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, EventRow, OutboxRow } from '../store/schema.js';
import type { EventSink, OutboxItem } from '../store/event-log.js';
import type { Deliverer } from '../engine/outbox-worker.js';
import { activeWebhookRows, webhookRow } from '../store/webhooks.js';

/** The original's webhook payload (model/webhook.go); `type` is `ring` or `installation-group`. */
export interface WebhookPayload {
  timestamp: number;
  id: string;
  name: string;
  type: 'ring' | 'installation-group';
  new_state: string;
  old_state: string;
  extra_data?: Record<string, string>;
}

export const SIGNATURE_HEADER = 'X-Elrond-Signature';

/** `sha256=<hex HMAC-SHA256 of the raw body>` with the webhook's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function dataOf(event: EventRow): Record<string, unknown> {
  return event.data ? (JSON.parse(event.data) as Record<string, unknown>) : {};
}

/** Every ring and installation group state change goes to every active webhook, in order per ring. */
export const webhookSink: EventSink = {
  name: 'webhook',
  async plan(db: Kysely<Database>, event: EventRow): Promise<OutboxItem[]> {
    if (event.kind !== 'ring.state' && event.kind !== 'group.state') return [];
    const hooks = await activeWebhookRows(db);
    if (hooks.length === 0) return [];
    const data = dataOf(event);
    const isGroup = event.kind === 'group.state';
    const extra: Record<string, string> = { Environment: '' };
    if (typeof data.reason === 'string') extra.Reason = data.reason;
    if (isGroup && event.ring_id) extra.RingID = event.ring_id;
    const payload: WebhookPayload = {
      timestamp: event.at * 1_000_000,
      id: (isGroup ? event.installation_group_id : event.ring_id) ?? '',
      name: String((isGroup ? data.groupName : data.ringName) ?? ''),
      type: isGroup ? 'installation-group' : 'ring',
      new_state: event.new_state ?? '',
      old_state: event.old_state ?? '',
      extra_data: extra,
    };
    return hooks.map((hook) => ({ sink: 'webhook', target: hook.id, orderingKey: `webhook:${hook.id}:${event.ring_id ?? ''}`, payload }));
  },
};

export function webhookDeliverer(db: Kysely<Database>, timeoutMs = 5000): Deliverer {
  return {
    sink: 'webhook',
    async deliver(row: OutboxRow): Promise<void> {
      const hook = await webhookRow(db, row.target);
      if (!hook || hook.delete_at !== 0) return; // deleted since: nothing to deliver
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'elrond' };
      if (hook.secret) headers[SIGNATURE_HEADER] = signBody(hook.secret, row.payload);
      const response = await axios.post(hook.url, row.payload, { headers, timeout: timeoutMs, validateStatus: () => true, transformRequest: [(body: string) => body] });
      if (response.status < 200 || response.status >= 300) throw new Error(`webhook ${hook.url} answered ${response.status}`);
    },
  };
}
