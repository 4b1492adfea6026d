/**
 * Webhook registration and delivery of the fake provisioner (provisioner-api.md A.7):
 * `POST /api/webhooks` → 202, deliveries are fire-and-forget POSTs with a 5 s timeout,
 * no retries and no signature. There are no group-level events.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { CreateWebhookRequest } from './decode.js';
import { paginate, type Paging } from './model.js';
import { HttpStatusError, type StateChange, type Webhook } from './types.js';

/** What the registry needs from its owner. */
export interface WebhookDeps {
  now: () => number;
  newId: () => string;
  /** `extra_data.Environment` of every payload. */
  environment: string;
}

/** The A.7 body; `timestamp` is Unix nanoseconds, written as an exact integer. */
export function webhookBody(change: StateChange, environment: string): string {
  const nanos = BigInt(Math.trunc(change.at)) * 1_000_000n;
  const fields: [string, string][] = [
    ['event_id', JSON.stringify(randomUUID())],
    ['timestamp', nanos.toString()],
    ['id', JSON.stringify(change.installationId)],
    ['type', '"installation"'],
    ['new_state', JSON.stringify(change.newState)],
    ['old_state', JSON.stringify(change.oldState)],
    ['extra_data', JSON.stringify({ Environment: environment, Name: change.name })],
  ];
  return `{${fields.map(([key, value]) => `"${key}":${value}`).join(',')}}`;
}

/**
 * Go's default transport keeps connections alive: deliveries reuse them, as the provisioner's `http.Client` does.
 * (The fake used `fetch` before: in a bench its per-request cost slowed the fake itself when ten groups ended at once.)
 */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/** One fire-and-forget POST with a 5 s deadline; any failure is ignored. */
function post(url: string, headers: Record<string, string>, body: string): void {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return;
  }
  const agent = target.protocol === 'https:' ? agents['https:'] : target.protocol === 'http:' ? agents['http:'] : undefined;
  if (agent === undefined) return;
  const request = (target.protocol === 'https:' ? https : http).request(target, { method: 'POST', agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, timeout: 5000 }, (response) => response.resume());
  request.on('timeout', () => request.destroy());
  request.on('error', () => undefined);
  request.end(body);
}

function notFound(): never {
  throw new HttpStatusError(404, 'webhook not found');
}

/** Registered webhooks and their delivery. */
export class WebhookRegistry {
  private readonly records = new Map<string, { webhook: Webhook; order: number }>();
  private counter = 0;

  constructor(private readonly deps: WebhookDeps) {}

  /** `POST /api/webhooks` after decoding. */
  create(request: CreateWebhookRequest): Webhook {
    const webhook: Webhook = {
      ID: this.deps.newId(),
      OwnerID: request.OwnerID,
      URL: request.URL,
      CreateAt: this.deps.now(),
      DeleteAt: 0,
      Headers: structuredClone(request.Headers),
    };
    this.records.set(webhook.ID, { webhook, order: this.counter++ });
    return structuredClone(webhook);
  }

  /** `GET /api/webhooks?owner=`. */
  list(ownerId: string | undefined, paging: Paging): Webhook[] {
    const matching = [...this.records.values()]
      .sort((a, b) => a.order - b.order)
      .map((r) => r.webhook)
      .filter((w) => (paging.includeDeleted || w.DeleteAt === 0) && (ownerId === undefined || w.OwnerID === ownerId));
    return paginate(matching, paging).map((w) => structuredClone(w));
  }

  /** `GET /api/webhook/{id}`. */
  get(id: string): Webhook {
    return structuredClone((this.records.get(id) ?? notFound()).webhook);
  }

  /** `DELETE /api/webhook/{id}` (soft delete). */
  delete(id: string): void {
    const webhook = (this.records.get(id) ?? notFound()).webhook;
    if (webhook.DeleteAt === 0) webhook.DeleteAt = Math.max(1, this.deps.now());
  }

  /**
   * POSTs the change to every live webhook; failures are ignored. Upstream: `webhook.SendToAllWebhooks` and
   * `sendWebhook` (internal/webhook/webhook.go): Content-Type set first, then each header of
   * `model.ParseHeadersFromStringMap` (a literal value or the provisioner's env var), a 5 s client timeout, no retry.
   * Upstream `sendWebhooks` sends each in a fire-and-forget goroutine, so a burst of state changes never holds up
   * an API answer: here each POST goes out after the I/O already waiting (setImmediate). Sent inline, ten groups
   * settling together made the fake answer Elrond's status reads ~40 ms late behind 60 deliveries (bench/, urgent).
   */
  deliver(change: StateChange): void {
    const body = webhookBody(change, this.deps.environment);
    for (const { webhook } of [...this.records.values()].sort((a, b) => a.order - b.order)) {
      if (webhook.DeleteAt !== 0) continue;
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      for (const header of webhook.Headers ?? []) {
        const value = header.value ?? process.env[header.value_from_env ?? ''];
        if (value !== undefined) headers[header.key] = value;
      }
      setImmediate(() => post(webhook.URL, headers, body));
    }
  }
}
