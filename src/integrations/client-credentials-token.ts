import axios, { AxiosError } from 'axios';

/** How the client id and secret reach the token endpoint (RFC 6749 §2.3.1). */
export type ClientAuthStyle = 'basic' | 'body';

export interface ClientCredentialsOptions {
  clientId: string;
  clientSecret: string;
  tokenEndpoint: string;
  scope: string;
  timeoutMs: number;
  now: () => number;
}

/** A failed token request: transient when any way of asking could still work later (network, 5xx, 429). */
export class TokenRequestError extends Error {
  readonly transient: boolean;
  readonly status: number | undefined;
  constructor(message: string, transient: boolean, status: number | undefined) {
    super(message);
    this.name = 'TokenRequestError';
    this.transient = transient;
    this.status = status;
  }
}

export interface TokenSource {
  /** A valid access token, fetched when there is none or it is about to expire. */
  token(): Promise<string>;
  /** Forget the token (the server refused it); the next call fetches a new one. */
  invalidate(): void;
  /** The client authentication that worked, once one has. */
  readonly authStyle: ClientAuthStyle | undefined;
}

type Attempt = { ok: true; token: string; expiresIn: number } | { ok: false; status: number | undefined; detail: string; transient: boolean };

const STYLE_NAMES: Record<ClientAuthStyle, string> = { basic: 'HTTP Basic', body: 'form body' };

/** Go's url.QueryEscape: form encoding, where only letters, digits and `-_.~` stay as they are. */
function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The token response as golang.org/x/oauth2 reads it: JSON, or a form-encoded body for some servers. */
function readTokenResponse(contentType: string, body: string): { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } {
  if (/^(application\/x-www-form-urlencoded|text\/plain)\b/i.test(contentType)) return Object.fromEntries(new URLSearchParams(body));
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * OAuth2 client credentials the way golang.org/x/oauth2 does them with AuthStyleAutoDetect (the provisioner's
 * own Go client, `NewClientWithOAuth`): ask first with HTTP Basic client authentication, and if that fails
 * ask again with the client id and secret in the form body (`internal.RetrieveToken`); remember the style
 * that worked and use only it from then on (`AuthStyleCache`). Steps running at once share one request.
 */
export function createClientCredentialsTokenSource(options: ClientCredentialsOptions): TokenSource {
  let style: ClientAuthStyle | undefined;
  let current: { value: string; expiresAt: number } | undefined;
  let fetching: Promise<{ value: string; expiresAt: number }> | undefined;

  async function attempt(how: ClientAuthStyle): Promise<Attempt> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope });
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
    if (how === 'body') {
      form.set('client_id', options.clientId);
      form.set('client_secret', options.clientSecret);
    } else {
      // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
      headers.Authorization = `Basic ${Buffer.from(`${queryEscape(options.clientId)}:${queryEscape(options.clientSecret)}`).toString('base64')}`;
    }
    try {
      const response = await axios.post<string>(options.tokenEndpoint, form.toString(), { headers, timeout: options.timeoutMs, responseType: 'text', transformResponse: (data: unknown) => data, validateStatus: () => true });
      const body = readTokenResponse(String(response.headers['content-type'] ?? ''), String(response.data ?? ''));
      const code = typeof body.error === 'string' ? body.error : '';
      if (response.status < 200 || response.status > 299 || code !== '') {
        const description = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
        return { ok: false, status: response.status, detail: `${response.status}${code ? ` ${code}` : ''}${description}`, transient: response.status >= 500 || response.status === 429 };
      }
      if (typeof body.access_token !== 'string' || body.access_token === '') return { ok: false, status: response.status, detail: 'the answer has no access_token', transient: false };
      const expiresIn = Number(body.expires_in);
      return { ok: true, token: body.access_token, expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600 };
    } catch (error) {
      return { ok: false, status: undefined, detail: (error as AxiosError).code ?? (error instanceof Error ? error.message : 'error'), transient: true };
    }
  }

  async function fetchToken(): Promise<{ value: string; expiresAt: number }> {
    const styles: ClientAuthStyle[] = style ? [style] : ['basic', 'body'];
    const failures: Array<{ how: ClientAuthStyle; result: Extract<Attempt, { ok: false }> }> = [];
    for (const how of styles) {
      const result = await attempt(how);
      if (result.ok) {
        style = how;
        // Refresh a little early so a token never expires mid-request.
        return { value: result.token, expiresAt: options.now() + Math.max(0, result.expiresIn - 30) * 1000 };
      }
      failures.push({ how, result });
    }
    const details = new Set(failures.map((f) => f.result.detail));
    const detail = details.size === 1 ? [...details][0] : failures.map((f) => `${STYLE_NAMES[f.how]}: ${f.result.detail}`).join('; ');
    const last = failures.at(-1)!.result;
    const refused = failures.every((f) => f.result.status === 400 || f.result.status === 401);
    throw new TokenRequestError(
      `cannot get an OAuth token from the provisioner's token endpoint (${detail})${refused ? ': check --provisioner-client-id and --provisioner-client-secret' : ''}`,
      failures.some((f) => f.result.transient),
      last.status,
    );
  }

  return {
    get authStyle() {
      return style;
    },
    invalidate() {
      current = undefined;
    },
    async token() {
      if (!current || current.expiresAt <= options.now()) {
        if (!fetching) {
          const request = fetchToken();
          fetching = request;
          const done = () => {
            if (fetching === request) fetching = undefined;
          };
          request.then(done, done);
        }
        current = await fetching;
      }
      return current.value;
    },
  };
}
