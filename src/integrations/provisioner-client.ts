import axios, { AxiosError, type AxiosInstance } from 'axios';
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
  /** PUT /api/group/{id} with Version, Image and the release's env changes (null = leave env alone). */
  updateGroup(id: string, patch: { Version: string; Image: string; MattermostEnv: EnvVarMap | null }): Promise<ProvisionerGroupView>;
  getGroupStatus(id: string): Promise<GroupStatusCounts>;
  installations(groupId: string): Promise<ProvisionerInstallation[]>;
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

/** The provisioner over HTTP (axios), with OAuth2 client credentials when configured. */
export function createProvisionerClient(options: ProvisionerClientOptions): ProvisionerClient {
  const now = options.now ?? Date.now;
  const http: AxiosInstance = axios.create({ baseURL: options.baseUrl.replace(/\/+$/, ''), timeout: options.timeoutMs ?? 10_000 });
  type Token = { value: string; expiresAt: number };
  let token: Token | undefined;
  /** The token request under way: group steps run concurrently, and they all wait for this one. */
  let fetching: Promise<Token> | undefined;

  async function fetchToken(oauth: NonNullable<ProvisionerClientOptions['oauth']>): Promise<Token> {
    try {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: oauth.clientId, client_secret: oauth.clientSecret, scope: OAUTH_SCOPE });
      const { data } = await axios.post<{ access_token: string; expires_in?: number }>(oauth.tokenEndpoint, form.toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        timeout: options.timeoutMs ?? 10_000,
      });
      // Refresh a little early so a token never expires mid-request.
      return { value: data.access_token, expiresAt: now() + Math.max(0, (data.expires_in ?? 3600) - 30) * 1000 };
    } catch (error) {
      const status = (error as AxiosError).response?.status;
      throw new ProvisionerError(`cannot get an OAuth token from the provisioner's token endpoint (${status ?? (error as AxiosError).code ?? 'error'})`, status === undefined || status >= 500, status);
    }
  }

  async function authHeader(): Promise<Record<string, string>> {
    const oauth = options.oauth;
    if (!oauth) return {};
    if (!token || token.expiresAt <= now()) {
      if (!fetching) {
        const request = fetchToken(oauth);
        fetching = request;
        const done = () => {
          if (fetching === request) fetching = undefined;
        };
        request.then(done, done);
      }
      token = await fetching;
    }
    return { Authorization: `Bearer ${token.value}` };
  }

  async function call<T>(what: string, groupId: string, run: (headers: Record<string, string>) => Promise<{ data: T }>): Promise<T> {
    try {
      return (await run(await authHeader())).data;
    } catch (error) {
      const classified = classify(error, what, groupId);
      if (classified.status === 401) token = undefined;
      throw classified;
    }
  }

  const path = (id: string) => `/api/group/${encodeURIComponent(id)}`;
  return {
    getGroup: (id) => call('read the group', id, (headers) => http.get<ProvisionerGroupView>(path(id), { headers })),
    updateGroup: (id, patch) =>
      call('update the group', id, (headers) =>
        http.put<ProvisionerGroupView>(
          path(id),
          { ID: id, MaxRolling: null, Name: null, Description: null, Version: patch.Version, Image: patch.Image, MattermostEnv: patch.MattermostEnv, ForceSequenceUpdate: false, ForceInstallationsRestart: false },
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
