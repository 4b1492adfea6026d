/**
 * How a Go server's `encoding/json` treats a JSON object it keeps as `map[string]any` (an action's
 * `integration.context`, `model.PostActionIntegration.Context`), so the fake hands the bot back the same bytes a
 * real Mattermost would, not the ones the bot wrote.
 */
import { isRecord } from './util.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Go's `sort.Strings` on map keys: byte order of the UTF-8 encoding (not JavaScript's UTF-16 order). */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * `json.Unmarshal` into `any`, then `json.Marshal` again: objects become maps whose keys come back sorted at every
 * level (`encoding/json` sorts map keys), numbers become float64 (JavaScript numbers already are), invalid UTF-16
 * (a lone surrogate) becomes U+FFFD. Models `json.Marshal(cookie)` in `model.AddPostActionCookies` and of the
 * request in `App.DoPostActionWithCookie`, and the `StringInterface` props column a post is stored in.
 */
export function goMapRoundTrip(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(goMapRoundTrip);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareUtf8)) {
      if (value[key] !== undefined) out[goMapRoundTrip(key) as string] = goMapRoundTrip(value[key]);
    }
    return out;
  }
  return value;
}

/** Characters `json.Marshal` escapes beyond what `JSON.stringify` does (its default `SetEscapeHTML(true)`). */
const GO_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * The bytes `json.Marshal` writes for a value: key order as given (struct field order; pass maps through
 * {@link goMapRoundTrip} first), `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX`.
 */
export function goMarshal(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
}
