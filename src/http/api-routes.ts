import type { Request } from 'express';
import type { OperationInput, OperationName, OperationResult, Unvalidated } from '../service/operations.js';
import { isId } from '../model/ids.js';
import { notFound } from '../model/errors.js';
import { presentEvent, presentFreeze, presentGroup, presentRelease, presentRing, presentWebhook } from '../wire/present.js';
import { nonEmptyBody, wireRequest } from '../wire/request-keys.js';
import { parseSince } from '../model/durations.js';
import { optionalString, parseInteger, parsePaging } from './query.js';
import type { Caller } from '../service/access-policy.js';
import type { Release } from '../model/ring.js';
import { redact } from '../model/redact.js';

export type Method = 'get' | 'post' | 'delete';

export interface RouteResult {
  status: number;
  body?: unknown;
}

export interface RouteContext {
  req: Request;
  now: number;
  /** Who asks (what its credential proves); GET answers are shared only between callers with the same roles. */
  caller: Caller;
  /** A path parameter that must be a 26-character id; anything else is a 404 naming it. */
  id(param: string, what: string): string;
  /** Run an operation as the request's caller (its credential's role). */
  invoke<N extends OperationName>(name: N, input: OperationInput<N> | Unvalidated): Promise<OperationResult<N>>;
}

export interface Route {
  method: Method;
  path: string;
  /** The one operation the route runs. */
  operation: OperationName;
  handle(ctx: RouteContext): Promise<RouteResult>;
}

/**
 * A route as a thin adapter: the operation's request from the URL and body (Go JSON, any key case), then the
 * answer from its result (the original's JSON shapes, src/wire/present.ts).
 */
function route<N extends OperationName>(
  method: Method,
  path: string,
  operation: N,
  input: (c: RouteContext) => OperationInput<N> | Unvalidated,
  answer: (result: OperationResult<N>, c: RouteContext) => RouteResult,
): Route {
  return { method, path, operation, handle: async (c) => answer(await c.invoke(operation, input(c)), c) };
}

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });
const empty = (status: number) => (): RouteResult => ({ status });
const body = (c: RouteContext) => wireRequest(c.req.body);
const ringId = (c: RouteContext) => ({ ringId: c.id('ring', 'ring') });
const ringBody = (c: RouteContext) => wireRequest(c.req.body, ringId(c));
const ring = (status: number) => (r: Parameters<typeof presentRing>[0], c: RouteContext) => ok(presentRing(r, c.now), status);
const rings = (status: number) => (list: Array<Parameters<typeof presentRing>[0]>, c: RouteContext) => ok(list.map((r) => presentRing(r, c.now)), status);
const nothing = () => ({});

/** A release as non-admins see it: secret env values (by name or by URL credentials) hidden; valueFrom is a reference, not a secret. */
function withRedactedEnv(release: Release): Release {
  if (!release.envVariables) return release;
  const env = Object.fromEntries(Object.entries(release.envVariables).map(([name, entry]) => [name, entry.value === undefined ? entry : { ...entry, value: redact(entry.value, name) }]));
  return { ...release, envVariables: env };
}

/** The original's routes (elrond-behaviour.md §3), then Elrond's additions. Declared as data; a test checks there are no duplicates. */
export const API_ROUTES: readonly Route[] = [
  route('get', '/rings', 'listRings', (c) => parsePaging(c.req.query), rings(200)),
  route('post', '/rings', 'createRing', body, ring(202)),
  route('post', '/rings/release', 'releaseAllRings', body, rings(202)),
  route('post', '/rings/release/pause', 'pauseReleases', nothing, empty(200)),
  route('post', '/rings/release/resume', 'resumeReleases', nothing, empty(200)),
  route('post', '/rings/release/cancel', 'cancelReleases', nothing, empty(200)),
  route('post', '/rings/rollback', 'rollbackAllRings', body, rings(202)),
  route('get', '/ring/:ring', 'getRing', ringId, ring(200)),
  route('post', '/ring/:ring', 'retryRing', ringId, ring(202)),
  route('delete', '/ring/:ring', 'deleteRing', ringId, empty(202)),
  route('post', '/ring/:ring/update', 'updateRing', ringBody, ring(202)),
  route('post', '/ring/:ring/release', 'releaseRing', ringBody, ring(202)),
  route('post', '/ring/:ring/rollback', 'rollbackRing', ringBody, ring(202)),
  route('post', '/ring/:ring/installationgroup', 'registerGroup', ringBody, ring(200)),
  route('delete', '/ring/:ring/installationgroup/:group', 'deleteGroup', (c) => ({ ...ringId(c), groupId: String(c.req.params.group) }), empty(204)),
  route('get', '/release/:release', 'getRelease', (c) => ({ releaseId: c.id('release', 'release') }), (release, c) => ok(presentRelease(c.caller.roles.has('admin') ? release : withRedactedEnv(release)))),
  route('post', '/installationgroup/:group/update', 'updateGroup', (c) => wireRequest(c.req.body, { groupId: c.id('group', 'installation group') }), (group) => ok(presentGroup(group), 202)),
  route(
    'get',
    '/webhooks',
    'listWebhooks',
    (c) => {
      const ownerId = optionalString(c.req.query, 'owner');
      return { ...parsePaging(c.req.query), ...(ownerId ? { ownerId } : {}) };
    },
    (list) => ok(list.map(presentWebhook)),
  ),
  route('post', '/webhooks', 'createWebhook', (c) => wireRequest(nonEmptyBody(c.req.body, '{"OwnerID":"me","URL":"https://hooks.example.com/elrond"}')), (webhook) => ok(presentWebhook(webhook), 202)),
  route('get', '/webhook/:webhook', 'getWebhook', (c) => ({ webhookId: c.id('webhook', 'webhook') }), (webhook) => ok(presentWebhook(webhook))),
  route('delete', '/webhook/:webhook', 'deleteWebhook', (c) => ({ webhookId: c.id('webhook', 'webhook') }), empty(200)),
  route('post', '/security/ring/:ring/api/lock', 'lockRing', ringId, empty(200)),
  route('post', '/security/ring/:ring/api/unlock', 'unlockRing', ringId, empty(200)),
  route(
    'get',
    '/events',
    'listEvents',
    (c) => {
      const ring = optionalString(c.req.query, 'ring');
      if (ring && !isId(ring)) throw notFound(`ring ${ring} not found`);
      const since = optionalString(c.req.query, 'since');
      return { limit: parseInteger(c.req.query, 'limit', 100, 1, 10_000), ...(ring ? { ringId: ring } : {}), ...(since ? { since: parseSince(since, 'since', c.now) } : {}) };
    },
    (events) => ok(events.map(presentEvent)),
  ),
  // Elrond's additions (camelCase): plans, freeze windows, "why".
  route('post', '/rings/release/plan', 'planRelease', body, (plan) => ok(plan)),
  route('post', '/ring/:ring/release/plan', 'planRelease', ringBody, (plan) => ok(plan)),
  route('get', '/freezes', 'listFreezes', nothing, (list) => ok(list.map(presentFreeze))),
  route('post', '/freezes', 'createFreeze', body, (freeze) => ok(presentFreeze(freeze), 201)),
  route('post', '/freezes/now', 'freezeNow', body, (freeze) => ok(presentFreeze(freeze), 201)),
  route('delete', '/freeze/:freeze', 'deleteFreeze', (c) => ({ freezeId: c.id('freeze', 'freeze') }), empty(200)),
  // The card's Approve button, for the CLI and scripts: the same operation, so the same rules.
  route('post', '/ring/:ring/approve', 'approveRing', ringId, (result, c) => ok(presentRing(result.ring, c.now))),
  route('get', '/status', 'status', nothing, (overview) => ok(overview)),
  route('get', '/why', 'why', nothing, (answers) => ok(answers)),
  route('get', '/ring/:ring/why', 'why', ringId, (answers) => ok(answers)),
  // Channels that follow releases (camelCase). A REST caller has no current channel: it names one.
  route('get', '/subscriptions', 'listSubscriptions', nothing, (list) => ok(list)),
  route('post', '/subscriptions', 'subscribe', body, ({ replaced, ...subscription }) => ok({ ...subscription, replaced }, replaced ? 200 : 201)),
  route('delete', '/subscriptions', 'unsubscribe', (c) => ({ ...(optionalString(c.req.query, 'channel') ? { channel: optionalString(c.req.query, 'channel') } : {}) }), (removed) => ok(removed)),
];
