import type { Actor } from '../model/ring.js';
import { forbidden } from '../model/errors.js';

/** Who may do what from chat. REST and CLI callers are trusted operators (they hold the API token). */
export interface AccessPolicy {
  /** Usernames that may release, force, roll back, pause, cancel and override freezes. Empty: everyone may. */
  admins: readonly string[];
  /** Usernames that may approve rings (admins may too). */
  approvers: readonly string[];
  allowSelfApproval: boolean;
}

export const OPEN_POLICY: AccessPolicy = { admins: [], approvers: [], allowSelfApproval: false };

export type GuardedAction = 'release' | 'force' | 'rollback' | 'pause' | 'resume' | 'cancel' | 'retry' | 'change' | 'approve' | 'override-freeze' | 'freeze';

const norm = (name: string) => name.replace(/^@/, '').toLowerCase();

export function isAdmin(policy: AccessPolicy, actor: Actor): boolean {
  if (actor.source !== 'chat') return true;
  return policy.admins.length === 0 || policy.admins.map(norm).includes(norm(actor.name));
}

/**
 * Throw a 403 naming who may do it, unless `actor` may do `action`. Approving is for approvers (and admins),
 * never for the person who started the release unless self-approval is allowed; freezing is for everyone
 * (the stop-the-line button); the rest is for admins.
 */
export function authorize(policy: AccessPolicy, actor: Actor, action: GuardedAction, context: { requestedBy?: string } = {}): void {
  if (actor.source !== 'chat') return;
  if (action === 'freeze') return;
  if (action === 'approve') {
    const allowed = [...policy.approvers, ...policy.admins].map(norm);
    if (policy.approvers.length > 0 && !allowed.includes(norm(actor.name))) {
      throw forbidden(`@${actor.name} may not approve: approvers are ${policy.approvers.map((a) => `@${a}`).join(', ')}`);
    }
    if (!policy.allowSelfApproval && context.requestedBy && norm(context.requestedBy) === norm(actor.name)) {
      throw forbidden(`@${actor.name} started this release and may not approve it; ask another approver (or run the server with --allow-self-approval)`);
    }
    return;
  }
  if (!isAdmin(policy, actor)) {
    throw forbidden(`@${actor.name} may not ${action === 'change' ? 'change rings' : action.replace('-', ' ')}: ask an Elrond admin (${policy.admins.map((a) => `@${a}`).join(', ')})`);
  }
}
