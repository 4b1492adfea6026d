/**
 * Route table of the fake provisioner (provisioner-api.md A.2). Handlers are pure: they get
 * the store, the webhook registry, the query and a body accessor and return a {@link Reply}.
 */
import {
  decodeAddAnnotations,
  decodeAssignGroup,
  decodeCreateGroup,
  decodeCreateWebhook,
  decodePatchGroup,
} from './decode.js';
import { installationToWire, type Paging } from './model.js';
import type { ProvisionerStore } from './store.js';
import { HttpStatusError, type RouteName } from './types.js';
import type { WebhookRegistry } from './webhooks.js';

/** A response: JSON (`application/json`), plain text, or an empty body. */
export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
}

/** What a handler sees. */
export interface RouteContext {
  store: ProvisionerStore;
  webhooks: WebhookRegistry;
  query: URLSearchParams;
  /** Path captures, in order. */
  params: readonly string[];
  /** The parsed body; throws a 400 HttpStatusError when the body is not valid JSON. */
  body: () => unknown;
}

interface RouteDef {
  name: RouteName;
  method: string;
  pattern: RegExp;
  handle: (ctx: RouteContext) => Reply;
}

/** A matched route, or the router's own 404/405 (`name: 'unknown'`). */
export type RouteMatch =
  | { name: RouteName; handle: (ctx: RouteContext) => Reply; params: string[] }
  | { name: 'unknown'; reply: Reply };

const ID = '([A-Za-z0-9]{26})';

const ok = (json?: unknown): Reply => ({ status: 200, json });
const empty = (status = 200): Reply => ({ status });

function param(ctx: RouteContext, index: number): string {
  return ctx.params[index] ?? '';
}

/** Go's `strconv.ParseBool`; an absent parameter gives `fallback`, a bad one 400. */
function parseBool(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw new HttpStatusError(400, `bad boolean ${name}`);
}

function parseInt10(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^[+-]?\d+$/.test(raw)) throw new HttpStatusError(400, `bad integer ${name}`);
  return Number(raw);
}

/** `?page=N&per_page=M&include_deleted=true`; defaults 0 / 100; `per_page=-1` is all. */
function parsePaging(query: URLSearchParams): Paging {
  const page = parseInt10(query, 'page', 0);
  const perPage = parseInt10(query, 'per_page', 100);
  if (page < 0 || perPage < -1) throw new HttpStatusError(400, 'bad paging');
  return { page, perPage, includeDeleted: parseBool(query, 'include_deleted', false) };
}

function optionalQuery(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}

const GROUP_ROUTES: RouteDef[] = [
  {
    name: 'createGroup',
    method: 'POST',
    pattern: /^\/api\/groups$/,
    handle: (ctx) => ok(ctx.store.createGroup(decodeCreateGroup(ctx.body()))),
  },
  {
    name: 'getGroups',
    method: 'GET',
    pattern: /^\/api\/groups$/,
    handle: (ctx) =>
      ok(ctx.store.listGroups(parsePaging(ctx.query), parseBool(ctx.query, 'show_installation_count', false))),
  },
  {
    name: 'getGroupsStatus',
    method: 'GET',
    pattern: /^\/api\/groups\/status$/,
    handle: (ctx) => ok(ctx.store.groupsStatus()),
  },
  {
    name: 'getGroup',
    method: 'GET',
    pattern: new RegExp(`^/api/group/${ID}$`),
    handle: (ctx) => ok(ctx.store.getGroup(param(ctx, 0))),
  },
  {
    name: 'putGroup',
    method: 'PUT',
    pattern: new RegExp(`^/api/group/${ID}$`),
    handle: (ctx) => {
      const patch = decodePatchGroup(ctx.body());
      return ok(ctx.store.patchGroup(param(ctx, 0), patch));
    },
  },
  {
    name: 'deleteGroup',
    method: 'DELETE',
    pattern: new RegExp(`^/api/group/${ID}$`),
    handle: (ctx) => {
      ctx.store.deleteGroup(param(ctx, 0));
      return empty();
    },
  },
  {
    name: 'getStatus',
    method: 'GET',
    pattern: new RegExp(`^/api/group/${ID}/status$`),
    handle: (ctx) => ok(ctx.store.groupStatus(param(ctx, 0))),
  },
  {
    name: 'addAnnotations',
    method: 'POST',
    pattern: new RegExp(`^/api/group/${ID}/annotations$`),
    handle: (ctx) => {
      const names = decodeAddAnnotations(ctx.body());
      return ok(ctx.store.addAnnotations(param(ctx, 0), names));
    },
  },
  {
    name: 'deleteAnnotation',
    method: 'DELETE',
    pattern: new RegExp(`^/api/group/${ID}/annotation/([^/]+)$`),
    handle: (ctx) => {
      ctx.store.deleteAnnotation(param(ctx, 0), decodeURIComponent(param(ctx, 1)));
      return empty(204);
    },
  },
  {
    name: 'lockApi',
    method: 'POST',
    pattern: new RegExp(`^/api/security/group/${ID}/api/lock$`),
    handle: (ctx) => {
      ctx.store.setApiSecurityLock(param(ctx, 0), true);
      return empty();
    },
  },
  {
    name: 'unlockApi',
    method: 'POST',
    pattern: new RegExp(`^/api/security/group/${ID}/api/unlock$`),
    handle: (ctx) => {
      ctx.store.setApiSecurityLock(param(ctx, 0), false);
      return empty();
    },
  },
];

const INSTALLATION_ROUTES: RouteDef[] = [
  {
    name: 'getInstallations',
    method: 'GET',
    pattern: /^\/api\/installations$/,
    handle: (ctx) => {
      const q = ctx.query;
      const filter = {
        ...parsePaging(q),
        groupId: optionalQuery(q, 'group'),
        state: optionalQuery(q, 'state'),
        ownerId: optionalQuery(q, 'owner'),
        name: optionalQuery(q, 'name'),
      };
      const list = ctx.store.listInstallations(filter, parseBool(q, 'include_group_config', true));
      return ok(list.map(installationToWire));
    },
  },
  {
    name: 'getInstallation',
    method: 'GET',
    pattern: new RegExp(`^/api/installation/${ID}$`),
    handle: (ctx) => {
      const includeGroupConfig = parseBool(ctx.query, 'include_group_config', true);
      return ok(installationToWire(ctx.store.getInstallation(param(ctx, 0), includeGroupConfig)));
    },
  },
  {
    name: 'joinGroup',
    method: 'PUT',
    pattern: new RegExp(`^/api/installation/${ID}/group/${ID}$`),
    handle: (ctx) => {
      ctx.store.joinGroup(param(ctx, 0), param(ctx, 1));
      return empty();
    },
  },
  {
    // Registered as POST /installation/{id}/group/{group} with no regex on {group}.
    name: 'assignGroup',
    method: 'POST',
    pattern: new RegExp(`^/api/installation/${ID}/group/([^/]+)$`),
    handle: (ctx) => {
      const names = decodeAssignGroup(ctx.body());
      ctx.store.assignGroup(param(ctx, 0), names);
      return empty();
    },
  },
  {
    name: 'leaveGroup',
    method: 'DELETE',
    pattern: new RegExp(`^/api/installation/${ID}/group$`),
    handle: (ctx) => {
      ctx.store.leaveGroup(param(ctx, 0), parseBool(ctx.query, 'retain_config', true));
      return empty();
    },
  },
];

const WEBHOOK_ROUTES: RouteDef[] = [
  {
    name: 'createWebhook',
    method: 'POST',
    pattern: /^\/api\/webhooks$/,
    handle: (ctx) => ({ status: 202, json: ctx.webhooks.create(decodeCreateWebhook(ctx.body())) }),
  },
  {
    name: 'getWebhooks',
    method: 'GET',
    pattern: /^\/api\/webhooks$/,
    handle: (ctx) => ok(ctx.webhooks.list(optionalQuery(ctx.query, 'owner'), parsePaging(ctx.query))),
  },
  {
    name: 'getWebhook',
    method: 'GET',
    pattern: new RegExp(`^/api/webhook/${ID}$`),
    handle: (ctx) => ok(ctx.webhooks.get(param(ctx, 0))),
  },
  {
    name: 'deleteWebhook',
    method: 'DELETE',
    pattern: new RegExp(`^/api/webhook/${ID}$`),
    handle: (ctx) => {
      ctx.webhooks.delete(param(ctx, 0));
      return empty();
    },
  },
];

const ROUTES: readonly RouteDef[] = [...GROUP_ROUTES, ...INSTALLATION_ROUTES, ...WEBHOOK_ROUTES];

/**
 * Finds the route like gorilla/mux: a path that matches no pattern (including a malformed
 * ID) gets the plain-text `404 page not found`; a known path with the wrong method gets 405.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  let pathKnown = false;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    if (route.method === method) return { name: route.name, handle: route.handle, params: match.slice(1) };
    pathKnown = true;
  }
  if (pathKnown) return { name: 'unknown', reply: { status: 405 } };
  return { name: 'unknown', reply: { status: 404, text: '404 page not found\n' } };
}
