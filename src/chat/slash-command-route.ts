import type { IncomingMessage } from 'node:http';
import type { RawRouteHandler } from '../http/provisioner-webhook-route.js';
import { answerSlashCommand, SLASH_COMMAND_LIMIT_BYTES, SLASH_COMMAND_MAX_FIELDS, unreadableCommandReply, type ChatDeps } from './chat-router.js';

export { SLASH_COMMAND_LIMIT_BYTES, SLASH_COMMAND_MAX_FIELDS };

const PATHS = new Set(['/mattermost/command', '/mattermost/command/']);

/**
 * Whether this handler reads the request: a form in UTF-8, not compressed. Anything else (a JSON body, which
 * Mattermost sends for a command registered with that content type; a gzip-encoded body; another charset) goes
 * on to the Express route, which reads every kind it always did.
 */
function isPlainForm(req: IncomingMessage): boolean {
  const [type, ...params] = (req.headers['content-type'] ?? '').toLowerCase().split(';');
  if (type?.trim() !== 'application/x-www-form-urlencoded') return false;
  for (const param of params) {
    const [key, value] = param.trim().split('=');
    if (key === 'charset' && value?.replace(/"/g, '') !== 'utf-8') return false;
  }
  const encoding = req.headers['content-encoding'];
  return encoding === undefined || encoding.trim().toLowerCase() === 'identity';
}

/**
 * A form's fields, as the Express route sees them: `+` is a space, a field sent twice is no string at all (the
 * body parser makes it an array, which no field reader accepts). Undefined past `SLASH_COMMAND_MAX_FIELDS`.
 */
export function readForm(body: string): ((name: string) => string) | undefined {
  let fields = 1;
  for (let at = body.indexOf('&'); at !== -1; at = body.indexOf('&', at + 1)) if (++fields > SLASH_COMMAND_MAX_FIELDS) return undefined;
  const values = new Map<string, string | null>();
  for (const [name, value] of new URLSearchParams(body)) values.set(name, values.has(name) ? null : value);
  return (name) => values.get(name) ?? '';
}

/**
 * `POST /mattermost/command` with a plain form, answered on Node's own request ahead of Express: during a release
 * a team asks `/elrond status` and `/elrond ring list` over and over, and Express' routing and body parsing (qs)
 * were about half of what each cached answer cost (bench/, load: 0.44 → 0.15 ms of CPU a request). The answer
 * is the Express route's own (`answerSlashCommand`); a body over the limit, or with too many fields, gets the
 * same ephemeral reply as there.
 * Nothing runs before the whole body is read.
 */
export function createSlashCommandHandler(deps: ChatDeps, observe?: (status: number, seconds: number) => void): RawRouteHandler {
  return (req, res) => {
    if (req.method !== 'POST' || !PATHS.has((req.url ?? '').split('?', 1)[0]!) || !isPlainForm(req)) return false;
    const started = performance.now();
    res.once('finish', () => observe?.(res.statusCode, (performance.now() - started) / 1000));
    const refuse = () => {
      // The rest is never read: the connection closes once the answer is out.
      req.pause();
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
      unreadableCommandReply(res, 413);
    };
    if (Number(req.headers['content-length'] ?? 0) > SLASH_COMMAND_LIMIT_BYTES) {
      refuse();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > SLASH_COMMAND_LIMIT_BYTES) {
        refused = true;
        refuse();
      } else chunks.push(chunk);
    });
    req.on('error', () => req.socket.destroy());
    req.on('end', () => {
      if (refused) return;
      const field = readForm(Buffer.concat(chunks, size).toString('utf8'));
      if (!field) return unreadableCommandReply(res, 413);
      answerSlashCommand(deps, { field, headers: req.headers }, res).catch((error: unknown) => {
        deps.log.error({ err: error }, 'chat request failed');
        if (!res.headersSent) unreadableCommandReply(res, 500);
      });
    });
    return true;
  };
}
