const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function canonical(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const entry = (value as Record<string, unknown>)[key];
      if (entry !== undefined) out[canonical(key) as string] = canonical(entry);
    }
    return out;
  }
  return value;
}

/**
 * JSON that depends only on a value, not on how it was written: object keys sorted at every level, absent
 * (`undefined`) entries dropped, lone surrogates as U+FFFD. Mattermost keeps a button's context as a Go
 * `map[string]any` and sends it back re-marshalled (keys sorted, numbers as float64, invalid UTF-16 replaced),
 * so anything signed or hashed from a context must be computed over this form, on both sides.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}
