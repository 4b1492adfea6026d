import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { refusedAddress } from '../model/address-rules.js';

/**
 * Outbound HTTP to a server Elrond does not trust (a webhook target) or that may misbehave (Grafana): bounded
 * in time and memory whatever the other side does, and never sent somewhere it was not aimed at.
 *
 * - An absolute deadline for the whole exchange (connect, send, answer, body). axios' `timeout` restarts on
 *   every byte, so a target dripping one byte every 2 s held a delivery for minutes; this timer destroys the socket.
 * - At most `maxResponseBytes` of the answer are read; then the socket is closed, the rest is never received.
 * - Redirects are never followed (a 307 would re-send the body and its signature to another host): the 3xx is
 *   the answer.
 * - With `publicOnly`, every address a connection is about to use is checked (the custom `lookup` sees what DNS
 *   answered at connect time, so a name that resolves elsewhere later cannot get through); IP literals are
 *   checked before connecting (Node does not call `lookup` for them).
 * - No proxy from the environment (HTTP_PROXY): the proxy would resolve the name, out of reach of the check.
 */
export interface SafeRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  deadlineMs: number;
  maxResponseBytes: number;
  publicOnly: boolean;
  /** Aborts the request early (e.g. the server is stopping). */
  signal?: AbortSignal;
  /**
   * Keep-alive sockets for a server Elrond talks to all the time (the provisioner). Default: a new connection per
   * request, closed after it, for targets that must not hold a socket of Elrond's.
   */
  agent?: http.Agent;
}

export interface SafeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The first `maxResponseBytes` of the body, as UTF-8. */
  body: string;
  /** True when the body was longer and the rest was not read. */
  truncated: boolean;
}

/** A connection refused by the address rules; the message names the address and why. */
export class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'RefusedAddressError';
  }
}

const ALLOW_PRIVATE_HINT = 'start the server with --webhook-allow-private to allow internal targets';

function refusal(host: string, address: string, why: string): RefusedAddressError {
  const shown = host === address ? address : `${host} (resolved to ${address})`;
  return new RefusedAddressError(`refused to connect to ${shown}: ${why}; ${ALLOW_PRIVATE_HINT}`);
}

/**
 * `dns.lookup` that refuses a name any of whose addresses is not public. Called by `net.connect` for each
 * connection, so the check applies to the addresses the socket really uses.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    for (const { address } of addresses) {
      const why = refusedAddress(address);
      if (why) return callback(refusal(hostname, address, why), '', 0);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    callback(null, first.address, first.family);
  });
};

/** Send one request under the rules above. Rejects on a refused address, a network error or the deadline. */
export function safeRequest(request: SafeRequest): Promise<SafeResponse> {
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`scheme ${url.protocol} is not supported`));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (request.publicOnly && isIP(host)) {
    const why = refusedAddress(host);
    if (why) return Promise.reject(refusal(host, host, why));
  }
  return new Promise<SafeResponse>((resolve, reject) => {
    const controller = new AbortController();
    let deadlinePassed = false;
    let settled = false;
    const timer = setTimeout(() => {
      deadlinePassed = true;
      controller.abort();
    }, request.deadlineMs);
    const stop = () => controller.abort();
    request.signal?.addEventListener('abort', stop, { once: true });
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', stop);
      finish();
    };
    const fail = (error: Error) =>
      settle(() => {
        if (deadlinePassed) reject(new Error(`no complete answer within ${request.deadlineMs / 1000} s (the deadline for one request)`));
        else if (request.signal?.aborted) reject(new Error('abandoned: Elrond is stopping'));
        else reject(error);
      });
    const body = request.body ?? '';
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(
      url,
      {
        method: request.method,
        headers: { ...request.headers, 'Content-Length': String(Buffer.byteLength(body)) },
        agent: request.agent ?? false,
        signal: controller.signal,
        ...(request.publicOnly ? { lookup: publicOnlyLookup } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (truncated: boolean) =>
          settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), truncated }));
        res.on('data', (chunk: Buffer) => {
          const room = request.maxResponseBytes - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size += room;
            done(true);
            req.destroy(); // the rest is never read
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => done(false));
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the connection closed before the answer was complete'));
        });
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}
