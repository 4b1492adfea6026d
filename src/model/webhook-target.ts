import { badRequest } from './errors.js';
import { refusedAddress } from './address-rules.js';
import { containsRedactionMarker, REDACTED, redactUrl } from './redact.js';

/**
 * Active webhooks Elrond keeps at most. Each gets its own delivery lane, so the cap also bounds the
 * connections the outbox holds open at once.
 */
export const MAX_ACTIVE_WEBHOOKS = 100;

export const ALLOW_PRIVATE_FLAG = '--webhook-allow-private';

/** Names that are loopback by definition (RFC 6761), refused before any DNS is asked. */
const LOOPBACK_NAME = /^(localhost|.+\.localhost)$/i;

/**
 * The URL a webhook may be created with, or a 400 naming the problem: http(s) with a host, not a value read
 * back from Elrond's redacted output, and — unless private targets are allowed — not an IP literal (in any
 * spelling the URL standard accepts: `0x7f.1`, `2130706433`, `127.1`, `[::ffff:7f00:1]`) or a `localhost`
 * name that points inside. Other names are checked on their resolved addresses each time a delivery connects.
 *
 * @example checkWebhookUrl('http://169.254.169.254/', { allowPrivate: false }) // throws 400 "… link-local …"
 */
export function checkWebhookUrl(raw: string, options: { allowPrivate: boolean }): string {
  if (containsRedactionMarker(raw)) {
    throw badRequest(`URL: holds Elrond's redaction marker (${REDACTED}), so it was read back from a redacted list; send the webhook's real URL`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`URL: "${redactUrl(raw)}" is not a URL; use e.g. https://hooks.example.com/elrond`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`URL: scheme ${url.protocol.replace(':', '')} is not supported; use http or https`);
  if (!url.hostname) throw badRequest('URL: has no host');
  if (options.allowPrivate) return raw;
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const looksLikeIp = /^[0-9.]+$/.test(host) || host.includes(':');
  const why = looksLikeIp ? refusedAddress(host) : LOOPBACK_NAME.test(host) ? 'a loopback name' : null;
  if (why) {
    throw badRequest(
      `URL: ${url.hostname}${url.hostname === host ? '' : ` (${host})`} is ${why}; webhooks may only reach public addresses (start the server with ${ALLOW_PRIVATE_FLAG} to allow internal targets)`,
    );
  }
  return raw;
}
