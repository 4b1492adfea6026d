import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, EventRow, OutboxRow } from '../store/schema.js';
import type { EventSink, OutboxItem } from '../store/event-log.js';
import type { Deliverer } from '../engine/outbox-worker.js';
import { activeWebhookRows, webhookRow } from '../store/webhooks.js';
import type { Clock } from '../model/clock.js';
import { redact, redactUrl } from '../model/redact.js';
import { MAX_ACTIVE_WEBHOOKS } from '../model/webhook-target.js';
import { safeRequest } from './safe-http.js';

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

/** `sha256=<hex HMAC-SHA256 of the raw body>`: the original signature, kept for receivers that check it. */
export const SIGNATURE_HEADER = 'X-Elrond-Signature';
/** Unix seconds when this attempt was sent (every retry has its own). */
export const TIMESTAMP_HEADER = 'X-Elrond-Timestamp';
/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`: a receiver that checks the timestamp's age refuses replays. */
export const SIGNATURE_V2_HEADER = 'X-Elrond-Signature-V2';

/** Every delivery has this long, connect to last byte read (Go Elrond's client had an absolute 5 s `Timeout`). */
export const WEBHOOK_DEADLINE_MS = 10_000;
/** Read at most this much of a receiver's answer; only its status counts. */
export const WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024;

/** `sha256=<hex HMAC-SHA256>` of `signed` with the webhook's secret. */
export function signBody(secret: string, signed: string): string {
  return `sha256=${createHmac('sha256', secret).update(signed).digest('hex')}`;
}

/** The headers of one delivery of `body` at `nowMs`: content type, timestamp and, with a secret, both signatures. */
export function webhookHeaders(secret: string | null, body: string, nowMs: number): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'elrond', [TIMESTAMP_HEADER]: timestamp };
  if (secret) {
    headers[SIGNATURE_HEADER] = signBody(secret, body);
    headers[SIGNATURE_V2_HEADER] = signBody(secret, `${timestamp}.${body}`);
  }
  return headers;
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

export interface WebhookDeliveryOptions {
  clock: Clock;
  /** `--webhook-allow-private`: connect to loopback, private and link-local addresses too. */
  allowPrivate: boolean;
  deadlineMs?: number;
  maxResponseBytes?: number;
}

/**
 * POSTs each payload to its webhook under {@link safeRequest}'s rules: an absolute deadline, a capped answer,
 * no redirects, and (unless private targets are allowed) only public addresses at connect time. Errors name
 * the webhook by id and redacted URL, never the full URL.
 */
export function webhookDeliverer(db: Kysely<Database>, options: WebhookDeliveryOptions): Deliverer {
  return {
    sink: 'webhook',
    // One lane per webhook: a slow or dead receiver only delays its own deliveries.
    concurrency: MAX_ACTIVE_WEBHOOKS,
    async deliver(row: OutboxRow, attempt): Promise<void> {
      const hook = await webhookRow(db, row.target);
      if (!hook || hook.delete_at !== 0) return; // deleted since: nothing to deliver
      const shown = `webhook ${hook.id} (${redactUrl(hook.url)})`;
      let response;
      try {
        response = await safeRequest({
          url: hook.url,
          method: 'POST',
          headers: webhookHeaders(hook.secret, row.payload, options.clock.now()),
          body: row.payload,
          deadlineMs: options.deadlineMs ?? WEBHOOK_DEADLINE_MS,
          maxResponseBytes: options.maxResponseBytes ?? WEBHOOK_MAX_RESPONSE_BYTES,
          publicOnly: !options.allowPrivate,
          signal: attempt.signal,
        });
      } catch (error) {
        throw new Error(`${shown}: ${redact(error instanceof Error ? error.message : String(error))}`);
      }
      if (response.status >= 300 && response.status < 400) {
        const location = typeof response.headers.location === 'string' ? ` to ${redactUrl(response.headers.location)}` : '';
        throw new Error(`${shown} answered ${response.status} (a redirect${location}); webhooks do not follow redirects: point the webhook at the final URL`);
      }
      if (response.status < 200 || response.status >= 300) throw new Error(`${shown} answered ${response.status}`);
    },
  };
}
