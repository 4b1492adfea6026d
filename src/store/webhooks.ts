import type { Kysely } from 'kysely';
import type { Database, WebhookRow } from './schema.js';
import { webhookRowToWebhook } from './rows.js';
import type { Webhook } from '../model/ring.js';
import { newId } from '../model/ids.js';
import { conflict, notFound } from '../model/errors.js';
import { redactUrl } from '../model/redact.js';
import { preparedQuery } from './prepared-query.js';

export async function insertWebhook(
  db: Kysely<Database>,
  input: { ownerId: string; url: string; secret: string | null; now: number },
): Promise<Webhook> {
  const active = await db
    .selectFrom('webhooks')
    .select('id')
    .where('url', '=', input.url)
    .where('delete_at', '=', 0)
    .executeTakeFirst();
  if (active) throw conflict(`a webhook for ${redactUrl(input.url)} already exists (${active.id}); delete it first to change it`);
  const row = await db
    .insertInto('webhooks')
    .values({ id: newId(), owner_id: input.ownerId, url: input.url, secret: input.secret, create_at: input.now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return webhookRowToWebhook(row);
}

export async function getWebhook(db: Kysely<Database>, id: string): Promise<Webhook> {
  const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`webhook ${id} not found: list them with "elrond webhook list"`);
  return webhookRowToWebhook(row);
}

export async function listWebhooks(
  db: Kysely<Database>,
  filter: { ownerId?: string; page: number; perPage: number; includeDeleted: boolean },
): Promise<Webhook[]> {
  let query = db.selectFrom('webhooks').selectAll().orderBy('create_at', 'asc').orderBy('id', 'asc');
  if (filter.ownerId) query = query.where('owner_id', '=', filter.ownerId);
  if (!filter.includeDeleted) query = query.where('delete_at', '=', 0);
  if (filter.perPage >= 0) query = query.limit(filter.perPage).offset(filter.page * filter.perPage);
  return (await query.execute()).map(webhookRowToWebhook);
}

export async function countActiveWebhooks(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('delete_at', '=', 0).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Active webhooks with their secrets, for delivery. */
export async function activeWebhookRows(db: Kysely<Database>): Promise<WebhookRow[]> {
  return activeWebhooks.rows(db, {});
}
// Read for every ring and group state event (event-log.ts, the webhook sink).
const activeWebhooks = preparedQuery((db) => db.selectFrom('webhooks').selectAll().where('delete_at', '=', 0));

export async function webhookRow(db: Kysely<Database>, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function softDeleteWebhook(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable('webhooks').set({ delete_at: now }).where('id', '=', id).where('delete_at', '=', 0).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
