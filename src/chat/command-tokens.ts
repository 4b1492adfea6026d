import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { secretsMatch } from '../http/app.js';
import { getSetting } from '../store/system.js';

const KEY_PREFIX = 'mattermost:command-token:';

/** How long a stored command token is trusted before it is read again. */
export const TOKEN_RECHECK_MS = 5_000;

/**
 * The tokens that prove a slash-command request came from Mattermost: one per team Elrond registered
 * `/elrond` in (kept in the database so every replica knows them) plus any configured by hand.
 */
export class CommandTokens {
  readonly #db: Kysely<Database>;
  readonly #configured: readonly string[];
  readonly #now: () => number;
  readonly #byTeam = new Map<string, { token: string; readAt: number }>();

  constructor(db: Kysely<Database>, configured: readonly string[], now: () => number = Date.now) {
    this.#db = db;
    this.#configured = configured.filter((t) => t !== '');
    this.#now = now;
  }

  async remember(teamId: string, token: string): Promise<void> {
    this.#byTeam.set(teamId, { token, readAt: this.#now() });
    const key = `${KEY_PREFIX}${teamId}`;
    await this.#db
      .insertInto('system')
      .values({ key, value: token })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: token }))
      .execute();
  }

  /**
   * True when `token` is the registered token of `teamId`, or one configured by hand. Constant-time compares.
   * A token read from the database is trusted for {@link TOKEN_RECHECK_MS}: another replica may regenerate the
   * command, and its old token must stop working here too.
   */
  async verify(teamId: string, token: string): Promise<boolean> {
    if (!token) return false;
    if (this.#configured.some((known) => secretsMatch(known, token))) return true;
    const cached = this.#byTeam.get(teamId);
    if (cached && this.#now() - cached.readAt < TOKEN_RECHECK_MS && secretsMatch(cached.token, token)) return true;
    if (!teamId) return false;
    // Another replica may have registered (or re-registered) the command: read the stored token.
    const stored = await getSetting(this.#db, `${KEY_PREFIX}${teamId}`);
    if (stored) this.#byTeam.set(teamId, { token: stored, readAt: this.#now() });
    return stored !== undefined && secretsMatch(stored, token);
  }
}
