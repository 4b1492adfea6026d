import type { AxiosInstance, Method } from 'axios';
import os from 'node:os';
import type { ElrondApi } from '../commands/elrond-api.js';
import type { EventJson, FreezeJson, GroupJson, ReleaseJson, ReleasePlan, RingJson, RingOverview, RingWhy, SubscriptionJson, WebhookJson } from '../wire/present.js';
import type { Paging } from '../wire/requests.js';
import { ApiRequestError } from './api-request-error.js';

export interface HttpElrondApiOptions {
  /** Base URL of the Elrond server, e.g. http://localhost:3018. */
  server: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  apiToken?: string;
  /** Recorded by the server as who asked; defaults to the OS user. */
  actor?: string;
  /** Recorded by the server as where the request came from. */
  source?: string;
  timeoutMs?: number;
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** A URL with any password hidden, for messages. */
const redactUrl = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

function serverUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ApiRequestError(`--server "${server}" is not a URL: use e.g. http://localhost:3018`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiRequestError(`--server "${server}" must be an http or https URL, e.g. http://localhost:3018`);
  }
  return url;
}

/** The server's `{"error": "…"}` message, or the status text when it sent something else. */
function errorMessage(data: unknown, statusText: string): string {
  if (data && typeof data === 'object' && typeof (data as { error?: unknown }).error === 'string') return (data as { error: string }).error;
  if (typeof data === 'string' && data.trim() !== '') return data.trim().split('\n')[0]!.slice(0, 300);
  return statusText || 'request failed';
}

const paging = (p: Paging) => ({ page: p.page, per_page: p.perPage, include_deleted: p.includeDeleted });
const id = (value: string) => encodeURIComponent(value);

/**
 * The Elrond REST API over HTTP (axios), for the CLI. Every request says where it comes from (`X-Elrond-Source:
 * cli`) and, for a server without tokens, an unverified label (`X-Elrond-Actor: <OS user>`); with a token, the
 * token names the caller. Failures become one-line `ApiRequestError`s.
 *
 * @example const api = createHttpElrondApi({ server: 'http://localhost:3018' }); await api.listRings({ page: 0, perPage: 100, includeDeleted: false });
 */
export function createHttpElrondApi(options: HttpElrondApiOptions): ElrondApi {
  let client: AxiosInstance | undefined;
  const http = async (): Promise<AxiosInstance> => {
    if (client) return client;
    const base = serverUrl(options.server);
    // Loaded on first use: axios costs ~0.2 s to load, which --help, --dry-run and usage errors never need.
    const { default: axios } = await import('axios');
    client = axios.create({
      baseURL: `${base.href.replace(/\/+$/, '')}/api`,
      timeout: options.timeoutMs ?? 60_000,
      validateStatus: () => true,
      headers: {
        'X-Elrond-Source': options.source ?? 'cli',
        'X-Elrond-Actor': options.actor ?? osUser(),
        ...(options.apiToken ? { Authorization: `Bearer ${options.apiToken}` } : {}),
      },
    });
    return client;
  };

  async function call<T>(method: Method, path: string, request: { body?: unknown; params?: Record<string, unknown> } = {}): Promise<T> {
    let response;
    try {
      // Every POST says it is JSON, even with nothing to send (`null`, as the Go client does): the server refuses
      // other types on POST (CSRF), and a body-less POST has no type unless it is set.
      const post = method === 'post';
      response = await (await http()).request<T>({
        method,
        url: path,
        data: post ? JSON.stringify(request.body ?? null) : request.body,
        ...(post ? { headers: { 'Content-Type': 'application/json' } } : {}),
        params: request.params,
      });
    } catch (error) {
      if (error instanceof ApiRequestError) throw error;
      const code = (error as { code?: string }).code;
      throw new ApiRequestError(`cannot reach the Elrond server at ${redactUrl(options.server)} (${code ?? (error as Error).message}): is "elrond server" running? (--server)`);
    }
    if (response.status >= 400) throw new ApiRequestError(`${response.status} ${errorMessage(response.data, response.statusText)}`, response.status);
    return response.data;
  }

  return {
    createRing: (body) => call<RingJson>('post', '/rings', { body }),
    listRings: (p) => call<RingJson[]>('get', '/rings', { params: paging(p) }),
    getRing: (ringId) => call<RingJson>('get', `/ring/${id(ringId)}`),
    updateRing: (ringId, body) => call<RingJson>('post', `/ring/${id(ringId)}/update`, { body }),
    deleteRing: (ringId) => call<void>('delete', `/ring/${id(ringId)}`),
    retryRing: (ringId) => call<RingJson>('post', `/ring/${id(ringId)}`),
    releaseRing: (ringId, body) => call<RingJson>('post', `/ring/${id(ringId)}/release`, { body }),
    releaseAllRings: (body) => call<RingJson[]>('post', '/rings/release', { body }),
    pauseReleases: () => call<void>('post', '/rings/release/pause'),
    resumeReleases: () => call<void>('post', '/rings/release/resume'),
    cancelReleases: () => call<void>('post', '/rings/release/cancel'),
    rollbackRing: (ringId, body) => call<RingJson>('post', `/ring/${id(ringId)}/rollback`, { body }),
    rollbackAllRings: (body) => call<RingJson[]>('post', '/rings/rollback', { body }),
    approveRing: (ringId) => call<RingJson>('post', `/ring/${id(ringId)}/approve`),
    getRelease: (releaseId) => call<ReleaseJson>('get', `/release/${id(releaseId)}`),
    registerGroup: (ringId, body) => call<RingJson>('post', `/ring/${id(ringId)}/installationgroup`, { body }),
    updateGroup: (groupId, body) => call<GroupJson>('post', `/installationgroup/${id(groupId)}/update`, { body }),
    deleteGroup: (ringId, groupId) => call<void>('delete', `/ring/${id(ringId)}/installationgroup/${id(groupId)}`),
    createWebhook: (body) => call<WebhookJson>('post', '/webhooks', { body }),
    getWebhook: (webhookId) => call<WebhookJson>('get', `/webhook/${id(webhookId)}`),
    listWebhooks: (q) => call<WebhookJson[]>('get', '/webhooks', { params: { ...paging(q), ...(q.owner ? { owner: q.owner } : {}) } }),
    deleteWebhook: (webhookId) => call<void>('delete', `/webhook/${id(webhookId)}`),
    lockRing: (ringId) => call<void>('post', `/security/ring/${id(ringId)}/api/lock`),
    unlockRing: (ringId) => call<void>('post', `/security/ring/${id(ringId)}/api/unlock`),
    listEvents: (q) => call<EventJson[]>('get', '/events', { params: { ...(q.ring ? { ring: q.ring } : {}), ...(q.limit ? { limit: q.limit } : {}), ...(q.since ? { since: q.since } : {}) } }),
    planRelease: (ringId, request) => call<ReleasePlan>('post', ringId ? `/ring/${encodeURIComponent(ringId)}/release/plan` : '/rings/release/plan', { body: request }),
    createFreeze: (request) => call<FreezeJson>('post', '/freezes', { body: request }),
    freezeNow: (request) => call<FreezeJson>('post', '/freezes/now', { body: request }),
    listFreezes: () => call<FreezeJson[]>('get', '/freezes'),
    deleteFreeze: async (id) => {
      await call<unknown>('delete', `/freeze/${encodeURIComponent(id)}`);
    },
    status: () => call<RingOverview[]>('get', '/status'),
    why: (ringId) => call<RingWhy[]>('get', ringId ? `/ring/${encodeURIComponent(ringId)}/why` : '/why'),
    subscribe: (request) => call<SubscriptionJson & { replaced: boolean }>('post', '/subscriptions', { body: request }),
    unsubscribe: (request) => call<SubscriptionJson>('delete', '/subscriptions', { params: request.channel ? { channel: request.channel } : {} }),
    listSubscriptions: () => call<SubscriptionJson[]>('get', '/subscriptions'),
  };
}
