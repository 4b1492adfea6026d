import type { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { Actor } from '../model/ring.js';
import { tokenCaller, type Caller, type Role } from '../service/access-policy.js';

/** A credential and the role it grants: today the `--api-token`, which grants admin. */
export interface RoleToken {
  token: string;
  role: Role;
}

/** Constant-time comparison of a presented secret with the expected one. */
export function secretsMatch(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Who the request says it is, for the record only: the CLI names its user and itself in headers; anything else
 * is "api". A header cannot make a request count as coming from chat (or from Elrond itself).
 */
export function actorFromRequest(req: Request): Actor {
  const name = String(req.get('x-elrond-actor') ?? '').slice(0, 64).replace(/[^\w.@-]/g, '') || 'api';
  return { name, source: req.get('x-elrond-source') === 'cli' ? 'cli' : 'api' };
}

/**
 * THE mapping from a REST credential to a caller: with no token configured every request is an admin (Elrond then
 * listens on 127.0.0.1 only); otherwise `Authorization: Bearer <token>` must be one of `tokens`, and its role is
 * the caller's. Undefined: no or a wrong token (401).
 */
export function callerFromRequest(req: Request, tokens: readonly RoleToken[]): Caller | undefined {
  const actor = actorFromRequest(req);
  if (tokens.length === 0) return tokenCaller(actor, 'admin');
  const presented = /^bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
  // Every token is compared, so the time taken does not say which one (or whether any) matched.
  const matches = tokens.filter((candidate) => secretsMatch(candidate.token, presented));
  return matches[0] ? tokenCaller(actor, matches[0].role) : undefined;
}
