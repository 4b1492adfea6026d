import type { IncomingMessage } from 'node:http';
import type { Actor } from '../model/ring.js';
import { tokenCaller, type Caller } from '../service/access-policy.js';
import type { RestCredentials } from './rest-credentials.js';

export type { RoleToken } from './rest-credentials.js';

/**
 * A request header as Express' `req.get` reads it, on Node's own request too (routes answered ahead of Express
 * ask the same questions): Node joins a repeated header with ", ", keeps the first Authorization.
 */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Where the request says it comes from: our CLI says so; anything else is "api". Never "chat" (or Elrond itself). */
function sourceOf(req: IncomingMessage): Actor['source'] {
  return header(req, 'x-elrond-source') === 'cli' ? 'cli' : 'api';
}

/** The presented `Authorization: Bearer <token>`, or '' without one. */
export function bearerToken(req: IncomingMessage): string {
  return /^bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1]?.trim() ?? '';
}

/**
 * The name an unauthenticated (open mode) request claims in `X-Elrond-Actor`, marked as unverified so no card or
 * event can pass it off as a person's: "alice (unverified)"; "api" without the header.
 */
export function unverifiedActorName(req: IncomingMessage): string {
  const claimed = String(header(req, 'x-elrond-actor') ?? '').slice(0, 64).replace(/[^\w.-]/g, '');
  return claimed ? `${claimed} (unverified)` : 'api';
}

/**
 * THE mapping from a REST credential to a caller. With tokens (start-up or stored) a request must carry one:
 * the token decides the role and the actor (a stored token's name; "api-token" for the --api-token), and
 * X-Elrond-Actor is ignored. With none (127.0.0.1 only, or --insecure-no-auth) every request is an admin whose
 * X-Elrond-Actor is recorded as an unverified label. Undefined: no or a wrong (or revoked) token (401).
 */
export async function callerFromRequest(req: IncomingMessage, credentials: RestCredentials, options: { allowSelfApproval?: boolean } = {}): Promise<Caller | undefined> {
  const presented = bearerToken(req);
  if (!(await credentials.required())) return tokenCaller({ name: unverifiedActorName(req), source: sourceOf(req) }, 'admin');
  const holder = presented ? await credentials.resolve(presented) : undefined;
  if (!holder) return undefined;
  return tokenCaller({ name: holder.name, source: sourceOf(req) }, holder.role, holder.named ? { identified: true, mayApproveOwnRelease: options.allowSelfApproval ?? false } : {});
}
