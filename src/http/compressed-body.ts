import { gzip, gzipSync, constants } from 'node:zlib';
import { promisify } from 'node:util';
import Negotiator from 'negotiator';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** Bodies smaller than this go as they are: gzip would save a few hundred bytes at best. */
const MIN_COMPRESSED_BYTES = 1024;
/**
 * Bodies larger than this are compressed on libuv's thread pool: a 9.5 MB list of 5,000 rings took ~50 ms inline.
 * Smaller ones inline: a page of 100 rings (~80 KB) takes ~0.3 ms, and handed to the pool it made every request
 * waiting for that fresh answer wait for a pool thread as well (bench/, load: p99 1.7× → 1.4× the floor).
 */
const INLINE_COMPRESSION_MAX_BYTES = 256 * 1024;
const GZIP_OPTIONS = { level: constants.Z_BEST_SPEED };
const gzipAsync = promisify(gzip);

/**
 * The gzip form of a body, made once per body: a read's answer is one Buffer shared from the read cache by every
 * caller until the data changes, so fifty callers cost one compression.
 */
const gzipped = new WeakMap<Buffer, Buffer | Promise<Buffer>>();

function gzipOf(body: Buffer): Buffer | Promise<Buffer> {
  let compressed = gzipped.get(body);
  if (!compressed) {
    compressed = body.length <= INLINE_COMPRESSION_MAX_BYTES ? gzipSync(body, GZIP_OPTIONS) : gzipAsync(body, GZIP_OPTIONS);
    gzipped.set(body, compressed);
    // A failed compression is not kept: the next caller tries again.
    if (compressed instanceof Promise) compressed.catch(() => gzipped.delete(body));
  }
  return compressed;
}

/**
 * Whether a request prefers gzip to the body as it is: what Express' `req.acceptsEncodings('gzip', 'identity')`
 * answers, by the same module (negotiator), for requests answered ahead of Express too.
 */
export function prefersGzip(headers: IncomingHttpHeaders): boolean {
  return typeof headers['accept-encoding'] === 'string' && new Negotiator({ headers }).encodings(['gzip', 'identity'])[0] === 'gzip';
}

/**
 * Send a JSON body, gzip-compressed when the caller accepts it and it is large enough to matter. Mattermost's
 * server asks for it on every slash-command request (Go's http.Transport adds `Accept-Encoding: gzip` and
 * decompresses the answer itself; httpservice.NewTransport leaves DisableCompression off), as do the CLI (axios)
 * and browsers. A 500-ring chat list is ~15 KB of text and `GET /api/rings` ~90 KB; both compress several times
 * over, so the network carries a fraction and each request's write is smaller. The Content-Type stays exactly
 * `application/json` (Client4 parses only that).
 */
export async function sendJsonBody(req: { headers: IncomingHttpHeaders }, res: ServerResponse, status: number, body: Buffer): Promise<void> {
  if (body.length >= MIN_COMPRESSED_BYTES) {
    res.setHeader('Vary', 'Accept-Encoding');
    if (prefersGzip(req.headers)) {
      const compressed = await gzipOf(body);
      res.setHeader('Content-Encoding', 'gzip');
      sendJsonBytes(res, status, compressed);
      return;
    }
  }
  sendJsonBytes(res, status, body);
}

/**
 * Send bytes as a JSON answer as they are, with the Content-Type exactly `application/json` (Express's
 * `res.type`/`res.send` append "; charset=utf-8", which Mattermost's Client4 does not parse).
 */
export function sendJsonBytes(res: ServerResponse, status: number, body: Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}
