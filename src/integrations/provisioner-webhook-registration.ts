import { createHash } from 'node:crypto';
import type { ProvisionerWebhook, ProvisionerWebhookApi } from './provisioner-client.js';

/** The header the provisioner sends back with each delivery; its value is Elrond's webhook secret. */
export const WEBHOOK_SECRET_HEADER = 'X-Elrond-Webhook-Secret';
/** Where the provisioner delivers, under `--public-url`. */
export const PROVISIONER_WEBHOOK_PATH = '/provisioner/webhook';

/** What Elrond registers on the provisioner: the same for every replica behind one `--public-url`. */
export interface WebhookRegistration {
  ownerId: string;
  url: string;
  secret: string;
}

/**
 * The registration for a public URL. The owner id is derived from the URL, not from the process, so replicas
 * (and restarts) find and reuse one registration instead of adding their own.
 *
 * @example webhookRegistration('https://elrond.example.org/', s) // { ownerId: 'elrond-3f1c…', url: 'https://elrond.example.org/provisioner/webhook', … }
 */
export function webhookRegistration(publicUrl: string, secret: string): WebhookRegistration {
  const base = publicUrl.replace(/\/+$/, '');
  const digest = createHash('sha256').update(base).digest('hex').slice(0, 16);
  return { ownerId: `elrond-${digest}`, url: `${base}${PROVISIONER_WEBHOOK_PATH}`, secret };
}

function carries(webhook: ProvisionerWebhook, wanted: WebhookRegistration): boolean {
  return webhook.URL === wanted.url && (webhook.Headers ?? []).some((h) => h.key === WEBHOOK_SECRET_HEADER && h.value === wanted.secret);
}

/** The oldest first; ties broken by id, so every replica picks the same one to keep. */
function byAge(a: ProvisionerWebhook, b: ProvisionerWebhook): number {
  return a.CreateAt - b.CreateAt || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0);
}

/**
 * Make sure exactly one live webhook of this owner points at `url` with the current secret. Creates it when
 * missing, and deletes the owner's others (an old URL, a rotated secret, or a twin created by a replica that
 * started at the same moment: both then keep the oldest, so they agree without talking).
 *
 * @returns the id of the webhook kept.
 */
export async function ensureWebhookRegistered(api: ProvisionerWebhookApi, wanted: WebhookRegistration): Promise<string> {
  let mine = (await api.list(wanted.ownerId)).filter((w) => w.DeleteAt === 0);
  if (!mine.some((w) => carries(w, wanted))) {
    await api.create({ OwnerID: wanted.ownerId, URL: wanted.url, Headers: [{ key: WEBHOOK_SECRET_HEADER, value: wanted.secret }] });
    // Read back: another replica may have created one too; the oldest matching one wins everywhere.
    mine = (await api.list(wanted.ownerId)).filter((w) => w.DeleteAt === 0);
  }
  const keep = mine.filter((w) => carries(w, wanted)).sort(byAge)[0];
  if (!keep) throw new Error(`the provisioner did not list the webhook just registered for ${wanted.ownerId}`);
  for (const other of mine) if (other.ID !== keep.ID) await api.delete(other.ID);
  return keep.ID;
}

/** How often the registration is checked again: the provisioner's database may be restored, or an operator may delete it. */
export const REGISTRATION_RECHECK_MS = 10 * 60_000;
/**
 * After a failed attempt (the provisioner answered 5xx, or could not be reached), the next one comes this much
 * later: soon enough that events resume within a minute of the provisioner coming back, rare enough not to add
 * to its trouble. Meanwhile polling keeps its usual schedule.
 */
export const REGISTRATION_RETRY_MS = 60_000;

/**
 * Register now, then again {@link REGISTRATION_RECHECK_MS} after a success or {@link REGISTRATION_RETRY_MS}
 * after a failure, by the injected clock (checked every `tickMs` of real time, so a test's manual clock decides
 * when). `onResult(true|false)` after each attempt, so polling knows whether events can come at all. Failures
 * are logged with their cause, never thrown.
 */
export function keepWebhookRegistered(options: {
  api: ProvisionerWebhookApi;
  wanted: WebhookRegistration;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  onResult: (registered: boolean) => void;
  now: () => number;
  tickMs?: number;
}): { first: Promise<void>; stop(): void } {
  let dueAt = Number.POSITIVE_INFINITY;
  let attempting = false;
  const attempt = async () => {
    attempting = true;
    try {
      const id = await ensureWebhookRegistered(options.api, options.wanted);
      dueAt = options.now() + REGISTRATION_RECHECK_MS;
      options.log.info({ webhookId: id, url: options.wanted.url, owner: options.wanted.ownerId }, 'provisioner webhook registered');
      options.onResult(true);
    } catch (error) {
      dueAt = options.now() + REGISTRATION_RETRY_MS;
      const reason = error instanceof Error ? error.message : String(error);
      options.log.warn(
        { err: error, url: options.wanted.url, retryInSeconds: REGISTRATION_RETRY_MS / 1000 },
        `provisioner webhook registration failed (${reason}): polling the provisioner on the usual schedule; retrying in ${REGISTRATION_RETRY_MS / 1000} s`,
      );
      options.onResult(false);
    } finally {
      attempting = false;
    }
  };
  const first = attempt();
  const timer = setInterval(() => {
    if (!attempting && options.now() >= dueAt) void attempt();
  }, options.tickMs ?? 1000);
  timer.unref();
  return { first, stop: () => clearInterval(timer) };
}
