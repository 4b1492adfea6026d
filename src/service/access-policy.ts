import type { Actor } from '../model/ring.js';
import { forbidden } from '../model/errors.js';
import type { Tx } from './deps.js';

/** What a caller may be allowed to do, from looking to everything. */
export const ROLES = ['viewer', 'releaser', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Chat users by role: Mattermost user ids (the names in the flags, resolved by the bot). */
export interface ChatRoleIds {
  admins: ReadonlySet<string>;
  releasers: ReadonlySet<string>;
  approvers: ReadonlySet<string>;
}

/** The chat side of the policy: the server's `--admins`, `--releasers`, `--approvers` and `--allow-self-approval`. */
export interface AccessPolicy {
  /** Usernames with the admin role (every role). Empty: no chat user is an admin, and chat only reads (and freezes). */
  admins: readonly string[];
  /** Usernames that may release, pause, resume and cancel (admins may too). */
  releasers: readonly string[];
  /** Usernames with the approver role (admins have it too). Empty: only admins approve. */
  approvers: readonly string[];
  allowSelfApproval: boolean;
  /**
   * The listed users' ids, resolved through the bot at start and again every few minutes: a role follows the user
   * (a rename keeps it, a newcomer taking an old name does not get it). Absent without a bot: chat users are then
   * matched by the name Mattermost sends with each slash command.
   */
  userIds?: () => ChatRoleIds;
}

export const OPEN_POLICY: AccessPolicy = { admins: [], releasers: [], approvers: [], allowSelfApproval: false };

/**
 * Someone calling an operation: the actor its events record, and the roles its credential grants. Built in one
 * place per surface ({@link chatCaller}, {@link tokenCaller}); operations never look at anything else.
 */
export interface Caller {
  actor: Actor;
  roles: ReadonlySet<Role>;
  /**
   * The caller's name is proven (a chat user, named from the user id Mattermost supplied), so rules about "the
   * same person" apply. A shared API token names nobody: the actor header is a claim.
   */
  identified: boolean;
  /** May approve a release it started (`--allow-self-approval`). */
  mayApproveOwnRelease: boolean;
  /** The end of a refusal: who has `role`, or how to get it. */
  askFor(role: Role): string;
  /**
   * The actor an operation that starts a rollout records it with (chat: the channel its card goes to), asked only
   * once the caller is allowed; the plain actor when absent.
   */
  rolloutActor?: () => Promise<Actor>;
}

/**
 * Who may run an operation. `role` is needed for any input; `elevate` names inputs that need more (a release with
 * force); `rule` is a condition on stored facts, checked inside the operation's transaction.
 */
export interface Guard<I> {
  role: Role;
  /** "@carol may not <verb>: …" */
  verb: string;
  elevate?: {
    role: Role;
    /** How the README says when (e.g. "with force or overrideFreeze"). */
    when: string;
    applies(input: I): boolean;
    verb(input: I): string;
  };
  rule?: NotTheStarter<I>;
}

/** "Not the person who started it": approving your own release takes `--allow-self-approval`. */
export interface NotTheStarter<I> {
  kind: 'not-the-starter';
  /** Who started the release the input acts on, read inside the operation's transaction. */
  startedBy(tx: Tx, input: I): Promise<string | undefined>;
}

export const RULE_DESCRIPTIONS = {
  'not-the-starter': 'not the person who started the release (unless `--allow-self-approval`)',
} as const satisfies Record<NotTheStarter<unknown>['kind'], string>;

/** What {@link authorize} knows at the point it is asked: nothing yet, the validated input, or also the stored facts. */
export interface GuardStage<I> {
  input?: I;
  facts?: { startedBy: string | undefined };
}

const norm = (name: string) => name.replace(/^@/, '').toLowerCase();
const mentions = (names: readonly string[]) => names.map((n) => `@${n.replace(/^@/, '')}`).join(', ');

/** The role an input needs: the guard's, or the elevated one when it applies. */
export function requiredRole<I>(guard: Guard<I>, input?: I): Role {
  return guard.elevate && input !== undefined && guard.elevate.applies(input) ? guard.elevate.role : guard.role;
}

/**
 * THE authorization policy: throw a 403 naming who may, unless `caller` may run an operation guarded by `guard`.
 * Asked up to three times per invocation, as more becomes known: before the input is read (the guard's role), with
 * the validated input (an elevated role), and inside the transaction with the stored facts its rule needs.
 */
export function authorize<I>(guard: Guard<I>, caller: Caller, stage: GuardStage<I> = {}): void {
  const role = requiredRole(guard, stage.input);
  if (!caller.roles.has(role)) {
    const verb = role === guard.role || stage.input === undefined || !guard.elevate ? guard.verb : guard.elevate.verb(stage.input);
    throw forbidden(`@${caller.actor.name} may not ${verb}: ${caller.askFor(role)}`);
  }
  if (guard.rule?.kind === 'not-the-starter' && stage.facts) {
    const { startedBy } = stage.facts;
    if (caller.identified && !caller.mayApproveOwnRelease && startedBy && norm(startedBy) === norm(caller.actor.name)) {
      throw forbidden(`@${caller.actor.name} started this release and may not approve it; ask another approver (or run the server with --allow-self-approval)`);
    }
  }
}

/** The roles a credential granting `role` carries: admin implies every role. */
export function rolesGrantedBy(role: Role): Set<Role> {
  return new Set(role === 'admin' ? ROLES : ['viewer', role]);
}

/** A stable key for a caller's roles: read answers are shared only between callers the policy treats alike. */
export function rolesKey(caller: Caller): string {
  return ROLES.filter((role) => caller.roles.has(role)).join(',');
}

/** How to name chat admins: the end of every refusal while there are none. */
export const NAME_CHAT_ADMINS = 'chat is read-only (plus `freeze now`) until the server names its admins: start it with --admins <Mattermost username> (and --releasers, --approvers for the other roles)';

/**
 * A chat user's roles, from the server flags: `--admins` hold every role; `--releasers` release, pause, resume and
 * cancel; `--approvers` approve (so do admins; with no `--approvers`, only admins). Everyone else in the channel is
 * a viewer. With no `--admins` nobody holds a role: chat reads, and anyone may pull `freeze now`.
 */
export function chatCaller(policy: AccessPolicy, actor: Actor, rolloutActor?: () => Promise<Actor>): Caller {
  const name = norm(actor.name);
  const ids = policy.userIds?.();
  const listed = (list: 'admins' | 'releasers' | 'approvers') => (ids ? actor.userId !== undefined && ids[list].has(actor.userId) : policy[list].map(norm).includes(name));
  const anyAdmins = policy.admins.length > 0;
  const admin = anyAdmins && listed('admins');
  const roles = new Set<Role>(['viewer']);
  if (admin) for (const role of ROLES) roles.add(role);
  if (anyAdmins && listed('releasers')) roles.add('releaser');
  if (anyAdmins && listed('approvers')) roles.add('approver');
  const askFor = (role: Role): string => {
    if (!anyAdmins) return NAME_CHAT_ADMINS;
    const admins = `ask an Elrond admin (${mentions(policy.admins)})`;
    if (role === 'approver') return policy.approvers.length ? `approvers are ${mentions(policy.approvers)}; admins approve too` : `only admins approve (${mentions(policy.admins)}); the server names approvers with --approvers`;
    if (role === 'releaser') return policy.releasers.length ? `releasers are ${mentions(policy.releasers)}, or ${admins}` : admins;
    return admins;
  };
  return {
    actor,
    roles,
    identified: true,
    mayApproveOwnRelease: policy.allowSelfApproval,
    askFor,
    ...(rolloutActor ? { rolloutActor } : {}),
  };
}

/**
 * A REST (or CLI over REST) caller with a credential granting `role`: a stored token names its holder
 * (`identified`, so "not the starter" applies); the shared `--api-token`, or no token at all, names nobody.
 */
export function tokenCaller(actor: Actor, role: Role, holder: { identified?: boolean; mayApproveOwnRelease?: boolean } = {}): Caller {
  return {
    actor,
    roles: rolesGrantedBy(role),
    identified: holder.identified ?? false,
    mayApproveOwnRelease: holder.mayApproveOwnRelease ?? true,
    askFor: (needed) => `this API token has the ${role} role; use a token with the ${needed} role (elrond token create --role ${needed})`,
  };
}
