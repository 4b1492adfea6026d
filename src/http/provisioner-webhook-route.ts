import express, { type NextFunction, type Request, type Response, type Router } from 'express';
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

/**
 * `POST /provisioner/webhook`: the provisioner's installation events. The caller is proven by the secret header
 * Elrond put in the registration (the provisioner signs nothing), compared in constant time before the body is
 * read. The answer (202) goes before any work: the provisioner waits at most 5 s and never retries, and an
 * event is only a hint to read the group's status sooner.
 */
export function createProvisionerWebhookRoute(options: ProvisionerWebhookRouteOptions): Router {
  const router = express.Router();
  router.post(
    '/webhook',
    (req: Request, res: Response, next: NextFunction) => {
      const secret = options.secret();
      if (secret === undefined) return void res.status(404).json({ error: 'provisioner webhooks are off on this server (--provisioner-webhooks=false or no --public-url)' });
      if (!secretsMatch(secret, req.get(options.header) ?? '')) {
        options.log.warn({ ip: req.ip }, 'provisioner webhook with a missing or wrong secret refused');
        return void res.status(401).json({ error: `missing or wrong ${options.header} header: only the provisioner, with the registered webhook, may post here` });
      }
      next();
    },
    express.raw({ type: () => true, limit: PROVISIONER_EVENT_LIMIT_BYTES }),
    (req: Request, res: Response) => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
      } catch {
        return void res.status(400).json({ error: 'the body is not valid JSON: send the provisioner\'s webhook payload' });
      }
      const parsed = parseInstallationEvent(body);
      if (parsed.problem) return void res.status(400).json({ error: parsed.problem });
      res.status(202).end();
      if (parsed.event) setImmediate(() => void options.receive(parsed.event!));
    },
    (error: { type?: string }, _req: Request, res: Response, next: NextFunction) => {
      if (error?.type !== 'entity.too.large') return next(error);
      res.status(413).json({ error: `the body is larger than ${PROVISIONER_EVENT_LIMIT_BYTES / 1024} KiB: provisioner events are a few hundred bytes` });
    },
  );
  return router;
}
