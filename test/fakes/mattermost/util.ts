/**
 * Small helpers shared by the fake servers: seeded PRNG, ids, body reading, JSON replies and a
 * plain `node:http` client for outbound requests.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gunzipSync } from 'node:zlib';

/** mulberry32: a tiny seedable PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Returns a generator of 26-character `[a-z0-9]` ids (the length of Mattermost ids and tokens). */
export function idGenerator(rand: () => number): () => string {
  return () => {
    let s = '';
    for (let i = 0; i < 26; i++) s += ID_ALPHABET[Math.floor(rand() * ID_ALPHABET.length)] ?? 'a';
    return s;
  };
}

/** Type guard for plain JSON objects. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a request body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses JSON, returning `undefined` for empty or invalid text. */
export function tryParseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Writes a JSON reply with `Content-Type: application/json` exactly (no charset). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Response of {@link sendRequest}. */
export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  contentType: string;
  body: string;
}

/**
 * Makes one HTTP(S) request with `node:http`, buffering the response body. Rejects on network errors and timeouts.
 * Like the server's outgoing client (httpservice.NewTransport: a Go `http.Transport` with compression left on), it
 * asks for gzip when the caller set no Accept-Encoding and then hands back the body decompressed, without the
 * Content-Encoding and Content-Length headers (net/http `persistConn.roundTrip`, `requestedGzip`).
 */
export function sendRequest(
  url: string,
  opts: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<OutboundResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const doRequest = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    const requestedGzip = !Object.keys(headers).some((name) => name.toLowerCase() === 'accept-encoding');
    if (requestedGzip) headers['Accept-Encoding'] = 'gzip';
    const req = doRequest(target, { method: opts.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body = Buffer.concat(chunks);
        const responseHeaders = { ...res.headers };
        if (requestedGzip && responseHeaders['content-encoding']?.toLowerCase() === 'gzip') {
          try {
            body = gunzipSync(body);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          delete responseHeaders['content-encoding'];
          delete responseHeaders['content-length'];
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: responseHeaders,
          contentType: res.headers['content-type'] ?? '',
          body: body.toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`timeout after ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
