import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

const PREFIX = 'used-once:';
/** Expiries zero-padded so that they compare as text the way they do as numbers (the value column is text). */
const pad = (ms: number) => String(Math.max(0, Math.trunc(ms))).padStart(16, '0');

/**
 * Mark `key` used, once: true for the first caller, false for every later one (on any replica, and after a
 * restart: a row, not memory). Marks whose `expiresAt` passed are removed on the way; their signed values have
 * expired too, so nothing can be replayed after a mark is gone.
 */
export async function useOnce(db: Kysely<Database>, key: string, expiresAt: number, now: number): Promise<boolean> {
  await db.deleteFrom('system').where('key', 'like', `${PREFIX}%`).where('value', '<', pad(now)).execute();
  const result = await db.insertInto('system').values({ key: `${PREFIX}${key}`, value: pad(expiresAt) }).onConflict((oc) => oc.column('key').doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}
