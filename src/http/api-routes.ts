import type { Request } from 'express';
import type { Services } from '../service/services.js';
import type { Actor, ActorSource } from '../model/ring.js';
import { ACTOR_SOURCES } from '../model/ring.js';
import { isId } from '../model/ids.js';
import { notFound } from '../model/errors.js';
import { presentEvent, presentFreeze, presentGroup, presentRelease, presentRing, presentWebhook } from './present.js';
import { parseSince } from '../model/durations.js';
import { optionalString, parseInteger, parsePaging } from './query.js';

export type Method = 'get' | 'post' | 'delete';

export interface RouteResult {
  status: number;
  body?: unknown;
}

export interface RouteContext {
  req: Request;
  services: Services;
  actor: Actor;
  now: number;
  /** A path parameter that must be a 26-character id; anything else is a 404 naming it. */
  id(param: string, what: string): string;
}

export interface Route {
  method: Method;
  path: string;
  handle(ctx: RouteContext): Promise<RouteResult>;
}

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });

/** The original's routes (elrond-behaviour.md §3), then Elrond's additions. Declared as data; a test checks there are no duplicates. */
export const API_ROUTES: readonly Route[] = [
  { method: 'get', path: '/rings', handle: async (c) => ok((await c.services.rings.list(parsePaging(c.req.query))).map((r) => presentRing(r, c.now))) },
  { method: 'post', path: '/rings', handle: async (c) => ok(presentRing(await c.services.rings.create(c.req.body, c.actor), c.now), 202) },
  {
    method: 'post',
    path: '/rings/release',
    handle: async (c) => ok((await c.services.releases.releaseAllRings(c.req.body, c.actor)).map((r) => presentRing(r, c.now)), 202),
  },
  { method: 'post', path: '/rings/release/pause', handle: async (c) => (await c.services.releases.pause(c.actor), { status: 200 }) },
  { method: 'post', path: '/rings/release/resume', handle: async (c) => (await c.services.releases.resume(c.actor), { status: 200 }) },
  { method: 'post', path: '/rings/release/cancel', handle: async (c) => (await c.services.releases.cancel(c.actor), { status: 200 }) },
  {
    method: 'post',
    path: '/rings/rollback',
    handle: async (c) => ok((await c.services.releases.rollbackAllRings(c.req.body, c.actor)).map((r) => presentRing(r, c.now)), 202),
  },
  { method: 'get', path: '/ring/:ring', handle: async (c) => ok(presentRing(await c.services.rings.get(c.id('ring', 'ring')), c.now)) },
  { method: 'post', path: '/ring/:ring', handle: async (c) => ok(presentRing(await c.services.rings.retryCreate(c.id('ring', 'ring'), c.actor), c.now), 202) },
  { method: 'delete', path: '/ring/:ring', handle: async (c) => (await c.services.rings.delete(c.id('ring', 'ring'), c.actor), { status: 202 }) },
  {
    method: 'post',
    path: '/ring/:ring/update',
    handle: async (c) => ok(presentRing(await c.services.rings.update(c.id('ring', 'ring'), c.req.body, c.actor), c.now), 202),
  },
  {
    method: 'post',
    path: '/ring/:ring/release',
    handle: async (c) => ok(presentRing(await c.services.releases.releaseRing(c.id('ring', 'ring'), c.req.body, c.actor), c.now), 202),
  },
  {
    method: 'post',
    path: '/ring/:ring/rollback',
    handle: async (c) => ok(presentRing(await c.services.releases.rollbackRing(c.id('ring', 'ring'), c.req.body, c.actor), c.now), 202),
  },
  {
    method: 'post',
    path: '/ring/:ring/installationgroup',
    handle: async (c) => ok(presentRing(await c.services.groups.register(c.id('ring', 'ring'), c.req.body, c.actor), c.now)),
  },
  {
    method: 'delete',
    path: '/ring/:ring/installationgroup/:group',
    handle: async (c) => (await c.services.groups.remove(c.id('ring', 'ring'), String(c.req.params.group), c.actor), { status: 204 }),
  },
  { method: 'get', path: '/release/:release', handle: async (c) => ok(presentRelease(await c.services.releases.get(c.id('release', 'release')))) },
  {
    method: 'post',
    path: '/installationgroup/:group/update',
    handle: async (c) => ok(presentGroup(await c.services.groups.update(c.id('group', 'installation group'), c.req.body, c.actor)), 202),
  },
  {
    method: 'get',
    path: '/webhooks',
    handle: async (c) => {
      const ownerId = optionalString(c.req.query, 'owner');
      const list = await c.services.webhooks.list({ ...parsePaging(c.req.query), ...(ownerId ? { ownerId } : {}) });
      return ok(list.map(presentWebhook));
    },
  },
  { method: 'post', path: '/webhooks', handle: async (c) => ok(presentWebhook(await c.services.webhooks.create(c.req.body, c.actor)), 202) },
  { method: 'get', path: '/webhook/:webhook', handle: async (c) => ok(presentWebhook(await c.services.webhooks.get(c.id('webhook', 'webhook')))) },
  { method: 'delete', path: '/webhook/:webhook', handle: async (c) => (await c.services.webhooks.delete(c.id('webhook', 'webhook'), c.actor), { status: 200 }) },
  {
    method: 'post',
    path: '/security/ring/:ring/api/lock',
    handle: async (c) => (await c.services.rings.setApiLock(c.id('ring', 'ring'), true, c.actor), { status: 200 }),
  },
  {
    method: 'post',
    path: '/security/ring/:ring/api/unlock',
    handle: async (c) => (await c.services.rings.setApiLock(c.id('ring', 'ring'), false, c.actor), { status: 200 }),
  },
  {
    method: 'get',
    path: '/events',
    handle: async (c) => {
      const ringId = optionalString(c.req.query, 'ring');
      if (ringId && !isId(ringId)) throw notFound(`ring ${ringId} not found`);
      const sinceText = optionalString(c.req.query, 'since');
      const since = sinceText ? parseSince(sinceText, 'since', c.now) : undefined;
      const events = await c.services.events.list({ limit: parseInteger(c.req.query, 'limit', 100, 1, 10_000), ...(ringId ? { ringId } : {}), ...(since !== undefined ? { since } : {}) });
      return ok(events.map(presentEvent));
    },
  },
  // Elrond's additions (camelCase): plans, freeze windows, "why".
  { method: 'post', path: '/rings/release/plan', handle: async (c) => ok(await c.services.plans.plan(c.req.body)) },
  { method: 'post', path: '/ring/:ring/release/plan', handle: async (c) => ok(await c.services.plans.plan(c.req.body, c.id('ring', 'ring'))) },
  { method: 'get', path: '/freezes', handle: async (c) => ok((await c.services.freezes.list()).map(presentFreeze)) },
  { method: 'post', path: '/freezes', handle: async (c) => ok(presentFreeze(await c.services.freezes.create(c.req.body, c.actor)), 201) },
  { method: 'post', path: '/freezes/now', handle: async (c) => ok(presentFreeze(await c.services.freezes.now(c.req.body, c.actor)), 201) },
  { method: 'delete', path: '/freeze/:freeze', handle: async (c) => (await c.services.freezes.delete(c.id('freeze', 'freeze'), c.actor), { status: 200 }) },
  { method: 'get', path: '/status', handle: async (c) => ok(await c.services.overview()) },
  { method: 'get', path: '/why', handle: async (c) => ok(await c.services.why.explain()) },
  { method: 'get', path: '/ring/:ring/why', handle: async (c) => ok(await c.services.why.explain(c.id('ring', 'ring'))) },
  // Channels that follow releases (camelCase). A REST caller has no current channel: it names one.
  { method: 'get', path: '/subscriptions', handle: async (c) => ok(await c.services.subscriptions.list()) },
  {
    method: 'post',
    path: '/subscriptions',
    handle: async (c) => {
      const { replaced, ...subscription } = await c.services.subscriptions.subscribe(c.req.body, c.actor);
      return ok({ ...subscription, replaced }, replaced ? 200 : 201);
    },
  },
  { method: 'delete', path: '/subscriptions', handle: async (c) => ok(await c.services.subscriptions.unsubscribe({ channel: optionalString(c.req.query, 'channel') }, c.actor)) },
];

/** Who is calling: the CLI names its user and itself in headers; anything else is "api". */
export function actorFromRequest(req: Request): Actor {
  const name = String(req.get('x-elrond-actor') ?? '').slice(0, 64).replace(/[^\w.@-]/g, '') || 'api';
  const source = String(req.get('x-elrond-source') ?? 'api');
  return { name, source: (ACTOR_SOURCES as readonly string[]).includes(source) && source !== 'supervisor' ? (source as ActorSource) : 'api' };
}
