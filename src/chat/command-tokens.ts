import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { secretsMatch } from '../model/secrets-match.js';
import { getSetting, setSetting } from '../store/system.js';

const KEY_PREFIX = 'mattermost:command-token:';

/** How long a stored command token is trusted before it is read again. */
export const TOKEN_RECHECK_MS = 5_000;

/** A token mismatch re-reads the team's commands from Mattermost at most this often per team. */
export const COMMAND_REFRESH_INTERVAL_MS = 30_000;

/**
 * The tokens that prove a slash-command request came from Mattermost: one per team Elrond registered
 * `/elrond` in (kept in the database so every replica knows them) plus any configured by hand.
 */
export class CommandTokens {
  readonly #db: Kysely<Database>;
  readonly #configured: readonly string[];
  readonly #now: () => number;
  readonly #byTeam = new Map<string, { token: string; readAt: number }>();
  readonly #refreshed = new Map<string, { at: number; token: Promise<string | undefined> }>();
  #refresh: ((teamId: string) => Promise<string | undefined>) | undefined;

  constructor(db: Kysely<Database>, configured: readonly string[], now: () => number = Date.now) {
    this.#db = db;
    this.#configured = configured.filter((t) => t !== '');
    this.#now = now;
  }

  /** How to read a team's current token from Mattermost, once the command is registered. */
  useRefresher(refresh: (teamId: string) => Promise<string | undefined>): void {
    this.#refresh = refresh;
  }

  async remember(teamId: string, token: string): Promise<void> {
    this.#byTeam.set(teamId, { token, readAt: this.#now() });
    await setSetting(this.#db, `${KEY_PREFIX}${teamId}`, token);
  }

  /**
   * True when `token` is the registered token of `teamId`, or one configured by hand. Constant-time compares.
   * A token read from the database is trusted for {@link TOKEN_RECHECK_MS}: another replica may regenerate the
   * command, and its old token must stop working here too. A token that matches none of a registered team is
   * checked against Mattermost (someone may have regenerated it, or deleted the command), at most every
   * {@link COMMAND_REFRESH_INTERVAL_MS} per team.
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
    if (stored === undefined) return false;
    if (secretsMatch(stored, token)) return true;
    const fresh = await this.#refreshTeam(teamId);
    return fresh !== undefined && secretsMatch(fresh, token);
  }

  /** The team's token as Mattermost has it now, remembered; within the interval, the last answer (or the one in flight). */
  #refreshTeam(teamId: string): Promise<string | undefined> {
    if (!this.#refresh) return Promise.resolve(undefined);
    const last = this.#refreshed.get(teamId);
    const now = this.#now();
    if (last && now - last.at < COMMAND_REFRESH_INTERVAL_MS) return last.token;
    const token = this.#refresh(teamId)
      .then(async (fresh) => {
        if (fresh) await this.remember(teamId, fresh);
        return fresh;
      })
      .catch(() => undefined);
    this.#refreshed.set(teamId, { at: now, token });
    return token;
  }
}
