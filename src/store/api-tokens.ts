import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { ROLES, type Role } from '../service/access-policy.js';
import { badRequest, conflict, notFound } from '../model/errors.js';

/** What `elrond token list` shows of a token: never the token, nor its hash. */
export interface ApiTokenInfo {
  name: string;
  role: Role;
  createAt: number;
  lastUsedAt: number | null;
}

/** A stored token as the REST layer matches it: by the hash of what a caller presents. */
export interface StoredToken {
  name: string;
  role: Role;
  tokenHash: string;
}

/** Token names become actor names in events and cards: kept to what reads safely there. */
const TOKEN_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;
/** Tokens start with this, so a leaked one is recognisable (and secret scanners can be taught it). */
export const TOKEN_PREFIX = 'elrond_';

/**
 * SHA-256 of a token. Enough for tokens made of 32 random bytes (no dictionary to try); a slow password hash
 * would only cost every request time.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function parseRole(value: string): Role {
  const role = ROLES.find((candidate) => candidate === value);
  if (!role) throw badRequest(`role ${JSON.stringify(value.slice(0, 40))} is not one of ${ROLES.join(', ')}: e.g. --role viewer`);
  return role;
}

function checkName(name: string): string {
  if (!TOKEN_NAME.test(name)) throw badRequest(`token name ${JSON.stringify(name.slice(0, 80))} is not valid: use up to 64 letters, digits, '.', '_' or '-', e.g. --name ci-deployer`);
  return name;
}

/** Create a token named `name` with `role`; answers the token itself, which is stored nowhere. */
export async function createApiToken(db: Kysely<Database>, request: { name: string; role: Role; now: number }): Promise<string> {
  const name = checkName(request.name);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const inserted = await db
    .insertInto('api_tokens')
    .values({ name, role: request.role, token_hash: hashToken(token), create_at: request.now, last_used_at: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw conflict(`a token named ${name} exists already: revoke it first (elrond token revoke --name ${name}) or pick another name`);
  return token;
}

export async function listApiTokens(db: Kysely<Database>): Promise<ApiTokenInfo[]> {
  const rows = await db.selectFrom('api_tokens').select(['name', 'role', 'create_at', 'last_used_at']).orderBy('name').execute();
  return rows.map((row) => ({ name: row.name, role: parseRole(row.role), createAt: Number(row.create_at), lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at) }));
}

/** Every stored token's name, role and hash: what the REST layer matches callers against. */
export async function storedTokens(db: Kysely<Database>): Promise<StoredToken[]> {
  const rows = await db.selectFrom('api_tokens').select(['name', 'role', 'token_hash']).execute();
  return rows.map((row) => ({ name: row.name, role: parseRole(row.role), tokenHash: row.token_hash }));
}

/** Delete the token named `name`: requests carrying it are refused once the servers' caches expire (seconds). */
export async function revokeApiToken(db: Kysely<Database>, name: string): Promise<void> {
  const deleted = await db.deleteFrom('api_tokens').where('name', '=', name).executeTakeFirst();
  if (Number(deleted.numDeletedRows) !== 1) throw notFound(`no token named ${JSON.stringify(name.slice(0, 80))}: see the names with "elrond token list"`);
}

/** Record that `name` was used at `now` (callers write this at most once a minute per token). */
export async function touchApiToken(db: Kysely<Database>, name: string, now: number): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: now }).where('name', '=', name).execute();
}
