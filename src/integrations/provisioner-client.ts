import axios, { AxiosError, type AxiosInstance } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createClientCredentialsTokenSource, TokenRequestError } from './client-credentials-token.js';
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

function classify(error: unknown, what: string, groupId: string): ProvisionerError {
  if (error instanceof ProvisionerError) return error;
  const axiosError = error as AxiosError;
  const status = axiosError.response?.status;
  if (status === undefined) {
    const code = axiosError.code ?? (error instanceof Error ? error.message : 'error');
    return new ProvisionerError(`cannot reach the provisioner to ${what} (${code})`, true);
  }
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
 * Node's global agents' settings (keep-alive, LIFO, 5 s idle), with axios' keep-alive probe delay: axios sets a
 * 60 s delay on every request's socket and the global agent puts back 1 s when the socket is freed, so each call
 * cost two rounds of setsockopt (~1,300 a release of 10 × 3 groups; strace, bench/ urgent).
 */
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 60_000, scheduling: 'lifo', timeout: 5_000 } as const;
const agents = { httpAgent: new HttpAgent(AGENT_OPTIONS), httpsAgent: new HttpsAgent(AGENT_OPTIONS) };

/** The provisioner over HTTP (axios), with OAuth2 client credentials when configured. */
export function createProvisionerClient(options: ProvisionerClientOptions): ProvisionerClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const http: AxiosInstance = axios.create({ baseURL: options.baseUrl.replace(/\/+$/, ''), timeout: timeoutMs, ...agents });
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

  async function call<T>(what: string, groupId: string, run: (headers: Record<string, string>) => Promise<{ data: T }>): Promise<T> {
    try {
      return (await run(await authHeader())).data;
    } catch (error) {
      const classified = classify(error, what, groupId);
      if (classified.status === 401) tokens?.invalidate();
      throw classified;
    }
  }

  const path = (id: string) => `/api/group/${encodeURIComponent(id)}`;
  const webhooks: ProvisionerWebhookApi = {
    list: (ownerId) => call('list webhooks', ownerId, (headers) => http.get<ProvisionerWebhook[]>('/api/webhooks', { headers, params: { owner: ownerId, per_page: -1 } })),
    create: (request) => call('register a webhook', request.OwnerID, (headers) => http.post<ProvisionerWebhook>('/api/webhooks', request, { headers })),
    delete: async (id) => {
      await call('delete a webhook', id, (headers) => http.delete(`/api/webhook/${encodeURIComponent(id)}`, { headers }));
    },
  };
  return {
    webhooks,
    getGroup: (id) => call('read the group', id, (headers) => http.get<ProvisionerGroupView>(path(id), { headers })),
    updateGroup: (id, patch) =>
      call('update the group', id, (headers) =>
        http.put<ProvisionerGroupView>(
          path(id),
          // `{}` would clear every variable of the group (ClearOrPatch): an empty patch goes as null, "no change".
          { ID: id, MaxRolling: null, Name: null, Description: null, Version: patch.Version, Image: patch.Image, MattermostEnv: patch.MattermostEnv && Object.keys(patch.MattermostEnv).length > 0 ? patch.MattermostEnv : null, ForceSequenceUpdate: false, ForceInstallationsRestart: false },
          { headers },
        ),
      ),
    getGroupStatus: (id) => call('read the group status', id, (headers) => http.get<GroupStatusCounts>(`${path(id)}/status`, { headers })),
    installations: (groupId) =>
      call('list the group installations', groupId, (headers) =>
        http.get<ProvisionerInstallation[]>('/api/installations', { headers, params: { group: groupId, per_page: -1, include_group_config: false } }),
      ),
  };
}
