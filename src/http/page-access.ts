import { createHmac } from 'node:crypto';
import type { Request } from 'express';
import { secretsMatch } from './app.js';

/** Roles a token can carry. The status page is a viewer's surface: any role may look. */
export type PageRole = 'admin' | 'viewer';

/** A token and the role it grants: today the `--api-token` (the bootstrap admin); per-role tokens add entries. */
export interface RoleToken {
  token: string;
  role: PageRole;
}

export interface PageViewer {
  role: PageRole;
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
 * THE check of who may see the status page and its event stream: a bearer token or a session cookie matched
 * against every configured token (in constant time), or everyone when no token is configured. Returns the
 * viewer, or undefined when the caller must sign in.
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
  /** False when no token is configured: everyone may look. */
  readonly required: boolean;
  check(req: Request): PageViewer | undefined;
  /** The Set-Cookie value signing in with `token`, or undefined when no configured token matches it. */
  signIn(token: string): string | undefined;
  signOut(): string;
}

/** Page access over a list of role tokens; `secure` adds the cookie's Secure flag (served over https). */
export function createPageAccess(options: { tokens: () => readonly RoleToken[]; now: () => number; secure: boolean }): PageAccess {
  const attributes = `Path=/; HttpOnly; SameSite=Strict${options.secure ? '; Secure' : ''}`;
  return {
    get required() {
      return options.tokens().length > 0;
    },
    check(req) {
      const bearer = /^bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
      return pageViewer({ bearer, session: readCookie(req.get('cookie'), SESSION_COOKIE) }, options.tokens(), options.now());
    },
    signIn(token) {
      const match = options.tokens().find((t) => secretsMatch(t.token, token));
      if (!match) return undefined;
      return `${SESSION_COOKIE}=${sessionValue(match.token, options.now() + SESSION_MS)}; ${attributes}; Max-Age=${SESSION_MS / 1000}`;
    },
    signOut: () => `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`,
  };
}
