import { createHmac } from 'node:crypto';
import type { Request } from 'express';
import { secretsMatch } from '../model/secrets-match.js';
import { bearerToken } from './request-caller.js';
import type { RestCredentials, RoleToken } from './rest-credentials.js';
import type { Role } from '../service/access-policy.js';

export interface PageViewer {
  /** The status page is a viewer's surface: every role may look. */
  role: Role;
  /** How the caller proved it: no token configured, a bearer token, or the page's session cookie. */
  via: 'open' | 'bearer' | 'session';
}

export const SESSION_COOKIE = 'elrond_session';
/** How long a sign-in lasts. */
export const SESSION_MS = 12 * 3600_000;

/** `<expiresAt>.<HMAC of the expiry, keyed with the token>`: proves the token without holding it. */
export function sessionValue(token: string, expiresAt: number): string {
  return `${expiresAt}.${createHmac('sha256', token).update(`elrond status page session ${expiresAt}`).digest('base64url')}`;
}

/**
 * Who may see the status page, from a bearer token or a session cookie matched against `tokens` (in constant time):
 * everyone when there is none. Returns the viewer, or undefined when the caller must sign in. A token here is the
 * key a session is signed with: the `--api-token` itself, or a stored token's hash.
 */
export function pageViewer(credential: { bearer?: string | undefined; session?: string | undefined }, tokens: readonly RoleToken[], now: number): PageViewer | undefined {
  if (tokens.length === 0) return { role: 'admin', via: 'open' };
  if (credential.bearer) {
    const match = tokens.find((t) => secretsMatch(t.token, credential.bearer!));
    if (match) return { role: match.role, via: 'bearer' };
  }
  const session = credential.session ?? '';
  const expiresAt = Number(session.slice(0, session.indexOf('.')));
  if (Number.isSafeInteger(expiresAt) && expiresAt > now && expiresAt <= now + SESSION_MS) {
    const match = tokens.find((t) => secretsMatch(sessionValue(t.token, expiresAt), session));
    if (match) return { role: match.role, via: 'session' };
  }
  return undefined;
}

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export interface PageAccess {
  /** False when no token exists: everyone may look. */
  required(): Promise<boolean>;
  check(req: Request): Promise<PageViewer | undefined>;
  /** The Set-Cookie value signing in with `token` (any token, any role), or undefined when it is no valid token. */
  signIn(token: string): Promise<string | undefined>;
  signOut(): string;
}

/**
 * THE check of who may see the status page and its event stream: any token the API accepts (start-up or stored,
 * of any role), as a bearer token or through the session cookie signing in with it sets. A session is signed with
 * the token's hash for stored tokens, so revoking the token ends its sessions within seconds.
 * `secure` adds the cookie's Secure flag (served over https).
 */
export function createPageAccess(options: { credentials: RestCredentials; now: () => number; secure: boolean }): PageAccess {
  const { credentials } = options;
  const attributes = `Path=/; HttpOnly; SameSite=Strict${options.secure ? '; Secure' : ''}`;
  return {
    required: () => credentials.required(),
    async check(req) {
      if (!(await credentials.required())) return { role: 'admin', via: 'open' };
      const bearer = bearerToken(req);
      if (bearer) {
        const holder = await credentials.resolve(bearer);
        return holder ? { role: holder.role, via: 'bearer' } : undefined;
      }
      return pageViewer({ session: readCookie(req.get('cookie'), SESSION_COOKIE) }, await credentials.sessionKeys(), options.now());
    },
    async signIn(token) {
      const holder = await credentials.resolve(token);
      if (!holder) return undefined;
      return `${SESSION_COOKIE}=${sessionValue(holder.sessionKey, options.now() + SESSION_MS)}; ${attributes}; Max-Age=${SESSION_MS / 1000}`;
    },
    signOut: () => `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`,
  };
}
