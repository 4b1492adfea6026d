import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { ChatRoleIds } from '../service/access-policy.js';
import { dropRoleUserPins, pinRoleUser, roleUserPins } from '../store/role-pins.js';
import type { MattermostApi } from './mattermost-client.js';

type RoleList = keyof ChatRoleIds;
const LISTS: readonly RoleList[] = ['admins', 'releasers', 'approvers'];
const FLAG: Record<RoleList, string> = { admins: '--admins', releasers: '--releasers', approvers: '--approvers' };

/** Re-resolve the role names this often: a user created after the start gets the role without a restart. */
export const ROLE_REFRESH_MS = 10 * 60_000;

const norm = (name: string) => name.trim().replace(/^@/, '').toLowerCase();

/**
 * The chat roles by Mattermost user id: each name in `--admins`/`--releasers`/`--approvers` resolved through the
 * bot, pinned to the first user it named (a renamed user keeps the role; whoever takes the old name later does
 * not). A name that names nobody grants nothing and is logged; a lookup that fails for another reason (Mattermost
 * down) keeps what was known.
 */
export class ChatRoles {
  private ids: ChatRoleIds = { admins: new Set(), releasers: new Set(), approvers: new Set() };
  private readonly missing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { api: MattermostApi; db: Kysely<Database>; log: Logger; names: Record<RoleList, readonly string[]> }) {}

  current = (): ChatRoleIds => this.ids;

  private get allNames(): string[] {
    return [...new Set(LISTS.flatMap((list) => this.deps.names[list].map(norm)))];
  }

  /** Resolve every listed name (at start, then every {@link ROLE_REFRESH_MS}). */
  async refresh(): Promise<void> {
    const pins = await roleUserPins(this.deps.db);
    const resolved = new Map<string, string>();
    for (const name of this.allNames) {
      const pinned = pins.get(name);
      try {
        const user = await this.deps.api.userByUsername(name);
        const kept = await pinRoleUser(this.deps.db, name, user.id);
        if (kept !== user.id) this.deps.log.warn({ name, pinned: kept, now: user.id }, `@${name} now names another Mattermost user than the one given the role; the role stays with the first (remove the name from the flags for one start to hand it over)`);
        resolved.set(name, kept);
        this.missing.delete(name);
      } catch (error) {
        const status = (error as { status_code?: number }).status_code;
        if (pinned) resolved.set(name, pinned);
        else if ((status === 404 || status === 400) && !this.missing.has(name)) {
          this.missing.add(name);
          this.deps.log.warn({ name }, `@${name} is listed in ${LISTS.filter((l) => this.deps.names[l].map(norm).includes(name)).map((l) => FLAG[l]).join(', ')} but no Mattermost user has that name: it grants nothing`);
        } else if (status !== 404 && status !== 400) this.deps.log.warn({ err: error, name }, `could not look up @${name} in Mattermost; its role waits for the next try`);
      }
    }
    const idsOf = (list: RoleList) => new Set(this.deps.names[list].map(norm).flatMap((name) => (resolved.has(name) ? [resolved.get(name)!] : [])));
    this.ids = { admins: idsOf('admins'), releasers: idsOf('releasers'), approvers: idsOf('approvers') };
  }

  /** Forget pins of names no longer listed, resolve, and keep resolving every `everyMs`. */
  async start(everyMs = ROLE_REFRESH_MS): Promise<void> {
    await dropRoleUserPins(this.deps.db, this.allNames);
    await this.refresh().catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not resolve chat roles'));
    this.timer = setInterval(() => void this.refresh().catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not resolve chat roles')), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
