import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Role } from '../service/access-policy.js';
import { hashToken, storedTokens, touchApiToken, type StoredToken } from '../store/api-tokens.js';
import { secretsMatch } from '../model/secrets-match.js';

/** A credential the server was started with (the `--api-token`, the bootstrap admin): shared, it names nobody. */
export interface RoleToken {
  token: string;
  role: Role;
}

/** Who a presented token is: a stored token names its holder; a start-up token is only a role. */
export interface TokenHolder {
  name: string;
  role: Role;
  /** True for a stored token (its name was given to one holder); false for a shared start-up token. */
  named: boolean;
  /** What status page sessions of this token are signed with: a start-up token itself, a stored token's hash. */
  sessionKey: string;
}

/** The REST layer's view of every credential: start-up tokens plus the ones in the database. */
export interface RestCredentials {
  /** Must callers present a token? True once any token exists, start-up or stored. */
  required(): Promise<boolean>;
  /** The holder of `presented`, or undefined when it is no token known here (or one revoked seconds ago). */
  resolve(presented: string): Promise<TokenHolder | undefined>;
  /** Every token's session key and role, for checking a status page session. */
  sessionKeys(): Promise<RoleToken[]>;
}

/** How long the stored tokens are read once for every request: a revoked token works at most this long. */
export const TOKEN_CACHE_MS = 2000;
/** `last_used_at` is written at most this often per token, so a busy client does not turn reads into writes. */
const TOUCH_EVERY_MS = 60_000;

/** The actor name of the `--api-token` and other start-up tokens. */
export const BOOTSTRAP_TOKEN_NAME = 'api-token';

/**
 * Credentials from start-up tokens and, with `db`, the stored ones. Stored tokens are read in one query at most
 * every {@link TOKEN_CACHE_MS} (however many requests, valid or not, arrive) and matched by hash.
 */
export function restCredentials(options: { tokens: readonly RoleToken[]; db?: Kysely<Database>; now: () => number; onTouchError?: (error: unknown) => void }): RestCredentials {
  let snapshot: { at: number; byHash: Map<string, StoredToken> } | undefined;
  let loading: Promise<Map<string, StoredToken>> | undefined;
  const touched = new Map<string, number>();

  async function stored(): Promise<Map<string, StoredToken>> {
    if (!options.db) return new Map();
    const now = options.now();
    if (snapshot && now - snapshot.at < TOKEN_CACHE_MS && now >= snapshot.at) return snapshot.byHash;
    loading ??= storedTokens(options.db)
      .then((rows) => {
        const byHash = new Map(rows.map((row) => [row.tokenHash, row]));
        snapshot = { at: options.now(), byHash };
        return byHash;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  function touch(name: string): void {
    const now = options.now();
    if (!options.db || now - (touched.get(name) ?? -Infinity) < TOUCH_EVERY_MS) return;
    touched.set(name, now);
    touchApiToken(options.db, name, now).catch((error: unknown) => options.onTouchError?.(error));
  }

  return {
    async required() {
      return options.tokens.length > 0 || (await stored()).size > 0;
    },
    async resolve(presented) {
      // Every start-up token is compared in constant time, so the time taken does not say which one matched.
      const matches = options.tokens.filter((candidate) => secretsMatch(candidate.token, presented));
      if (matches[0]) return { name: BOOTSTRAP_TOKEN_NAME, role: matches[0].role, named: false, sessionKey: matches[0].token };
      // A stored token is looked up by its SHA-256: the lookup's timing can only tell about hashes, not tokens.
      const holder = (await stored()).get(hashToken(presented));
      if (!holder) return undefined;
      touch(holder.name);
      return { name: holder.name, role: holder.role, named: true, sessionKey: holder.tokenHash };
    },
    async sessionKeys() {
      return [...options.tokens, ...[...(await stored()).values()].map((holder) => ({ token: holder.tokenHash, role: holder.role }))];
    },
  };
}
