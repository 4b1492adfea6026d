import { badRequest } from './errors.js';
import { sameValueFrom } from './env-var-source.js';
import { containsRedactionMarker, REDACTED, redact } from './redact.js';

/** One environment variable as the provisioner stores it (mattermost-cloud model/env.go). */
export interface EnvVar {
  value?: string;
  /** A Kubernetes EnvVarSource, e.g. `{ secretKeyRef: { name, key } }`. Compared by meaning (env-var-source.ts). */
  valueFrom?: unknown;
}

export type EnvVarMap = Record<string, EnvVar>;

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parse one `--env-variable` flag. Splits on the FIRST `:` so values may contain `:`;
 * `NAME:` (empty value) means "delete NAME from the group".
 *
 * @example parseEnvVariableFlag('MM_URL:https://x:8065') // ['MM_URL', { value: 'https://x:8065' }]
 */
export function parseEnvVariableFlag(flag: string): [string, EnvVar] {
  const at = flag.indexOf(':');
  if (at <= 0) {
    throw badRequest(
      `environment variable "${flag}" must look like NAME:VALUE (or NAME: to delete NAME), e.g. --env-variable MM_FEATUREFLAGS_X:true`,
    );
  }
  const name = flag.slice(0, at);
  if (!NAME_PATTERN.test(name)) {
    throw badRequest(`environment variable name "${name}" is not valid: use letters, digits and underscores, not starting with a digit`);
  }
  return [name, { value: flag.slice(at + 1) }];
}

export function parseEnvVariableFlags(flags: readonly string[]): EnvVarMap | null {
  if (flags.length === 0) return null;
  const map: EnvVarMap = {};
  for (const flag of flags) {
    const [name, value] = parseEnvVariableFlag(flag);
    map[name] = value;
  }
  return map;
}

/** An entry that deletes its key when patched onto a group (provisioner ClearOrPatch rules). */
export function isDeletion(entry: EnvVar): boolean {
  return (entry.value === undefined || entry.value === '') && entry.valueFrom === undefined;
}

/** Same value, or the same `valueFrom` source however it is spelled (see env-var-source.ts). */
function sameEntry(a: EnvVar | undefined, b: EnvVar | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (a.value ?? '') === (b.value ?? '') && sameValueFrom(a.valueFrom, b.valueFrom);
}

function entryOf(env: EnvVarMap | null, name: string): EnvVar | undefined {
  return env !== null && Object.hasOwn(env, name) ? env[name] : undefined;
}

/**
 * The group's env after a release's env changes are merged into it: entries with a value or valueFrom add or
 * replace, deletions remove, names not mentioned are kept. `changes === null` means "no env change".
 */
export function mergeEnv(current: EnvVarMap | null, changes: EnvVarMap | null): EnvVarMap {
  const merged: EnvVarMap = { ...(current ?? {}) };
  for (const [name, entry] of Object.entries(changes ?? {})) {
    if (isDeletion(entry)) delete merged[name];
    else merged[name] = entry;
  }
  return merged;
}

/** Names whose entries differ between two env maps, sorted; `valueFrom` compared by meaning; `null` equals `{}`. */
export function envDifferences(a: EnvVarMap | null, b: EnvVarMap | null): string[] {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].filter((key) => !sameEntry(entryOf(a, key), entryOf(b, key))).sort();
}

/** Full comparison of two env maps, `valueFrom` included (by meaning); `null` equals `{}`. */
export function envEqual(a: EnvVarMap | null, b: EnvVarMap | null): boolean {
  return envDifferences(a, b).length === 0;
}

/**
 * The `MattermostEnv` of the PUT that carries `changes` to a group whose env is `current`: only the entries
 * that change something, or null when none does (null leaves the env alone; `{}` would clear it all).
 * A deletion is sent only for a name the group has: a group whose env is null takes the patch as it is
 * (ClearOrPatch), so a deletion of a name it lacks would be stored as that name with no value.
 * An entry the group already has is not sent again: the provisioner counts any re-sent valueFrom as changed.
 */
export function envPatch(current: EnvVarMap | null, changes: EnvVarMap | null): EnvVarMap | null {
  const patch: EnvVarMap = {};
  for (const [name, entry] of Object.entries(changes ?? {})) {
    const old = entryOf(current, name);
    if (isDeletion(entry) ? old !== undefined : !sameEntry(old, entry)) patch[name] = entry;
  }
  return Object.keys(patch).length > 0 ? patch : null;
}

/** True when applying `changes` to a group whose env is `current` would change it. */
export function envChangesApply(current: EnvVarMap | null, changes: EnvVarMap | null): boolean {
  return envPatch(current, changes) !== null;
}

/** Stable JSON (sorted keys) so equal env maps give equal strings; `null` for no change. */
export function canonicalEnv(env: EnvVarMap | null): string | null {
  if (env === null || Object.keys(env).length === 0) return null;
  const sorted: EnvVarMap = {};
  for (const key of Object.keys(env).sort()) {
    const entry = env[key] as EnvVar;
    sorted[key] = entry.valueFrom === undefined ? { value: entry.value ?? '' } : { ...entry };
  }
  return JSON.stringify(sorted);
}

export interface EnvDiff {
  added: Record<string, EnvVar>;
  changed: Record<string, { from: EnvVar; to: EnvVar }>;
  deleted: string[];
}

/** What applying `changes` does to `current`, for plans and cards. */
export function diffEnv(current: EnvVarMap | null, changes: EnvVarMap | null): EnvDiff {
  const before = current ?? {};
  const after = mergeEnv(current, changes);
  const diff: EnvDiff = { added: {}, changed: {}, deleted: [] };
  for (const [name, entry] of Object.entries(after)) {
    const old = before[name];
    if (old === undefined) diff.added[name] = entry;
    else if (!sameEntry(old, entry)) diff.changed[name] = { from: old, to: entry };
  }
  for (const name of Object.keys(before)) if (!(name in after)) diff.deleted.push(name);
  return diff;
}

/** How an env value is shown to people: through the one redaction rule ({@link redact}), valueFrom described. */
export function displayEnvValue(name: string, entry: EnvVar): string {
  if (entry.valueFrom !== undefined) return `(from ${JSON.stringify(entry.valueFrom)})`;
  return redact(entry.value ?? '', name);
}

/**
 * Validate an env map that arrived over the wire (REST body). Returns the map, or throws naming the bad key.
 * An entry that is `null` is a deletion, as Go's encoding/json decodes it: a null into the `EnvVar` struct
 * of mattermost-cloud's `EnvVarMap` leaves the zero value (no value, no valueFrom), which `ClearOrPatch` deletes.
 */
export function validateEnvMap(input: unknown, field = 'EnvVariables'): EnvVarMap | null {
  if (input === null || input === undefined) return null;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw badRequest(`${field} must be an object like {"NAME":{"value":"v"}}`);
  }
  const out: EnvVarMap = {};
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    if (!NAME_PATTERN.test(name)) throw badRequest(`${field}: "${name}" is not a valid variable name`);
    if (raw === null) {
      out[name] = {};
      continue;
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw badRequest(`${field}.${name} must be an object like {"value":"v"} ({"value":""} or null deletes it)`);
    }
    const entry = raw as Record<string, unknown>;
    const value = entry.value ?? entry.Value;
    const valueFrom = entry.valueFrom ?? entry.ValueFrom;
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw badRequest(`${field}.${name}.value must be a string`);
    }
    if (typeof value === 'string' && containsRedactionMarker(value)) {
      throw badRequest(`${field}.${name}.value is Elrond's redaction marker (${REDACTED}), read back from a plan, card or history: send the real value, or leave ${name} out to keep the group's current one`);
    }
    out[name] = {
      ...(typeof value === 'string' ? { value } : {}),
      ...(valueFrom !== undefined && valueFrom !== null ? { valueFrom } : {}),
    };
  }
  return Object.keys(out).length === 0 ? null : out;
}
