import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { IncomingMessage } from 'node:http';
import { sql } from 'kysely';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import type { Services } from '../service/services.js';
import type { Store } from '../store/connect.js';
import type { Clock } from '../model/clock.js';
import { ElrondError, badRequest, isElrondError, notFound } from '../model/errors.js';
import { isId } from '../model/ids.js';
import { API_ROUTES, type RouteContext, type RouteResult } from './api-routes.js';
import { bearerToken, callerFromRequest } from './request-caller.js';
import { restCredentials, type RestCredentials, type RoleToken } from './rest-credentials.js';
import { secretsMatch } from '../model/secrets-match.js';
import { sendJsonBody } from './compressed-body.js';
import type { Caller } from '../service/access-policy.js';
import { createCachedReadHandler, restReadKey, type CachedRestAnswer } from './cached-read-route.js';

export type { RoleToken } from './rest-credentials.js';

export interface HttpAppOptions {
  services: Services;
  store: Store;
  clock: Clock;
  log: Logger;
  /** Every credential /api accepts (start-up and stored tokens); without it, `apiToken`/`apiTokens` alone. */
  credentials?: RestCredentials;
  /** When set, every /api route needs `Authorization: Bearer <token>`; the token grants admin. */
  apiToken?: string;
  /** Tokens and the role each grants, instead of `apiToken` (none: every caller is an admin). */
  apiTokens?: readonly RoleToken[];
  /** `--metrics-token`: /metrics then needs `Authorization: Bearer <it>`. */
  metricsToken?: string;
  /** `--allow-self-approval`, for callers with a named token. */
  allowSelfApproval?: boolean;
  /** Extra routers mounted beside /api (the Mattermost callbacks). */
  mount?: Array<{ path: string; router: Router }>;
  /** Shared registry, so other parts (the supervisor) can add their metrics. */
  metrics?: Registry;
}

export const BODY_LIMIT = '1mb';
/**
 * Methods whose body must be declared JSON: POST, PUT and PATCH, where a route takes them (none takes PUT or
 * PATCH today, so those keep their 405 naming the methods a path takes: they run nothing either way).
 */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'].filter((method) => API_ROUTES.some((route) => route.method.toUpperCase() === method)));

/** The Express app: the REST API under /api, health and metrics, and whatever else is mounted. */
export function createHttpApp(options: HttpAppOptions) {
  const { services, store, clock, log } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const registry = options.metrics ?? new Registry();
  if (!options.metrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'elrond_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'elrond_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  new Counter({
    name: 'elrond_read_cache_total',
    help: 'Read requests answered from the read cache (hit) or computed (miss)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, services.reads.stats.hits);
      this.inc({ result: 'miss' }, services.reads.stats.misses);
    },
  });

  // Label sets resolved once each: prom-client hashes the label object on every inc/observe otherwise, which
  // was a tenth of a cached read's cost.
  const requestCounters = new Map<string, ReturnType<typeof requests.labels>>();
  const latencyHistograms = new Map<string, ReturnType<typeof latency.labels>>();
  /** One answered request in the metrics; also for the routes served ahead of Express. */
  const observe = (method: string, route: string, status: number, seconds: number) => {
    const counterKey = `${method} ${route} ${status}`;
    let counter = requestCounters.get(counterKey);
    if (!counter) requestCounters.set(counterKey, (counter = requests.labels(method, route, String(status))));
    counter.inc();
    const histogramKey = `${method} ${route}`;
    let histogram = latencyHistograms.get(histogramKey);
    if (!histogram) latencyHistograms.set(histogramKey, (histogram = latency.labels(method, route)));
    histogram.observe(seconds);
  };
  app.use((req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      // The template recorded when the route matched (req.baseUrl is reset once an error leaves the router).
      const matched = (req.route as { path?: string } | undefined)?.path ? `${req.baseUrl}${(req.route as { path: string }).path}` : 'unmatched';
      const route = typeof res.locals.route === 'string' ? res.locals.route : matched;
      observe(req.method, route, res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  });

  app.get('/healthz', async (_req, res) => {
    try {
      await sql`select 1`.execute(store.db);
      res.json({ status: 'ok' });
    } catch (error) {
      log.warn({ err: error }, 'health check: database unreachable');
      res.status(503).json({ status: 'unavailable', error: 'database unreachable' });
    }
  });
  app.get('/metrics', async (req, res) => {
    if (options.metricsToken && !secretsMatch(options.metricsToken, bearerToken(req))) {
      res.status(401).json({ error: 'missing or wrong metrics token: send "Authorization: Bearer <the --metrics-token>" (Prometheus: authorization.credentials in the scrape config)' });
      return;
    }
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });

  for (const { path, router } of options.mount ?? []) app.use(path, router);

  const api = express.Router();
  const credentials =
    options.credentials ?? restCredentials({ tokens: options.apiTokens ?? (options.apiToken ? [{ token: options.apiToken, role: 'admin' }] : []), now: () => clock.now() });
  // Callers the cached-read route already proved before handing the request on.
  const proven = new WeakMap<IncomingMessage, Caller>();
  api.use(async (req, res, next) => {
    try {
      const caller = proven.get(req) ?? (await callerFromRequest(req, credentials, { allowSelfApproval: options.allowSelfApproval ?? false }));
      if (!caller) {
        next(new ElrondError('Unauthorized', 'missing, wrong or revoked API token: send "Authorization: Bearer <token>" (elrond CLI: --api-token or ELROND_API_TOKEN; tokens come from "elrond token create")'));
        return;
      }
      res.locals.caller = caller;
      next();
    } catch (error) {
      // Stored tokens live in the database: while it is unreachable nobody can be told apart, so nobody gets in.
      log.warn({ err: error }, 'could not read the API tokens');
      next(new ElrondError('Unavailable', 'cannot check API tokens right now (the database does not answer): try again shortly'));
    }
  });
  // A browser sends text/plain, form and multipart bodies cross-origin without asking first (CSRF); JSON it
  // preflights. DELETE is preflighted whatever its type, so it is exempt (the Go client sends no type there).
  api.use((req, res, next) => {
    if (!BODY_METHODS.has(req.method)) return next();
    const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/json') return next();
    res.status(415).json({ error: `${req.method} /api${req.path} needs "Content-Type: application/json"${type ? ` (got ${JSON.stringify(type.slice(0, 60))})` : ''}: send the body as JSON (null or {} when there is nothing to send)` });
  });
  api.use(express.json({ limit: BODY_LIMIT, strict: false, type: () => true }));
  api.use((req, _res, next) => {
    const problem = bodyProblem(req.body);
    next(problem ? badRequest(problem) : undefined);
  });
  for (const route of API_ROUTES) {
    api[route.method](route.path, async (req: Request, res: Response) => {
      res.locals.route = `/api${route.path}`;
      const caller = res.locals.caller as Caller;
      const ctx: RouteContext = {
        req,
        now: clock.now(),
        caller,
        invoke: (name, input) => services.operations.invoke(name, input, caller),
        id: (param, what) => {
          const value = String(req.params[param] ?? '');
          if (!isId(value)) throw notFound(`${what} ${value} not found: ids are 26 letters and digits`);
          return value;
        },
      };
      // Reads are answered from the read cache while the data is unchanged, serialized once, shared by callers
      // with the same roles (the same answer from the policy).
      const answer: CachedRestAnswer =
        route.method === 'get'
          ? await services.reads.read(restReadKey(caller, req.originalUrl), async () => serialize(await route.handle(ctx), res.locals.route as string), (answer) => answer.body?.length ?? 0)
          : serialize(await route.handle(ctx), res.locals.route as string);
      if (answer.body === undefined) res.status(answer.status).end();
      else await sendJsonBody(req, res, answer.status, answer.body);
    });
  }
  // A known path asked with another method: 405 naming the methods it takes (OPTIONS answers with them).
  const methodsByPath = new Map<string, string[]>();
  for (const route of API_ROUTES) methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method.toUpperCase()]);
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    api.all(path, (req: Request, res: Response) => {
      res.locals.route = `/api${path}`;
      res.set('Allow', allow);
      if (req.method === 'OPTIONS') res.status(204).end();
      else res.status(405).json({ error: `${req.method} is not allowed on /api${req.path}: use ${methods.join(' or ')}` });
    });
  }
  api.use((req, _res, next) => next(notFound(`no route ${req.method} /api${req.path}: see the README for the API routes`)));
  app.use('/api', api);

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = toHttpError(error);
    if (known.status >= 500) log.error({ err: error, method: req.method, path: req.path }, 'request failed');
    if (!res.headersSent) res.status(known.status).json({ error: known.message });
  });
  const cachedReads = createCachedReadHandler({
    reads: services.reads,
    credentials,
    allowSelfApproval: options.allowSelfApproval ?? false,
    fallback: app,
    proven,
    observe: (route, status, seconds) => observe('GET', route, status, seconds),
  });
  return { app, registry, observe, cachedReads };
}

function serialize(result: RouteResult, route: string): CachedRestAnswer {
  return result.body === undefined ? { status: result.status, route } : { status: result.status, body: Buffer.from(JSON.stringify(result.body)), route };
}

/** Deepest nesting a request body may have (an env var's valueFrom needs about 5). */
export const MAX_BODY_DEPTH = 32;

/**
 * What is wrong with a parsed JSON body that no field validation would catch, or undefined: nesting deep
 * enough to exhaust the stack, and NUL characters (Postgres cannot store them in text).
 */
export function bodyProblem(body: unknown): string | undefined {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: body, depth: 0, path: 'body' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\0')) return `${path} contains a NUL character (\\u0000): remove it`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) return `the request body is nested more than ${MAX_BODY_DEPTH} levels deep at ${path}: send a flat JSON object`;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const childPath = Array.isArray(value) ? `${path}[${key}]` : `${path === 'body' ? '' : `${path}.`}${key}`;
      if (key.includes('\0')) return `a key in ${path} contains a NUL character (\\u0000): remove it`;
      stack.push({ value: child, depth: depth + 1, path: childPath.slice(0, 200) });
    }
  }
  return undefined;
}

/** Map anything thrown to a status and a message a person can act on; only real faults are 5xx. */
function toHttpError(error: unknown): { status: number; message: string } {
  if (isElrondError(error)) return { status: error.status, message: error.message };
  const bodyError = error as { type?: string; status?: number; message?: string };
  switch (bodyError?.type) {
    case 'entity.parse.failed':
      return { status: 400, message: `the request body is not valid JSON (${bodyError.message ?? 'parse error'}); send a JSON object` };
    case 'entity.too.large':
      return { status: 413, message: `the request body is larger than ${BODY_LIMIT}; send a smaller body` };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, message: 'unsupported body encoding: send UTF-8 JSON' };
    case 'request.aborted':
      return { status: 400, message: 'the request was aborted' };
  }
  if (bodyError?.status === 400 && /^Failed to decode param/.test(bodyError.message ?? '')) {
    return { status: 400, message: `the URL has a malformed %-escape (${bodyError.message}): percent-encode each path segment` };
  }
  if (typeof bodyError?.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
    return { status: bodyError.status, message: bodyError.message ?? 'bad request' };
  }
  if (error instanceof URIError) return { status: 400, message: 'the URL is malformed' };
  return { status: 500, message: 'internal error: see the Elrond server log' };
}
