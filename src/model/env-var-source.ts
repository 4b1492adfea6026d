/**
 * What a Kubernetes `EnvVarSource` (an env var's `valueFrom`) means, so two spellings of the same source
 * compare equal. The provisioner hands back what it stored re-encoded by Go (field order, `omitempty`,
 * `divisor: "0"`, canonical quantities: provisioner-api.md A.5), so a release's `valueFrom` and the group's
 * are compared in this form, never as sent.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The source kinds of corev1.EnvVarSource, each with its fields and the value an unset field means. */
const SELECTORS: Record<string, Record<string, (value: unknown) => Json>> = {
  // k8s defaulting (SetDefaults_ObjectFieldSelector) fills apiVersion "v1".
  fieldRef: { apiVersion: (v) => text(v) || 'v1', fieldPath: text },
  resourceFieldRef: { containerName: text, resource: text, divisor: quantity },
  configMapKeyRef: { name: text, key: text, optional: flag },
  secretKeyRef: { name: text, key: text, optional: flag },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Any JSON value with object keys sorted. */
function sortedJson(value: unknown): Json {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (isRecord(value)) return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedJson(value[key])]));
  return value === undefined ? null : (value as Json);
}

/** A string field: unset and null mean "". Anything else is kept as it is, so it never equals a string. */
function text(value: unknown): Json {
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : { invalid: sortedJson(value) };
}

/** `optional`: unset and null mean false. */
function flag(value: unknown): Json {
  return value === undefined || value === null ? false : typeof value === 'boolean' ? value : { invalid: sortedJson(value) };
}

const ONE = 10n ** 9n;

/**
 * A divisor as its value in nano units; one that does not parse is kept as written. Unset (Go writes "0")
 * and zero mean 1, as the kubelet reads them (ExtractContainerResourceValue).
 */
function quantity(value: unknown): Json {
  if (value === undefined || value === null) return ONE.toString();
  const nanos = typeof value === 'string' || typeof value === 'number' ? quantityNanos(String(value).trim()) : null;
  if (nanos === null) return { invalid: sortedJson(value) };
  return (nanos === 0n ? ONE : nanos).toString();
}

const DECIMAL_EXPONENTS: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_EXPONENTS: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/**
 * A Kubernetes quantity ("500m", "1Gi", "1e3") in nano units, rounded away from zero as Kubernetes keeps
 * nano precision; null when it is not a quantity.
 */
export function quantityNanos(raw: string): bigint | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[-+]?\d*)$/.exec(raw);
  if (!match || raw === '') return null;
  const [, sign = '', whole = '', fraction = '', suffix = ''] = match;
  let numerator = BigInt(`${whole}${fraction}` || '0') * ONE;
  let denominator = 10n ** BigInt(fraction.length);
  if (Object.hasOwn(BINARY_EXPONENTS, suffix)) {
    numerator *= 2n ** BigInt(BINARY_EXPONENTS[suffix]!);
  } else {
    const exponent = Object.hasOwn(DECIMAL_EXPONENTS, suffix) ? DECIMAL_EXPONENTS[suffix]! : /^[eE][+-]?\d+$/.test(suffix) ? Number(suffix.slice(1)) : null;
    if (exponent === null) return null;
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  const nanos = numerator / denominator + (numerator % denominator === 0n ? 0n : 1n);
  return sign === '-' ? -nanos : nanos;
}

/** Go matches JSON keys to struct fields case-insensitively, the last matching key winning. */
function knownKey(known: readonly string[], key: string): string | undefined {
  return known.find((name) => name.toLowerCase() === key.toLowerCase());
}

/** One selector with every known field present (defaults applied); unknown keys are kept, sorted. */
function canonicalSelector(fields: Record<string, (value: unknown) => Json>, raw: Record<string, unknown>): Json {
  const given: Record<string, unknown> = {};
  const unknown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = knownKey(Object.keys(fields), key);
    if (name) given[name] = value;
    else unknown[key] = value;
  }
  const out: Record<string, Json> = {};
  for (const [name, normalize] of Object.entries(fields)) out[name] = normalize(given[name]);
  if (Object.keys(unknown).length > 0) out['?'] = sortedJson(unknown);
  return out;
}

/**
 * The meaning of a `valueFrom` as one string: known source kinds and fields matched as Go matches them,
 * unset fields replaced by what they mean, quantities by their value. Keys Kubernetes does not know are
 * kept, so a source the provisioner could not store never compares equal to what it did store.
 */
export function canonicalValueFrom(source: unknown): string {
  if (!isRecord(source)) return JSON.stringify({ invalid: sortedJson(source) });
  const given: Record<string, unknown> = {};
  const unknown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const kind = knownKey(Object.keys(SELECTORS), key);
    if (kind) given[kind] = value;
    else unknown[key] = value;
  }
  const out: Record<string, Json> = {};
  for (const [kind, fields] of Object.entries(SELECTORS)) {
    const value = given[kind];
    if (value === undefined || value === null) continue;
    out[kind] = isRecord(value) ? canonicalSelector(fields, value) : { invalid: sortedJson(value) };
  }
  if (Object.keys(unknown).length > 0) out['?'] = sortedJson(unknown);
  return JSON.stringify(out);
}

/** Do two `valueFrom`s name the same source? Undefined (no valueFrom) equals only undefined. */
export function sameValueFrom(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalValueFrom(a) === canonicalValueFrom(b);
}
