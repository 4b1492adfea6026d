/**
 * The one place that decides what is secret and how it is hidden. Every surface (plans, cards, chat replies,
 * events and history, CLI tables, webhook lists, logs) shows values through {@link redact} or its URL form
 * {@link redactUrl}, so they all hide the same things the same way.
 */

/** What a hidden value is shown as. Refused as an input value (see {@link containsRedactionMarker}). */
export const REDACTED = '••••••';

/** Names whose values are secret, in any case and anywhere in the name (`MM_SQLSETTINGS_DATASOURCE`). */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY|DATASOURCE|DSN|CREDENTIAL|PRIVATE/i;

/** A URL inside free text: `scheme://` up to whitespace, a quote, a bracket or a backslash (JSON escapes). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>\\]+/gi;

/** `NAME=value` in free text where NAME looks secret (`DB_PASSWORD=hunter2`). */
const SECRET_ASSIGNMENT = /\b([A-Za-z_][A-Za-z0-9_.-]*)=([^\s&"'`,;()[\]{}<>]+)/g;

/** A go-sql-driver style DSN, `user:password@tcp(host:3306)/db`: credentials without a scheme. */
const DSN_CREDENTIALS = /^[^\s:@/]+:[^\s@/]*@/;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

interface UrlParts {
  scheme: string;
  userinfo: string | null;
  hostAndPath: string;
  query: string | null;
  fragment: string | null;
}

/** Split by hand, not with `new URL`: the text may be no valid URL, and what is not secret must stay byte for byte. */
function splitUrl(url: string): UrlParts | null {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/is.exec(url);
  if (!match) return null;
  const authority = match[2] ?? '';
  const at = authority.lastIndexOf('@');
  return {
    scheme: match[1] ?? '',
    userinfo: at >= 0 ? authority.slice(0, at) : null,
    hostAndPath: (at >= 0 ? authority.slice(at + 1) : authority) + (match[3] ?? ''),
    query: match[4] === undefined ? null : match[4].slice(1),
    fragment: match[5] ?? null,
  };
}

function queryNames(query: string): string[] {
  return query.split('&').map((pair) => safeDecode(pair.split('=')[0] ?? ''));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * A URL with its userinfo and every query value replaced by {@link REDACTED}; scheme, host, port, path and the
 * query's names stay, so people can still tell which endpoint it is.
 *
 * @example redactUrl('https://u:p@hooks.example.com/x?token=abc&a') // 'https://••••••@hooks.example.com/x?token=••••••&a'
 */
export function redactUrl(url: string): string {
  const parts = splitUrl(url);
  if (!parts) return url;
  const query =
    parts.query === null
      ? ''
      : `?${parts.query
          .split('&')
          .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=${REDACTED}` : pair))
          .join('&')}`;
  return `${parts.scheme}${parts.userinfo === null ? '' : `${REDACTED}@`}${parts.hostAndPath}${query}${parts.fragment ?? ''}`;
}

/** Does `value` carry credentials: a URL with userinfo or a secret-named query parameter, or a DSN's `user:pw@`? */
export function containsCredentials(value: string): boolean {
  if (DSN_CREDENTIALS.test(value.trim())) return true;
  for (const url of value.match(URL_IN_TEXT) ?? []) {
    const parts = splitUrl(url);
    if (!parts) continue;
    if (parts.userinfo !== null && parts.userinfo !== '') return true;
    if (parts.query !== null && queryNames(parts.query).some(isSecretName)) return true;
  }
  return false;
}

/**
 * How a value is shown to anyone.
 *
 * - With a `name` (an env variable, a field): the whole value is {@link REDACTED} when the name looks secret
 *   (PASSWORD, SECRET, TOKEN, KEY, DATASOURCE, DSN, CREDENTIAL, PRIVATE, any case) or the value carries URL
 *   credentials; otherwise it is shown as it is.
 * - Without a name (a message, a log line, a reason): every URL in it loses its userinfo and query values, and
 *   every `SECRET_NAME=value` its value; the rest stays readable.
 *
 * An empty value stays empty (a deletion has nothing to hide).
 *
 * @example redact('postgres://mm:pw@db/mm', 'MM_SQLSETTINGS_DATASOURCE') // '••••••'
 * @example redact('delivery to https://u:p@h.example.com/x failed') // 'delivery to https://••••••@h.example.com/x failed'
 */
export function redact(value: string, name?: string): string {
  if (value === '') return value;
  if (name !== undefined) return isSecretName(name) || containsCredentials(value) ? REDACTED : value;
  return value
    .replace(URL_IN_TEXT, (match) => {
      // Punctuation right after a URL in prose ("(see https://x/?a=b).") is not part of it.
      const tail = /[.,;:!?)\]}]+$/.exec(match)?.[0] ?? '';
      return redactUrl(match.slice(0, match.length - tail.length)) + tail;
    })
    .replace(SECRET_ASSIGNMENT, (whole, key: string, secret: string) => (isSecretName(key) && !secret.startsWith(REDACTED) ? `${key}=${REDACTED}` : whole));
}

/**
 * Every string inside `value` (objects and arrays walked) as free text through {@link redact}, or hidden whole
 * under a secret-looking key. For JSON that leaves Elrond (event data).
 */
export function redactDeep(value: unknown, name?: string): unknown {
  if (typeof value === 'string') return name !== undefined && isSecretName(name) && value !== '' ? REDACTED : redact(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, name));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, redactDeep(item, key)]));
  }
  return value;
}

/**
 * True when `value` holds the redaction marker, as typed or percent-encoded (in a URL): a value read back from
 * Elrond's output and sent again would ship the marker to the fleet instead of the secret.
 */
export function containsRedactionMarker(value: string): boolean {
  return value.includes(REDACTED) || /(%E2%80%A2){6}/i.test(value);
}
