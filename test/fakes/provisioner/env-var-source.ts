/**
 * An env var's `valueFrom` as the provisioner stores it: Go's `encoding/json` decodes it into
 * `*corev1.EnvVarSource` (k8s.io/api v0.33.1, the version in mattermost-cloud's go.mod, `core/v1/types.go`)
 * and `json.Marshal` writes it back. So what a client sent comes back
 * - in struct field order: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef`; inside a key ref
 *   `name` (the inlined `LocalObjectReference`), `key`, `optional`; `apiVersion` before `fieldPath`;
 *   `containerName`, `resource`, `divisor`;
 * - with `omitempty` fields left out when empty (`name`, `apiVersion`, `containerName`, nil pointers) and the
 *   others always present (`key`, `fieldPath`, `resource`, and `divisor`: a struct, so `"0"` when unset);
 * - with keys matched case-insensitively, unknown keys dropped, `null` meaning "not set", and the divisor in
 *   its canonical quantity form. A wrongly typed field fails the decode (the handler answers 400).
 */
import { HttpStatusError, type JsonObject } from './types.js';
import { reencodeQuantity } from './quantity.js';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's field lookup: the key that folds to the field name; the last such key wins. */
function field(obj: JsonObject, name: string): unknown {
  let found: unknown;
  for (const [key, value] of Object.entries(obj)) if (key.toLowerCase() === name.toLowerCase()) found = value;
  return found;
}

function typeError(path: string, want: string): never {
  throw new HttpStatusError(400, `json: cannot unmarshal into Go struct field ${path} of type ${want}`);
}

/** A `string` field: null leaves it "" (its zero value). */
function stringField(obj: JsonObject, name: string, path: string): string {
  const value = field(obj, name);
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') typeError(`${path}.${name}`, 'string');
  return value;
}

/** A pointer-to-struct field: absent or null is nil. */
function structField(obj: JsonObject, name: string, path: string): JsonObject | undefined {
  const value = field(obj, name);
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) typeError(`${path}.${name}`, 'struct');
  return value;
}

/** `ObjectFieldSelector`: `apiVersion,omitempty`, `fieldPath`. */
function objectFieldSelector(raw: JsonObject): JsonObject {
  const apiVersion = stringField(raw, 'apiVersion', 'fieldRef');
  return { ...(apiVersion !== '' ? { apiVersion } : {}), fieldPath: stringField(raw, 'fieldPath', 'fieldRef') };
}

/** `ResourceFieldSelector`: `containerName,omitempty`, `resource`, `divisor` (a Quantity, never omitted). */
function resourceFieldSelector(raw: JsonObject): JsonObject {
  const containerName = stringField(raw, 'containerName', 'resourceFieldRef');
  const divisor = field(raw, 'divisor');
  let quantity = '0';
  // Quantity.UnmarshalJSON: null is zero; a quoted string or a bare JSON number is parsed.
  if (typeof divisor === 'string') quantity = reencodeQuantity(divisor.trim());
  else if (typeof divisor === 'number') quantity = reencodeQuantity(String(divisor));
  else if (divisor !== undefined && divisor !== null) typeError('resourceFieldRef.divisor', 'resource.Quantity');
  return { ...(containerName !== '' ? { containerName } : {}), resource: stringField(raw, 'resource', 'resourceFieldRef'), divisor: quantity };
}

/** `ConfigMapKeySelector` / `SecretKeySelector`: inlined `name,omitempty`, `key`, `optional` (*bool, omitempty). */
function keySelector(raw: JsonObject, path: string): JsonObject {
  const name = stringField(raw, 'name', path);
  const optional = field(raw, 'optional');
  if (optional !== undefined && optional !== null && typeof optional !== 'boolean') typeError(`${path}.optional`, 'bool');
  return { ...(name !== '' ? { name } : {}), key: stringField(raw, 'key', path), ...(typeof optional === 'boolean' ? { optional } : {}) };
}

/** `json.Unmarshal` into `corev1.EnvVarSource`, then `json.Marshal`. */
export function reencodeEnvVarSource(raw: JsonObject): JsonObject {
  const fieldRef = structField(raw, 'fieldRef', 'valueFrom');
  const resourceFieldRef = structField(raw, 'resourceFieldRef', 'valueFrom');
  const configMapKeyRef = structField(raw, 'configMapKeyRef', 'valueFrom');
  const secretKeyRef = structField(raw, 'secretKeyRef', 'valueFrom');
  return {
    ...(fieldRef ? { fieldRef: objectFieldSelector(fieldRef) } : {}),
    ...(resourceFieldRef ? { resourceFieldRef: resourceFieldSelector(resourceFieldRef) } : {}),
    ...(configMapKeyRef ? { configMapKeyRef: keySelector(configMapKeyRef, 'configMapKeyRef') } : {}),
    ...(secretKeyRef ? { secretKeyRef: keySelector(secretKeyRef, 'secretKeyRef') } : {}),
  };
}
