/**
 * Pure helpers of the fake provisioner: status formulas (A.6), DTO shaping (A.3), the
 * group-config merge of installations (A.8), paging (A.1) and IDs (A.1).
 */
import { canonicalJson } from './decode.js';
import {
  InstallationState,
  PENDING_DELETION_STATES,
  type Annotation,
  type EnvVarMap,
  type Group,
  type GroupDTO,
  type GroupStatus,
  type Installation,
} from './types.js';

/** Alphabet of the provisioner's `NewID` (base32 of a UUID, lowercase). */
const ID_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** A 26-character `[a-z0-9]` ID drawn from `random` (a function returning [0, 1)). */
export function newId(random: () => number): string {
  let id = '';
  for (let i = 0; i < 26; i++) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)] ?? 'y';
  return id;
}

/** mulberry32: a tiny seedable PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** True when the installation is live (`DeleteAt == 0`) and in the group. */
export function isMember(installation: Installation, groupId: string): boolean {
  return installation.DeleteAt === 0 && installation.GroupID === groupId;
}

/** `stable` but not at the group's sequence (`GroupSequence` null or different). */
export function isAwaitingUpdate(installation: Installation, sequence: number): boolean {
  return installation.State === InstallationState.Stable && installation.GroupSequence !== sequence;
}

/** States that do not count as "rolling" for the group supervisor. */
export function isSettledForSupervisor(state: string): boolean {
  return (
    state === InstallationState.Stable ||
    state === InstallationState.Hibernating ||
    PENDING_DELETION_STATES.includes(state)
  );
}

/**
 * GroupStatus with exactly the formulas of A.6. `members` must already be the live members.
 * Updating = Total − Updated − AwaitingUpdate − Hibernating − PendingDeletion, so failed
 * states such as `update-failed` count as Updating.
 */
export function computeStatus(members: readonly Installation[], sequence: number): GroupStatus {
  const count = (pred: (i: Installation) => boolean): number => members.filter(pred).length;
  const total = members.length;
  const updated = count((i) => i.State === InstallationState.Stable && i.GroupSequence === sequence);
  const awaiting = count((i) => isAwaitingUpdate(i, sequence));
  const hibernating = count((i) => i.State === InstallationState.Hibernating);
  const pendingDeletion = count((i) => PENDING_DELETION_STATES.includes(i.State));
  return {
    InstallationsTotal: total,
    InstallationsUpdated: updated,
    InstallationsUpdating: total - updated - awaiting - hibernating - pendingDeletion,
    InstallationsHibernating: hibernating,
    InstallationsPendingDeletion: pendingDeletion,
    InstallationsAwaitingUpdate: awaiting,
  };
}

/** A copy of an env map with its keys sorted, as `json.Marshal` writes a Go map. */
function sortedEnv(env: EnvVarMap | null): EnvVarMap | null {
  if (env === null) return null;
  return Object.fromEntries(Object.keys(env).sort().map((key) => [key, structuredClone(env[key])])) as EnvVarMap;
}

/** A GroupDTO in Go field order; `Scheduling` omitted when unset, `annotations` null when none. */
export function toGroupDTO(group: Group, annotations: readonly Annotation[], installationCount?: number): GroupDTO {
  const dto: GroupDTO = {
    ID: group.ID,
    Sequence: group.Sequence,
    Name: group.Name,
    Description: group.Description,
    Version: group.Version,
    Image: group.Image,
    MaxRolling: group.MaxRolling,
    MattermostEnv: sortedEnv(group.MattermostEnv),
    ...(group.Scheduling !== undefined ? { Scheduling: structuredClone(group.Scheduling) } : {}),
    CreateAt: group.CreateAt,
    DeleteAt: group.DeleteAt,
    APISecurityLock: group.APISecurityLock,
    LockAcquiredBy: group.LockAcquiredBy,
    LockAcquiredAt: group.LockAcquiredAt,
    annotations: annotations.length > 0 ? structuredClone([...annotations]) : null,
  };
  if (installationCount !== undefined) dto.installation_count = installationCount;
  return dto;
}

/** The fields of a group whose change bumps `Sequence` (A.4 step 3), as comparable JSON. */
export function versionedFingerprint(group: Group): string {
  return canonicalJson([group.Version, group.Image, group.MattermostEnv, group.Scheduling ?? null]);
}

/**
 * The installation as served with `include_group_config=true` (the server default): a
 * non-empty group Version/Image wins, and group env vars override the installation's.
 */
export function mergeWithGroup(installation: Installation, group: Group | undefined): Installation {
  const merged = structuredClone(installation);
  if (group === undefined || installation.GroupID !== group.ID) return merged;
  if (group.Version !== '') merged.Version = group.Version;
  if (group.Image !== '') merged.Image = group.Image;
  if (group.MattermostEnv !== null && Object.keys(group.MattermostEnv).length > 0) {
    const env: EnvVarMap = { ...(merged.MattermostEnv ?? {}), ...structuredClone(group.MattermostEnv) };
    merged.MattermostEnv = env;
  }
  return merged;
}

/** The wire form of an installation: `GroupSequence` is `omitempty`. */
export function installationToWire(installation: Installation): Record<string, unknown> {
  const { GroupSequence, ...rest } = installation;
  const wire: Record<string, unknown> = { ...rest };
  if (GroupSequence !== null) wire['GroupSequence'] = GroupSequence;
  return wire;
}

/** Paging options (A.1): `perPage == -1` returns everything. */
export interface Paging {
  page: number;
  perPage: number;
  includeDeleted: boolean;
}

/** Applies paging to an already ordered list. */
export function paginate<T>(items: readonly T[], paging: Paging): T[] {
  if (paging.perPage === -1) return [...items];
  const start = paging.page * paging.perPage;
  return items.slice(start, start + paging.perPage);
}
