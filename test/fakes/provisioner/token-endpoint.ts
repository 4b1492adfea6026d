/**
 * A fake OAuth2 token endpoint for the provisioner's client-credentials flow (provisioner-api.md A.1: the
 * provisioner checks a Bearer JWT issued to `scope=offline_access api://provisioner/.default`).
 *
 * Modelled on RFC 6749, which identity providers implement: client authentication (§2.3.1) by HTTP Basic
 * (id and secret form-encoded, then base64) or by `client_id`/`client_secret` in the form body; a request
 * using both is refused (§2.3: "MUST NOT use more than one authentication method"); errors are JSON
 * `{"error": …}` with 400, or 401 `invalid_client` with `WWW-Authenticate` when Basic was tried (§5.2).
 * Servers differ in which client authentication they accept (golang.org/x/oauth2 `RetrieveToken` lists a
 * few), so the fake is told which one(s) it takes.
 */
import http from 'node:http';
import { closeServer, listenOnLoopback } from '../loopback-server.js';

export type ClientAuthMethod = 'basic' | 'body';

export interface FakeTokenEndpointOptions {
  clientId: string;
  clientSecret: string;
  /** The client authentication methods accepted (default both). */
  accept?: readonly ClientAuthMethod[];
  /** The access token issued (default "the-token"). */
  accessToken?: string;
  /** `expires_in` of each token, seconds (default 3600). */
  expiresIn?: number;
}

/** One token request as the endpoint saw it. */
export interface TokenRequest {
  /** How the client authenticated: Basic header, form body, both, or neither. */
  method: ClientAuthMethod | 'both' | 'none';
  form: Record<string, string>;
  /** The status the endpoint answered. */
  status: number;
}

/** RFC 6749 §2.3.1: the Basic credentials are the form-encoded id and secret. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export class FakeTokenEndpoint {
  /** Every request, in order. */
  readonly requests: TokenRequest[] = [];
  private readonly options: Required<FakeTokenEndpointOptions>;
  private server: http.Server | null = null;
  private baseUrl: string | null = null;
  private failures: number[] = [];

  constructor(options: FakeTokenEndpointOptions) {
    this.options = { accept: ['basic', 'body'], accessToken: 'the-token', expiresIn: 3600, ...options };
  }

  async start(): Promise<string> {
    if (this.baseUrl !== null) return this.url;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => this.answer(req, res, body));
    });
    this.baseUrl = await listenOnLoopback(server);
    this.server = server;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.baseUrl = null;
    if (server) await closeServer(server);
  }

  /** The token URL (`…/oauth2/v2.0/token`). */
  get url(): string {
    if (this.baseUrl === null) throw new Error('FakeTokenEndpoint is not started');
    return `${this.baseUrl}/oauth2/v2.0/token`;
  }

  /** The next `count` requests answer `status` (e.g. 503) with an empty body. */
  failNext(status: number, count = 1): void {
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  /** Change which client authentication methods are accepted. */
  setAccept(accept: readonly ClientAuthMethod[]): void {
    this.options.accept = accept;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const form = Object.fromEntries(new URLSearchParams(raw));
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const inBody = form.client_id !== undefined || form.client_secret !== undefined;
    const method: TokenRequest['method'] = basic && inBody ? 'both' : basic ? 'basic' : inBody ? 'body' : 'none';
    const reply = (status: number, json?: Record<string, unknown>, headers: Record<string, string> = {}): void => {
      this.requests.push({ method, form, status });
      if (json === undefined) res.writeHead(status, { 'Content-Length': '0', ...headers }).end();
      else res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers }).end(JSON.stringify(json));
    };
    const failure = this.failures.shift();
    if (failure !== undefined) return reply(failure);
    if (req.method !== 'POST') return reply(405, { error: 'invalid_request', error_description: 'use POST' });
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return reply(400, { error: 'invalid_request', error_description: 'the body must be form-encoded' });
    if (method === 'both') return reply(400, { error: 'invalid_request', error_description: 'more than one client authentication method' });
    const challenge: Record<string, string> = basic ? { 'WWW-Authenticate': 'Basic realm="token"' } : {};
    let id: string | undefined;
    let secret: string | undefined;
    if (basic) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        id = formDecode(decoded.slice(0, colon));
        secret = formDecode(decoded.slice(colon + 1));
      }
    } else {
      id = form.client_id;
      secret = form.client_secret;
    }
    const accepted = method !== 'none' && this.options.accept.includes(method);
    if (!accepted || id !== this.options.clientId || secret !== this.options.clientSecret) {
      return reply(401, { error: 'invalid_client', error_description: accepted ? 'client authentication failed' : `client authentication by ${method} is not supported` }, challenge);
    }
    if (form.grant_type !== 'client_credentials') return reply(400, { error: 'unsupported_grant_type' });
    reply(200, { access_token: this.options.accessToken, token_type: 'Bearer', expires_in: this.options.expiresIn });
  }
}
