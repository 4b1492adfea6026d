import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { secretsMatch } from '../model/secrets-match.js';

/** A delivery is a few hundred bytes (provisioner-api.md A.7); anything near this is not the provisioner. */
export const PROVISIONER_EVENT_LIMIT_BYTES = 64 * 1024;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const STATE = /^[a-z0-9-]{1,64}$/;

export interface ProvisionerWebhookRouteOptions {
  /** The secret registered in the webhook's Headers; undefined while webhooks are off (every delivery is 404). */
  secret: () => string | undefined;
  /** The header carrying it. */
  header: string;
  /** Takes one installation event after the answer has gone; must not throw. */
  receive: (event: { installationId: string; newState: string }) => Promise<void>;
  log: Logger;
  /** Counts the answer in the server's request metrics (status, seconds). */
  observe?: (status: number, seconds: number) => void;
}

/** The A.7 payload's fields Elrond reads, or a problem to answer 400 with. */
export function parseInstallationEvent(body: unknown): { event?: { installationId: string; newState: string }; ignore?: true; problem?: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { problem: 'the body is not a JSON object: send the provisioner\'s webhook payload' };
  const { type, id, new_state: newState } = body as Record<string, unknown>;
  if (typeof type !== 'string') return { problem: 'the payload has no "type": send the provisioner\'s webhook payload' };
  // Cluster, backup and migration events say nothing about group rollouts.
  if (type !== 'installation') return { ignore: true };
  if (typeof id !== 'string' || !ID.test(id)) return { problem: '"id" must be an installation id (letters, digits, - and _, at most 64)' };
  if (typeof newState !== 'string' || !STATE.test(newState)) return { problem: '"new_state" must be an installation state such as "stable"' };
  return { event: { installationId: id, newState } };
}

/** The route this handler answers, ahead of the Express app. */
export const PROVISIONER_WEBHOOK_ROUTE = 'POST /provisioner/webhook';
const PATHS = new Set(['/provisioner/webhook', '/provisioner/webhook/']);

/** Answers one request of this handler's route: true when it did, false for any other request. */
export type RawRouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

function answer(res: ServerResponse, status: number, error?: string, close = false): void {
  const body = error === undefined ? '' : JSON.stringify({ error });
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...(close ? { Connection: 'close' } : {}) });
  res.end(body);
}

/**
 * `POST /provisioner/webhook`: the provisioner's installation events. The caller is proven by the secret header
 * Elrond put in the registration (the provisioner signs nothing), compared in constant time before the body is
 * read. The answer (202) goes before any work: the provisioner waits at most 5 s and never retries, and an
 * event is only a hint to read the group's status sooner.
 *
 * Served on Node's own request, ahead of Express: ten groups ending at once deliver 60 events in one burst (three
 * state changes per installation), and Express' routing and body parsing cost ~0.25 ms of the ~0.55 ms each took
 * (bench/, a keep-alive POST of a delivery), CPU that the woken groups' steps were waiting for.
 */
export function createProvisionerWebhookHandler(options: ProvisionerWebhookRouteOptions): RawRouteHandler {
  return (req, res) => {
    if (req.method !== 'POST' || !PATHS.has((req.url ?? '').split('?', 1)[0]!)) return false;
    const started = performance.now();
    res.once('finish', () => options.observe?.(res.statusCode, (performance.now() - started) / 1000));
    const secret = options.secret();
    if (secret === undefined) {
      answer(res, 404, 'provisioner webhooks are off on this server (--provisioner-webhooks=false or no --public-url)');
      return true;
    }
    const given = req.headers[options.header.toLowerCase()];
    if (!secretsMatch(secret, typeof given === 'string' ? given : '')) {
      options.log.warn({ ip: req.socket.remoteAddress }, 'provisioner webhook with a missing or wrong secret refused');
      answer(res, 401, `missing or wrong ${options.header} header: only the provisioner, with the registered webhook, may post here`);
      return true;
    }
    const tooLarge = () => {
      // The rest is never read: the connection closes once the answer is out.
      req.pause();
      res.once('finish', () => req.socket.destroy());
      answer(res, 413, `the body is larger than ${PROVISIONER_EVENT_LIMIT_BYTES / 1024} KiB: provisioner events are a few hundred bytes`, true);
    };
    if (Number(req.headers['content-length'] ?? 0) > PROVISIONER_EVENT_LIMIT_BYTES) {
      tooLarge();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > PROVISIONER_EVENT_LIMIT_BYTES) {
        refused = true;
        tooLarge();
      } else chunks.push(chunk);
    });
    req.on('error', () => req.socket.destroy());
    req.on('end', () => {
      if (refused) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(res, 400, 'the body is not valid JSON: send the provisioner\'s webhook payload');
      }
      const parsed = parseInstallationEvent(body);
      if (parsed.problem) return answer(res, 400, parsed.problem);
      answer(res, 202);
      if (parsed.event) setImmediate(() => void options.receive(parsed.event!));
    });
    return true;
  };
}
