/**
 * A fake Grafana for tests: a real `node:http` server on 127.0.0.1 implementing the annotations HTTP API
 * (Part C of `/work/shared/reference/grafana-api.md`) with service-account-token → org scoping.
 */
import { closeServer, listenOnLoopback } from './loopback-server.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isRecord, readBody, sendJson, tryParseJson } from './mattermost/util.js';

/** Options of {@link FakeGrafana}. */
export interface FakeGrafanaOptions {
  /** Clock in epoch ms (default `Date.now`); the default annotation `time`. */
  now?: () => number;
}

/** An annotation as returned by `GET /api/annotations` (Grafana 9.x shape). */
export interface GrafanaAnnotation {
  id: number;
  alertId: number;
  dashboardId: number;
  dashboardUID: string;
  panelId: number;
  userId: number;
  userName: string;
  newState: string;
  prevState: string;
  time: number;
  timeEnd: number;
  text: string;
  metric: string;
  tags: string[];
  data: Record<string, unknown>;
}

/** A stored annotation: the wire shape plus its org and bookkeeping. */
export interface StoredAnnotation extends GrafanaAnnotation {
  orgId: number;
  created: number;
  updated: number;
}

/** One inbound request, as logged. `body` is parsed JSON when it parses, else the raw text. */
export interface GrafanaRequestLogEntry {
  method: string;
  path: string;
  query: string;
  body: unknown;
  /** Lowercased request headers (e.g. to assert `x-grafana-org-id` was not sent). */
  headers: Record<string, string>;
  at: number;
  /** Org of the token, when it was valid. */
  orgId?: number;
  status?: number;
}

/** How {@link FakeGrafana.down} fails requests. */
export type GrafanaDownMode = 'status' | 'reset';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function stringTags(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
}

/** Fake Grafana annotations API. Register tokens with {@link addToken}, then `start()`. */
export class FakeGrafana {
  /** Every inbound request, oldest first. */
  readonly requests: GrafanaRequestLogEntry[] = [];

  private readonly now: () => number;
  private readonly tokens = new Map<string, number>();
  private readonly store = new Map<number, StoredAnnotation>();
  private nextId = 1;
  private server: Server | undefined;
  private baseUrl = '';
  private failQueue: number[] = [];
  private downMode: GrafanaDownMode | undefined;

  constructor(opts: FakeGrafanaOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Starts listening on 127.0.0.1 (random port); resolves to the base URL. */
  async start(): Promise<string> {
    if (this.server) return this.baseUrl;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      });
    });
    this.baseUrl = await listenOnLoopback(server);
    this.server = server;
    return this.baseUrl;
  }

  /** Stops the server, closing all open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  /** Base URL after {@link start} (empty before). */
  get url(): string {
    return this.baseUrl;
  }

  /** Maps a Bearer token (e.g. `glsa_…`) to an org. A token only ever sees its own org. */
  addToken(token: string, orgId: number): void {
    this.tokens.set(token, orgId);
  }

  /** Every request fails while down: `status` answers 503, `reset` destroys the socket. */
  down(on = true, mode: GrafanaDownMode = 'status'): void {
    this.downMode = on ? mode : undefined;
  }

  /** Fails the next `count` requests with `status` (after logging them). */
  failNext(count: number, status = 503): void {
    for (let i = 0; i < count; i++) this.failQueue.push(status);
  }

  /** Stored annotations (copies), oldest first, optionally for one org. */
  annotations(orgId?: number): StoredAnnotation[] {
    return [...this.store.values()].filter((a) => orgId === undefined || a.orgId === orgId).map((a) => structuredClone(a));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const entry: GrafanaRequestLogEntry = { method, path: url.pathname, query: url.search, body: tryParseJson(raw) ?? raw, headers, at: this.now() };
    this.requests.push(entry);
    const reply = (status: number, body: unknown): void => {
      entry.status = status;
      sendJson(res, status, body);
    };
    if (this.downMode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (this.downMode === 'status') return reply(503, { message: 'Service unavailable' });
    const fault = this.failQueue.shift();
    if (fault !== undefined) return reply(fault, { message: `Injected failure ${fault}` });
    try {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '');
      if (!m) throw new HttpError(401, 'Unauthorized');
      const orgId = this.tokens.get(m[1] ?? '');
      if (orgId === undefined) throw new HttpError(401, 'Invalid API key');
      entry.orgId = orgId;
      const [status, body] = this.route(method, url, raw, orgId);
      reply(status, body);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      reply(err.status, { message: err.message });
    }
  }

  private route(method: string, url: URL, raw: string, orgId: number): [number, unknown] {
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/api/annotations') {
      if (method === 'POST') return this.create(raw, orgId);
      if (method === 'GET') return [200, this.list(url.searchParams, orgId)];
    }
    if (path === '/api/annotations/tags' && method === 'GET') {
      const counts = new Map<string, number>();
      for (const a of this.store.values()) if (a.orgId === orgId) for (const t of a.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
      return [200, { result: { tags: [...counts].map(([tag, count]) => ({ tag, count })) } }];
    }
    const m = /^\/api\/annotations\/([^/]+)$/.exec(path);
    if (m) {
      const idText = m[1] ?? '';
      if (!/^\d+$/.test(idText)) throw new HttpError(400, 'annotationId is invalid');
      const ann = this.store.get(Number(idText));
      if (!ann || ann.orgId !== orgId) throw new HttpError(404, 'Annotation not found');
      if (method === 'GET') return [200, this.wire(ann)];
      if (method === 'DELETE') {
        this.store.delete(ann.id);
        return [200, { message: 'Annotation deleted' }];
      }
      if (method === 'PATCH' || method === 'PUT') {
        const body = tryParseJson(raw);
        if (!isRecord(body)) throw new HttpError(400, 'bad request data');
        return method === 'PATCH' ? this.patch(ann, body) : this.update(ann, body);
      }
    }
    throw new HttpError(404, 'Not found');
  }

  private create(raw: string, orgId: number): [number, unknown] {
    const body = tryParseJson(raw);
    if (!isRecord(body)) throw new HttpError(400, 'bad request data');
    const text = typeof body.text === 'string' ? body.text : '';
    if (text === '') throw new HttpError(400, 'Failed to save annotation');
    const t = this.now();
    const time = num(body.time) > 0 ? num(body.time) : t;
    const timeEnd = num(body.timeEnd) > 0 ? num(body.timeEnd) : time;
    const ann: StoredAnnotation = {
      id: this.nextId++, orgId, alertId: 0, dashboardId: num(body.dashboardId),
      dashboardUID: typeof body.dashboardUID === 'string' ? body.dashboardUID : '', panelId: num(body.panelId), userId: 0,
      userName: '', newState: '', prevState: '', time, timeEnd, text, metric: '', tags: stringTags(body.tags),
      data: isRecord(body.data) ? structuredClone(body.data) : {}, created: t, updated: t,
    };
    this.store.set(ann.id, ann);
    return [200, { message: 'Annotation added', id: ann.id }];
  }

  private patch(ann: StoredAnnotation, body: Record<string, unknown>): [number, unknown] {
    if (typeof body.text === 'string' && body.text !== '') ann.text = body.text;
    if (num(body.time) > 0) ann.time = num(body.time);
    if (num(body.timeEnd) > 0) ann.timeEnd = num(body.timeEnd);
    if (body.tags !== undefined && body.tags !== null) ann.tags = stringTags(body.tags);
    if (isRecord(body.data)) ann.data = structuredClone(body.data);
    ann.updated = this.now();
    return [200, { message: 'Annotation patched' }];
  }

  private update(ann: StoredAnnotation, body: Record<string, unknown>): [number, unknown] {
    const text = typeof body.text === 'string' ? body.text : '';
    if (text === '') throw new HttpError(400, 'Failed to update annotation');
    ann.text = text;
    if (num(body.time) > 0) ann.time = num(body.time);
    ann.timeEnd = num(body.timeEnd) > 0 ? num(body.timeEnd) : ann.time;
    ann.tags = stringTags(body.tags);
    ann.data = isRecord(body.data) ? structuredClone(body.data) : {};
    ann.updated = this.now();
    return [200, { message: 'Annotation updated' }];
  }

  private list(q: URLSearchParams, orgId: number): GrafanaAnnotation[] {
    const tags = q.getAll('tags').filter((t) => t !== '');
    const matchAny = q.get('matchAny') === 'true';
    const from = Number(q.get('from') ?? NaN);
    const to = Number(q.get('to') ?? NaN);
    const limit = Number(q.get('limit') ?? 100);
    const dashboardUID = q.get('dashboardUID');
    const panelId = q.get('panelId');
    const type = q.get('type');
    return [...this.store.values()]
      .filter((a) => a.orgId === orgId)
      .filter((a) => type !== 'alert' || a.alertId > 0)
      .filter((a) => tags.length === 0 || (matchAny ? tags.some((t) => a.tags.includes(t)) : tags.every((t) => a.tags.includes(t))))
      .filter((a) => Number.isNaN(from) || a.timeEnd >= from)
      .filter((a) => Number.isNaN(to) || a.time <= to)
      .filter((a) => dashboardUID === null || a.dashboardUID === dashboardUID)
      .filter((a) => panelId === null || a.panelId === Number(panelId))
      .sort((a, b) => b.time - a.time || b.id - a.id)
      .slice(0, Number.isFinite(limit) && limit > 0 ? limit : 100)
      .map((a) => this.wire(a));
  }

  private wire(a: StoredAnnotation): GrafanaAnnotation {
    const { orgId: _org, created: _c, updated: _u, ...rest } = structuredClone(a);
    return rest;
  }
}
