import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createClientCredentialsTokenSource, TokenRequestError } from './client-credentials-token.js';
import { safeRequest, type SafeRequest, type SafeResponse } from './safe-http.js';
import type { EnvVarMap } from '../model/env-vars.js';
import type { GroupStatusCounts } from '../model/ring.js';
import type { ProvisionerGroupView } from '../model/group-decision.js';

export interface ProvisionerInstallation {
  ID: string;
  Name: string;
  State: string;
}

/** What the engine needs from the Mattermost Cloud provisioner (provisioner-api.md A.2). */
export interface ProvisionerClient {
  getGroup(id: string): Promise<ProvisionerGroupView>;
  /** PUT /api/group/{id} with Version, Image and the env entries to patch (null = leave env alone). */
  updateGroup(id: string, patch: { Version: string; Image: string; MattermostEnv: EnvVarMap | null }): Promise<ProvisionerGroupView>;
  getGroupStatus(id: string): Promise<GroupStatusCounts>;
  installations(groupId: string): Promise<ProvisionerInstallation[]>;
  /** The webhook registry (A.7); absent when the provisioner is simulated, so webhooks stay off. */
  webhooks?: ProvisionerWebhookApi;
}

/** A header the provisioner adds to each delivery (`model.WebhookHeader`). */
export interface ProvisionerWebhookHeader {
  key: string;
  value?: string;
  value_from_env?: string;
}

/** `model.Webhook` as `GET /api/webhooks` returns it. */
export interface ProvisionerWebhook {
  ID: string;
  OwnerID: string;
  URL: string;
  CreateAt: number;
  DeleteAt: number;
  Headers?: ProvisionerWebhookHeader[] | null;
}

/** `POST /api/webhooks`, `GET /api/webhooks?owner=`, `DELETE /api/webhook/{id}`. */
export interface ProvisionerWebhookApi {
  list(ownerId: string): Promise<ProvisionerWebhook[]>;
  create(request: { OwnerID: string; URL: string; Headers: ProvisionerWebhookHeader[] }): Promise<ProvisionerWebhook>;
  delete(id: string): Promise<void>;
}

/**
 * A provisioner failure, classified: transient ones (network, timeout, 5xx, 409 lock contention, 429)
 * are retried with backoff; permanent ones fail the group at once with a reason a person understands.
 */
export class ProvisionerError extends Error {
  readonly transient: boolean;
  readonly status: number | undefined;
  constructor(message: string, transient: boolean, status?: number) {
    super(message);
    this.name = 'ProvisionerError';
    this.transient = transient;
    this.status = status;
  }
}

export interface ProvisionerClientOptions {
  baseUrl: string;
  /** OAuth2 client credentials; used only when all three are set. */
  oauth?: { clientId: string; clientSecret: string; tokenEndpoint: string };
  timeoutMs?: number;
  now?: () => number;
}

export const OAUTH_SCOPE = 'offline_access api://provisioner/.default';

/** A non-2xx answer as a ProvisionerError a person can act on. */
function statusError(status: number, what: string, groupId: string): ProvisionerError {
  switch (status) {
    case 404:
      return new ProvisionerError(`provisioner group ${groupId} not found (404): check the provisionerGroupID registered for this installation group`, false, 404);
    case 403:
      return new ProvisionerError(`provisioner group ${groupId} is API-locked (403): unlock it on the provisioner, then retry the release`, false, 403);
    case 400:
      return new ProvisionerError(`the provisioner rejected the request to ${what} as invalid (400): check the release's image, version and env variables`, false, 400);
    case 401:
      return new ProvisionerError(`the provisioner rejected Elrond's credentials (401) to ${what}: check --provisioner-client-id/secret/token-endpoint`, true, 401);
    case 409:
      return new ProvisionerError(`provisioner group ${groupId} is locked by another operation (409)`, true, 409);
    case 429:
      return new ProvisionerError(`the provisioner is rate limiting (429)`, true, 429);
    default:
      return new ProvisionerError(`the provisioner answered ${status} to ${what}`, status >= 500, status);
  }
}

/**
 * Keep-alive sockets with the settings of Node's global agents (LIFO, 5 s idle) and one keep-alive probe delay
 * (60 s), set when the socket is made: a delay set per request is two `setsockopt` calls each time.
 */
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 60_000, scheduling: 'lifo', timeout: 5_000 } as const;
const agents = { 'http:': new HttpAgent(AGENT_OPTIONS), 'https:': new HttpsAgent(AGENT_OPTIONS) };
/** An installation listing of a very large group is a few MiB; anything past this is not the provisioner. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * The provisioner over plain `http.request` (integrations/safe-http.ts: one deadline for the whole exchange, a
 * bounded answer, no redirects), with OAuth2 client credentials when configured. It replaced axios, which cost
 * ~460 µs of CPU per call against ~170 µs (bench/, a warm keep-alive GET): an urgent release's ten groups ending
 * at once make ~50 calls in one burst.
 */
export function createProvisionerClient(options: ProvisionerClientOptions): ProvisionerClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const agent = agents[new URL(baseUrl).protocol === 'https:' ? 'https:' : 'http:'];
  const tokens = options.oauth ? createClientCredentialsTokenSource({ ...options.oauth, scope: OAUTH_SCOPE, timeoutMs, now: options.now ?? Date.now }) : undefined;

  async function authHeader(): Promise<Record<string, string>> {
    if (!tokens) return {};
    try {
      return { Authorization: `Bearer ${await tokens.token()}` };
    } catch (error) {
      if (error instanceof TokenRequestError) throw new ProvisionerError(error.message, error.transient, error.status);
      throw error;
    }
  }

  /** One call: `what` and `groupId` name it in errors ("cannot reach the provisioner to read the group (ECONNREFUSED)"). */
  async function call<T>(what: string, groupId: string, method: SafeRequest['method'], pathAndQuery: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...(await authHeader()) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let answer: SafeResponse;
    try {
      answer = await safeRequest({ url: `${baseUrl}${pathAndQuery}`, method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), deadlineMs: timeoutMs, maxResponseBytes: MAX_ANSWER_BYTES, publicOnly: false, agent });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const why = typeof code === 'string' ? ` (${code})` : `: ${error instanceof Error ? error.message : String(error)}`;
      throw new ProvisionerError(`cannot reach the provisioner to ${what}${why}`, true);
    }
    if (answer.status < 200 || answer.status >= 300) {
      const problem = statusError(answer.status, what, groupId);
      if (problem.status === 401) tokens?.invalidate();
      throw problem;
    }
    if (answer.truncated) throw new ProvisionerError(`the provisioner's answer to ${what} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`, true, answer.status);
    if (answer.body === '') return undefined as T;
    try {
      return JSON.parse(answer.body) as T;
    } catch {
      throw new ProvisionerError(`the provisioner answered the request to ${what} with a body that is not JSON`, true, answer.status);
    }
  }

  const path = (id: string) => `/api/group/${encodeURIComponent(id)}`;
  const webhooks: ProvisionerWebhookApi = {
    list: (ownerId) => call('list webhooks', ownerId, 'GET', `/api/webhooks?${new URLSearchParams({ owner: ownerId, per_page: '-1' })}`),
    create: (request) => call('register a webhook', request.OwnerID, 'POST', '/api/webhooks', request),
    delete: async (id) => {
      await call('delete a webhook', id, 'DELETE', `/api/webhook/${encodeURIComponent(id)}`);
    },
  };
  return {
    webhooks,
    getGroup: (id) => call('read the group', id, 'GET', path(id)),
    updateGroup: (id, patch) =>
      // `{}` would clear every variable of the group (ClearOrPatch): an empty patch goes as null, "no change".
      call('update the group', id, 'PUT', path(id), { ID: id, MaxRolling: null, Name: null, Description: null, Version: patch.Version, Image: patch.Image, MattermostEnv: patch.MattermostEnv && Object.keys(patch.MattermostEnv).length > 0 ? patch.MattermostEnv : null, ForceSequenceUpdate: false, ForceInstallationsRestart: false }),
    getGroupStatus: (id) => call('read the group status', id, 'GET', `${path(id)}/status`),
    installations: (groupId) => call('list the group installations', groupId, 'GET', `/api/installations?${new URLSearchParams({ group: groupId, per_page: '-1', include_group_config: 'false' })}`),
  };
}
