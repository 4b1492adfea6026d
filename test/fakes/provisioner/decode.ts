/**
 * Request decoding and env-var rules of the fake provisioner, mirroring Go's `encoding/json`
 * and `model/env.go` / `model/group_request.go` (provisioner-api.md A.3-A.5).
 *
 * Go quirks kept on purpose:
 * - keys match struct fields case-insensitively (`{"version":"x"}` sets `Version`);
 * - `null` and an absent key are the same for pointer, map and slice fields;
 * - an empty body decodes to the zero request (`io.EOF` is ignored), then validation runs;
 * - a wrongly typed field (e.g. `"MaxRolling":"2"`) is a decode error → 400.
 */
import { HttpStatusError, type EnvVar, type EnvVarMap, type JsonObject } from './types.js';
import { reencodeEnvVarSource } from './env-var-source.js';

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badRequest(message: string): never {
  throw new HttpStatusError(400, message);
}

/** Go matches JSON keys to fields case-insensitively; the last matching key wins. */
function goField(obj: JsonObject, name: string): unknown {
  const wanted = name.toLowerCase();
  let found: unknown = undefined;
  for (const [key, value] of Object.entries(obj)) {
    if (key.toLowerCase() === wanted) found = value;
  }
  return found;
}

function readString(obj: JsonObject, name: string): string | null {
  const value = goField(obj, name);
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') badRequest(`${name} must be a string`);
  return value;
}

function readInt(obj: JsonObject, name: string): number | null {
  const value = goField(obj, name);
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) badRequest(`${name} must be an integer`);
  return value;
}

function readBool(obj: JsonObject, name: string): boolean {
  const value = goField(obj, name);
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') badRequest(`${name} must be a boolean`);
  return value;
}

function readObject(obj: JsonObject, name: string): JsonObject | null {
  const value = goField(obj, name);
  if (value === undefined || value === null) return null;
  if (!isObject(value)) badRequest(`${name} must be an object`);
  return value;
}

function readStringArray(obj: JsonObject, name: string): string[] {
  const value = goField(obj, name);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    badRequest(`${name} must be an array of strings`);
  }
  return value;
}

/**
 * Decodes one `EnvVar` (`model/env.go`) and gives it back as Go re-encodes it: empty fields dropped
 * (`omitempty`), `valueFrom` through `corev1.EnvVarSource` (see env-var-source.ts). `null` decodes to `{}`.
 */
function decodeEnvVar(name: string, raw: unknown): EnvVar {
  if (raw === null) return {};
  if (!isObject(raw)) badRequest(`env var ${name} must be an object`);
  const value = readString(raw, 'value');
  const valueFrom = readObject(raw, 'valueFrom');
  const env: EnvVar = {};
  if (value !== null && value !== '') env.value = value;
  if (valueFrom !== null) env.valueFrom = reencodeEnvVarSource(valueFrom);
  return env;
}

/** Decodes an `EnvVarMap`; absent and `null` give null, `{}` gives an empty map. */
function readEnvMap(obj: JsonObject, name: string): EnvVarMap | null {
  const raw = readObject(obj, name);
  if (raw === null) return null;
  const env: EnvVarMap = {};
  for (const [key, value] of Object.entries(raw)) env[key] = decodeEnvVar(key, value);
  return env;
}

/** Turns a parsed body into the request object; an empty body is the zero request. */
function requestObject(body: unknown): JsonObject {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) badRequest('request body must be a JSON object');
  return body;
}

/** `EnvVar.HasValue`: a non-empty value or any valueFrom. */
export function hasValue(env: EnvVar): boolean {
  return (env.value ?? '') !== '' || env.valueFrom !== undefined;
}

/** JSON with object keys sorted, used to compare values the way Go's marshalled JSON does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `EnvVar != EnvVar` as `EnvVarMap.Patch` compares entries: Go compares the `ValueFrom` pointers, and two
 * decoded values are never the same pointer, so any entry with a valueFrom on either side counts as changed.
 */
function goEnvVarDiffers(old: EnvVar, next: EnvVar): boolean {
  return (old.value ?? '') !== (next.value ?? '') || old.valueFrom !== undefined || next.valueFrom !== undefined;
}

/**
 * `EnvVarMap.ClearOrPatch` (A.5): `{}` clears, a value-less entry deletes its key, other
 * entries add or replace, unmentioned keys are kept. Like Go, a nil map adopts the patch
 * wholesale (`*em = *input`: value-less entries included, stored as blank entries).
 * Returns the new map and whether `Patch` reported a change; whether the group's Sequence
 * moves is decided afterwards on the JSON, as `store.UpdateGroup` does (see patchGroup).
 */
export function clearOrPatchEnv(
  current: EnvVarMap | null,
  patch: EnvVarMap,
): { env: EnvVarMap | null; changed: boolean } {
  const patchKeys = Object.keys(patch);
  if (current === null) {
    return patchKeys.length === 0 ? { env: null, changed: false } : { env: structuredClone(patch), changed: true };
  }
  if (patchKeys.length === 0) return { env: null, changed: Object.keys(current).length !== 0 };
  const env = structuredClone(current);
  let changed = false;
  for (const [key, entry] of Object.entries(patch)) {
    const old = env[key];
    if (!hasValue(entry)) {
      if (old !== undefined) {
        delete env[key];
        changed = true;
      }
    } else if (old === undefined || goEnvVarDiffers(old, entry)) {
      env[key] = structuredClone(entry);
      changed = true;
    }
  }
  return { env, changed };
}

const ANNOTATION_NAME = /^[a-z]+[a-z0-9_-]*$/;

/** Annotation names must match `^[a-z]+[a-z0-9_-]*$` and be 3-64 characters long. */
export function validateAnnotationNames(names: readonly string[]): void {
  for (const name of names) {
    if (name.length < 3 || name.length > 64 || !ANNOTATION_NAME.test(name)) {
      badRequest(`invalid annotation name ${JSON.stringify(name)}`);
    }
  }
}

/** `CreateGroupRequest` after decoding and validation. */
export interface CreateGroupRequest {
  Name: string;
  Description: string;
  Version: string;
  Image: string;
  MaxRolling: number;
  APISecurityLock: boolean;
  MattermostEnv: EnvVarMap | null;
  Scheduling: JsonObject | null;
  Annotations: string[];
}

/** Decodes and validates a create body: non-empty Name, MaxRolling ≥ 0, every env var valued. */
export function decodeCreateGroup(body: unknown): CreateGroupRequest {
  const obj = requestObject(body);
  const request: CreateGroupRequest = {
    Name: readString(obj, 'Name') ?? '',
    Description: readString(obj, 'Description') ?? '',
    Version: readString(obj, 'Version') ?? '',
    Image: readString(obj, 'Image') ?? '',
    MaxRolling: readInt(obj, 'MaxRolling') ?? 0,
    APISecurityLock: readBool(obj, 'APISecurityLock'),
    MattermostEnv: readEnvMap(obj, 'MattermostEnv'),
    Scheduling: readObject(obj, 'Scheduling'),
    Annotations: readStringArray(obj, 'Annotations'),
  };
  if (request.Name === '') badRequest('must specify name');
  if (request.MaxRolling < 0) badRequest('max rolling must be 0 or greater');
  for (const [key, env] of Object.entries(request.MattermostEnv ?? {})) {
    if (!hasValue(env)) badRequest(`invalid env var ${key}: no value or valueFrom is defined`);
  }
  validateAnnotationNames(request.Annotations);
  return request;
}

/** `PatchGroupRequest` after decoding; null means "not set" for pointer fields. */
export interface PatchGroupRequest {
  MaxRolling: number | null;
  Name: string | null;
  Description: string | null;
  Version: string | null;
  Image: string | null;
  MattermostEnv: EnvVarMap | null;
  Scheduling: JsonObject | null;
  ForceSequenceUpdate: boolean;
  ForceInstallationsRestart: boolean;
}

/** Decodes and validates a patch body: Name must not be "" and MaxRolling must be ≥ 0. */
export function decodePatchGroup(body: unknown): PatchGroupRequest {
  const obj = requestObject(body);
  const request: PatchGroupRequest = {
    MaxRolling: readInt(obj, 'MaxRolling'),
    Name: readString(obj, 'Name'),
    Description: readString(obj, 'Description'),
    Version: readString(obj, 'Version'),
    Image: readString(obj, 'Image'),
    MattermostEnv: readEnvMap(obj, 'MattermostEnv'),
    Scheduling: readObject(obj, 'Scheduling'),
    ForceSequenceUpdate: readBool(obj, 'ForceSequenceUpdate'),
    ForceInstallationsRestart: readBool(obj, 'ForceInstallationsRestart'),
  };
  if (request.Name === '') badRequest('provided name update value was blank');
  if (request.MaxRolling !== null && request.MaxRolling < 0) badRequest('max rolling must be 0 or greater');
  return request;
}

/** Decodes `{"annotations":[...]}` for `POST /api/group/{id}/annotations`. */
export function decodeAddAnnotations(body: unknown): string[] {
  const names = readStringArray(requestObject(body), 'annotations');
  if (names.length === 0) badRequest('must specify at least one annotation');
  validateAnnotationNames(names);
  return names;
}

/** Decodes `{"GroupSelectionAnnotations":[...]}` for the assign route. */
export function decodeAssignGroup(body: unknown): string[] {
  const names = readStringArray(requestObject(body), 'GroupSelectionAnnotations');
  if (names.length === 0) badRequest('must specify at least one annotation');
  return names;
}

/** `CreateWebhookRequest` after decoding and validation. */
export interface CreateWebhookRequest {
  OwnerID: string;
  URL: string;
  Headers: { key: string; value?: string; value_from_env?: string }[] | null;
}

function decodeWebhookHeaders(raw: unknown): CreateWebhookRequest['Headers'] {
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) badRequest('Headers must be an array');
  return raw.map((item: unknown) => {
    if (!isObject(item)) badRequest('each header must be an object');
    const key = readString(item, 'key') ?? '';
    const value = readString(item, 'value');
    const fromEnv = readString(item, 'value_from_env');
    if (key === '' || (value === null) === (fromEnv === null)) badRequest('header needs a key and one of value/value_from_env');
    return value !== null ? { key, value } : { key, value_from_env: fromEnv ?? '' };
  });
}

/** Decodes `POST /api/webhooks`: OwnerID required, URL must be http(s). */
export function decodeCreateWebhook(body: unknown): CreateWebhookRequest {
  const obj = requestObject(body);
  const request: CreateWebhookRequest = {
    OwnerID: readString(obj, 'OwnerID') ?? '',
    URL: readString(obj, 'URL') ?? '',
    Headers: decodeWebhookHeaders(goField(obj, 'Headers')),
  };
  if (request.OwnerID === '') badRequest('must specify owner');
  let protocol = '';
  try {
    protocol = new URL(request.URL).protocol;
  } catch {
    badRequest('invalid URL');
  }
  if (protocol !== 'http:' && protocol !== 'https:') badRequest('URL must be http or https');
  return request;
}
