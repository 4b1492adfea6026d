import type { EnvVar, EnvVarMap } from '../model/env-vars.js';

/** A `PatchGroupRequest` (mattermost-cloud model/group_request.go): null = leave that field alone. */
export interface GroupPatch {
  Name?: string | null;
  Description?: string | null;
  Version?: string | null;
  Image?: string | null;
  MaxRolling?: number | null;
  MattermostEnv?: EnvVarMap | null;
  ForceSequenceUpdate?: boolean;
  ForceInstallationsRestart?: boolean;
}

/** The group fields a patch can change. */
export interface PatchableGroup {
  Sequence: number;
  Name: string;
  Description: string;
  Version: string;
  Image: string;
  MaxRolling: number;
  MattermostEnv: EnvVarMap | null;
}

/** `PatchGroupRequest.Validate`: a blank name or a negative MaxRolling is refused (400). Env is not validated. */
export function patchProblem(patch: GroupPatch): string | null {
  if (patch.Name !== undefined && patch.Name !== null && patch.Name.length === 0) return 'provided name update value was blank';
  if (patch.MaxRolling !== undefined && patch.MaxRolling !== null && !(Number.isInteger(patch.MaxRolling) && patch.MaxRolling >= 0)) return 'max rolling must be 0 or greater';
  return null;
}

/** `EnvVar.HasValue`: a non-empty value or any valueFrom. */
function hasValue(entry: EnvVar): boolean {
  return (entry.value ?? '') !== '' || entry.valueFrom !== undefined;
}

/** An entry as Go stores and re-sends it: `value` and `valueFrom` are `omitempty`. */
function goEntry(entry: EnvVar): EnvVar {
  return { ...(entry.value ? { value: entry.value } : {}), ...(entry.valueFrom !== undefined ? { valueFrom: structuredClone(entry.valueFrom) } : {}) };
}

/**
 * `EnvVarMap.ClearOrPatch` then `EnvVarMap.Patch` (model/env.go): a nil map takes the patch as it is (blank
 * entries included); `{}` clears; a blank entry deletes its name; other entries add or replace; names not
 * mentioned are kept. "Changed" follows Go's `oldEnv != newEnv`, where `ValueFrom` is a pointer: an entry with a
 * valueFrom always counts as changed.
 */
export function clearOrPatchEnv(current: EnvVarMap | null, patch: EnvVarMap): { env: EnvVarMap | null; changed: boolean } {
  const names = Object.keys(patch);
  if (current === null) {
    if (names.length === 0) return { env: null, changed: false };
    return { env: Object.fromEntries(names.map((name) => [name, goEntry(patch[name]!)])), changed: true };
  }
  if (names.length === 0) return { env: null, changed: Object.keys(current).length !== 0 };
  const env: EnvVarMap = structuredClone(current);
  let changed = false;
  for (const name of names) {
    const entry = goEntry(patch[name]!);
    const old = env[name];
    if (old !== undefined) {
      if (!hasValue(entry)) {
        delete env[name];
        changed = true;
      } else if (old.valueFrom !== undefined || entry.valueFrom !== undefined || old.value !== entry.value) {
        env[name] = entry;
        changed = true;
      }
    } else if (hasValue(entry)) {
      env[name] = entry;
      changed = true;
    }
  }
  return { env, changed };
}

/** JSON with sorted keys: Go marshals maps sorted, so this is how `store.UpdateGroup` compares env maps. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const FORCE_RESTART_VAR = 'CLOUD_PROVISIONER_ENFORCED_RESTART';

/**
 * Apply a patch the way `handleUpdateGroup` does: `PatchGroupRequest.Apply` copies what differs, and when
 * anything applied `store.UpdateGroup` bumps `Sequence` if Version, Image or MattermostEnv (as JSON) changed or
 * ForceSequenceUpdate is set — never for Name, Description or MaxRolling. Mutates `group`; says what happened.
 */
export function applyGroupPatch(group: PatchableGroup, patch: GroupPatch): { applied: boolean; sequenceBumped: boolean } {
  const before = { Version: group.Version, Image: group.Image, env: canonicalJson(group.MattermostEnv) };
  let applied = false;
  const set = <K extends 'Name' | 'Description' | 'Version' | 'Image' | 'MaxRolling'>(key: K, value: PatchableGroup[K] | null | undefined) => {
    if (value !== null && value !== undefined && value !== group[key]) {
      group[key] = value;
      applied = true;
    }
  };
  set('Name', patch.Name);
  set('Description', patch.Description);
  set('Version', patch.Version);
  set('Image', patch.Image);
  set('MaxRolling', patch.MaxRolling);
  if (patch.MattermostEnv !== null && patch.MattermostEnv !== undefined) {
    const result = clearOrPatchEnv(group.MattermostEnv, patch.MattermostEnv);
    group.MattermostEnv = result.env;
    applied ||= result.changed;
  }
  if (patch.ForceSequenceUpdate) applied = true;
  if (patch.ForceInstallationsRestart) {
    // Go writes into the map (a nil one would panic); an empty map is made here instead.
    group.MattermostEnv = { ...(group.MattermostEnv ?? {}), [FORCE_RESTART_VAR]: { value: `force-restart-at-sequence-${group.Sequence}` } };
    applied = true;
  }
  if (!applied) return { applied, sequenceBumped: false };
  const bump =
    Boolean(patch.ForceSequenceUpdate) || before.Version !== group.Version || before.Image !== group.Image || before.env !== canonicalJson(group.MattermostEnv);
  if (bump) group.Sequence += 1;
  return { applied, sequenceBumped: bump };
}
