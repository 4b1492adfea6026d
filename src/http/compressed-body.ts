import { gzipSync, constants } from 'node:zlib';
import type { Request, Response } from 'express';

/** Bodies smaller than this go as they are: gzip would save a few hundred bytes at best. */
const MIN_COMPRESSED_BYTES = 1024;

/**
 * The gzip form of a body, made once per body: a read's answer is one Buffer shared from the read cache by every
 * caller until the data changes, so fifty callers cost one compression.
 */
const gzipped = new WeakMap<Buffer, Buffer>();

function gzipOf(body: Buffer): Buffer {
  let compressed = gzipped.get(body);
  if (!compressed) gzipped.set(body, (compressed = gzipSync(body, { level: constants.Z_BEST_SPEED })));
  return compressed;
}

/**
 * Send a JSON body, gzip-compressed when the caller accepts it and it is large enough to matter. Mattermost's
 * server asks for it on every slash-command request (Go's http.Transport adds `Accept-Encoding: gzip` and
 * decompresses the answer itself; httpservice.NewTransport leaves DisableCompression off), as do the CLI (axios)
 * and browsers. A 500-ring list is ~15 KB of text that compresses to ~2 KB: writing the smaller body was most of
 * the difference between a ring list and /healthz under load (bench/, load). The Content-Type stays exactly
 * `application/json` (Client4 parses only that).
 */
export function sendJsonBody(req: Request, res: Response, status: number, body: Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  if (body.length >= MIN_COMPRESSED_BYTES) {
    res.setHeader('Vary', 'Accept-Encoding');
    if (req.acceptsEncodings('gzip', 'identity') === 'gzip') {
      const compressed = gzipOf(body);
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', String(compressed.length));
      res.end(compressed);
      return;
    }
  }
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}
