import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { setSettingIfAbsent } from './system.js';

const PREFIX = 'chat-role-user:';

/**
 * The user id a role name was first resolved to, kept for good: the first resolution wins (on every replica), so
 * a later user who takes the name does not take the role. Returns the pinned id.
 */
export const pinRoleUser = (db: Kysely<Database>, name: string, userId: string): Promise<string> => setSettingIfAbsent(db, `${PREFIX}${name}`, userId);

/** Every pinned name → user id. */
export async function roleUserPins(db: Kysely<Database>): Promise<Map<string, string>> {
  const rows = await db.selectFrom('system').select(['key', 'value']).where('key', 'like', `${PREFIX}%`).execute();
  return new Map(rows.map((row) => [row.key.slice(PREFIX.length), row.value]));
}

/** Forget the pins of names no longer listed: listing a name again resolves it afresh. */
export async function dropRoleUserPins(db: Kysely<Database>, keep: readonly string[]): Promise<void> {
  const pins = await roleUserPins(db);
  const gone = [...pins.keys()].filter((name) => !keep.includes(name)).map((name) => `${PREFIX}${name}`);
  if (gone.length) await db.deleteFrom('system').where('key', 'in', gone).execute();
}
