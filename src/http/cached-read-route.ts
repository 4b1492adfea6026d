import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReadCache } from '../service/read-cache.js';
import { rolesKey, type Caller } from '../service/access-policy.js';
import { callerFromRequest } from './request-caller.js';
import type { RestCredentials } from './rest-credentials.js';
import type { RawRouteHandler } from './provisioner-webhook-route.js';
import { sendJsonBody } from './compressed-body.js';

/** A REST read's answer as the read cache keeps it: serialized once, and the route template it came from (for metrics). */
export interface CachedRestAnswer {
  status: number;
  body?: Buffer;
  route: string;
}

/**
 * The read cache's key for a REST read: the same answer for callers the policy treats alike, for the same URL
 * exactly as sent (query string included).
 */
export function restReadKey(caller: Caller, url: string): string {
  return `rest ${rolesKey(caller)} ${url}`;
}

export interface CachedReadRouteOptions {
  reads: ReadCache;
  credentials: RestCredentials;
  allowSelfApproval: boolean;
  /** The Express app, for every request this route does not answer itself. */
  fallback: (req: IncomingMessage, res: ServerResponse) => void;
  /** Callers proven here, so the Express route asks the credentials once, not twice (app.ts). */
  proven: WeakMap<IncomingMessage, Caller>;
  observe?: (route: string, status: number, seconds: number) => void;
}

/** A request that carries a body: the Express route parses it (and may refuse it), so it goes there. */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * `GET /api/...` answered ahead of Express when the read cache already holds this answer: the same URL, asked by a
 * caller with the same roles, computed for the data as it is now (service/read-cache.ts). During a release fifty
 * dashboards polling `GET /api/rings` are answered from the cache almost every time, and Express' routing and
 * middleware were most of what such an answer cost.
 *
 * The caller is proven exactly as the Express route proves it (`callerFromRequest`, the same credentials); the
 * answer is the one the Express route computed and cached for that key, sent the same way. Anything else (no or a
 * wrong token, an answer not cached or out of date, a body, HEAD, another method) goes on to Express unchanged,
 * which answers, refuses or computes as it always did.
 */
export function createCachedReadHandler(options: CachedReadRouteOptions): RawRouteHandler {
  const { reads, credentials, fallback, proven } = options;
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith('/api/') || hasBody(req)) return false;
    const started = performance.now();
    let handedOn = false;
    const handOn = () => {
      handedOn = true;
      fallback(req, res);
    };
    void (async () => {
      let answer: CachedRestAnswer | undefined;
      try {
        const caller = await callerFromRequest(req, credentials, { allowSelfApproval: options.allowSelfApproval });
        if (caller) {
          proven.set(req, caller);
          answer = await reads.peek<CachedRestAnswer>(restReadKey(caller, url));
        }
      } catch {
        // The credentials or the data version could not be read: the Express route says what went wrong.
        answer = undefined;
      }
      if (!answer) return handOn();
      const { route } = answer;
      // Counted here unless Express ended up answering (its own middleware counts it then).
      res.once('finish', () => handedOn || options.observe?.(route, res.statusCode, (performance.now() - started) / 1000));
      if (answer.body === undefined) {
        res.statusCode = answer.status;
        res.end();
      } else await sendJsonBody(req, res, answer.status, answer.body);
    })().catch(() => {
      // Only sending can fail here (compressing): nothing was written yet unless the socket is gone.
      if (!res.headersSent) handOn();
    });
    return true;
  };
}
