/**
 * In-memory state of the fake provisioner: groups, installations and annotations,
 * with the domain rules of provisioner-api.md A.2-A.6. Operations throw `HttpStatusError`
 * (400/403/404/409) that the HTTP layer turns into empty-body replies.
 */
import { canonicalJson, clearOrPatchEnv, type CreateGroupRequest, type PatchGroupRequest } from './decode.js';
import {
  computeStatus,
  isMember,
  mergeWithGroup,
  paginate,
  toGroupDTO,
  versionedFingerprint,
  type Paging,
} from './model.js';
import { ROLLABLE_STATES, settleMembers, supervisorPass, type RolloutView } from './rollout.js';
import {
  HttpStatusError,
  InstallationState,
  type Annotation,
  type EnvVarMap,
  type Group,
  type GroupDTO,
  type GroupStatus,
  type GroupsStatusEntry,
  type Installation,
  type StateChange,
} from './types.js';

/** What the store needs from its owner. */
export interface StoreDeps {
  now: () => number;
  newId: () => string;
  onStateChange: (change: StateChange) => void;
  /**
   * Runs `settle` after `delayMs` of real time. Given only when the fake runs on the real clock: a timed rollout then
   * ends on its own at the due time (and its webhooks go out then), as on a real provisioner; on an injected clock it
   * settles when a request, a tick or an accessor finds it due.
   */
  schedule?: (delayMs: number, settle: () => void) => void;
}

/** Options of {@link ProvisionerStore.addInstallation}. */
export interface AddInstallationOptions {
  /** Group to join (null/absent: no group). */
  groupId?: string | null;
  /** Initial state; default `stable`. */
  state?: string;
  name?: string;
  ownerId?: string;
  version?: string;
  image?: string;
  mattermostEnv?: EnvVarMap | null;
  /** Default null (never rolled by the group, so it counts as awaiting update). */
  groupSequence?: number | null;
  apiSecurityLock?: boolean;
}

/** Filter of `GET /api/installations`. */
export interface InstallationFilter extends Paging {
  groupId?: string;
  state?: string;
  ownerId?: string;
  name?: string;
}

interface GroupRecord {
  group: Group;
  annotations: Annotation[];
  order: number;
  /** Fake-clock time at which a timed rollout (`rolloutDurationMs`) completes. */
  settleAt: number | null;
}

interface InstallationRecord {
  installation: Installation;
  order: number;
  rowLocked: boolean;
}

const LEAVE_ALLOWED_STATES: readonly string[] = [...ROLLABLE_STATES, InstallationState.UpdateFailed];

function fail(status: number, message: string): never {
  throw new HttpStatusError(status, message);
}

function byOrder<T extends { order: number }>(a: T, b: T): number {
  return a.order - b.order;
}

/** The fake provisioner's state and domain rules. */
export class ProvisionerStore {
  /** When true, a sequence bump immediately settles the group (see FakeProvisioner). */
  settleInstantly = false;
  /** When set, a sequence bump settles the group this many ms (fake clock) later. */
  rolloutDurationMs: number | null = null;

  private readonly groupRecords = new Map<string, GroupRecord>();
  private readonly installationRecords = new Map<string, InstallationRecord>();
  private readonly annotationIdsByName = new Map<string, string>();
  private counter = 0;

  private readonly rolloutView: RolloutView = {
    liveInstallations: () => this.sortedInstallations().map((r) => r.installation).filter((i) => i.DeleteAt === 0),
    groups: () => this.sortedGroups().map((r) => r.group),
    group: (id) => this.groupRecords.get(id)?.group,
    members: (groupId) => this.members(groupId),
    transition: (installation, state, options) => this.transition(installation, state, options),
  };

  constructor(private readonly deps: StoreDeps) {}

  // ---------------------------------------------------------------- groups

  /** `POST /api/groups` after decoding. */
  createGroup(request: CreateGroupRequest): GroupDTO {
    const group: Group = {
      ID: this.deps.newId(),
      Sequence: 0,
      Name: request.Name,
      Description: request.Description,
      Version: request.Version,
      Image: request.Image,
      MaxRolling: request.MaxRolling,
      MattermostEnv: structuredClone(request.MattermostEnv),
      ...(request.Scheduling !== null ? { Scheduling: structuredClone(request.Scheduling) } : {}),
      CreateAt: this.deps.now(),
      DeleteAt: 0,
      APISecurityLock: request.APISecurityLock,
      LockAcquiredBy: null,
      LockAcquiredAt: 0,
    };
    const record: GroupRecord = { group, annotations: [], order: this.counter++, settleAt: null };
    this.attachAnnotations(record, request.Annotations);
    this.groupRecords.set(group.ID, record);
    return toGroupDTO(group, record.annotations);
  }

  /** `GET /api/group/{id}`; soft-deleted groups are returned too. */
  getGroup(id: string): GroupDTO {
    const record = this.requireGroup(id);
    return toGroupDTO(record.group, record.annotations);
  }

  /** True when the group exists (deleted or not). */
  hasGroup(id: string): boolean {
    return this.groupRecords.has(id);
  }

  /** `GET /api/groups`, ordered `CreateAt ASC`. */
  listGroups(paging: Paging, withInstallationCount: boolean): GroupDTO[] {
    const records = this.sortedGroups().filter((r) => paging.includeDeleted || r.group.DeleteAt === 0);
    return paginate(records, paging).map((r) =>
      toGroupDTO(r.group, r.annotations, withInstallationCount ? this.members(r.group.ID).length : undefined),
    );
  }

  /** `PUT /api/group/{id}`: A.4 patch semantics; returns the group after the patch. */
  patchGroup(id: string, patch: PatchGroupRequest): GroupDTO {
    const record = this.requireUnlockedGroup(id);
    const before = record.group;
    const next = structuredClone(before);
    let applied = false;
    const set = <K extends 'Name' | 'Description' | 'Version' | 'Image' | 'MaxRolling'>(key: K, value: Group[K] | null) => {
      if (value !== null && value !== next[key]) {
        next[key] = value;
        applied = true;
      }
    };
    set('Name', patch.Name);
    set('Description', patch.Description);
    set('Version', patch.Version);
    set('Image', patch.Image);
    set('MaxRolling', patch.MaxRolling);
    if (patch.MattermostEnv !== null) {
      const result = clearOrPatchEnv(next.MattermostEnv, patch.MattermostEnv);
      next.MattermostEnv = result.env;
      applied ||= result.changed;
    }
    if (patch.Scheduling !== null && canonicalJson(patch.Scheduling) !== canonicalJson(next.Scheduling ?? null)) {
      next.Scheduling = structuredClone(patch.Scheduling);
      applied = true;
    }
    if (patch.ForceSequenceUpdate) applied = true;
    if (patch.ForceInstallationsRestart) {
      const value = `force-restart-at-sequence-${before.Sequence}`;
      next.MattermostEnv = { ...(next.MattermostEnv ?? {}), CLOUD_PROVISIONER_ENFORCED_RESTART: { value } };
      applied = true;
    }
    if (!applied) return toGroupDTO(before, record.annotations);
    // store.UpdateGroup: the Sequence moves only when Version, Image, the env JSON or Scheduling differ (or on
    // ForceSequenceUpdate), whatever PatchGroupRequest.Apply reported.
    const bump = patch.ForceSequenceUpdate || versionedFingerprint(next) !== versionedFingerprint(before);
    if (bump) next.Sequence = before.Sequence + 1;
    record.group = next;
    if (bump) this.onSequenceBump(record);
    return toGroupDTO(record.group, record.annotations);
  }

  /** `DELETE /api/group/{id}`: 403 while any live installation is a member. */
  deleteGroup(id: string): void {
    const record = this.requireUnlockedGroup(id);
    if (this.members(id).length > 0) fail(403, 'group still has installation members');
    if (record.group.DeleteAt === 0) record.group.DeleteAt = Math.max(1, this.deps.now());
  }

  /** `POST /api/group/{id}/annotations`. */
  addAnnotations(id: string, names: readonly string[]): GroupDTO {
    const record = this.requireUnlockedGroup(id);
    this.attachAnnotations(record, names);
    return toGroupDTO(record.group, record.annotations);
  }

  /** `DELETE /api/group/{id}/annotation/{name}` (a missing annotation is a no-op). */
  deleteAnnotation(id: string, name: string): void {
    const record = this.requireUnlockedGroup(id);
    record.annotations = record.annotations.filter((a) => a.Name !== name);
  }

  /** `POST /api/security/group/{id}/api/lock|unlock`. */
  setApiSecurityLock(id: string, locked: boolean): void {
    this.requireGroup(id).group.APISecurityLock = locked;
  }

  /** Test hook: hold (or release) the group's row lock, so mutating routes answer 409. */
  setGroupRowLock(id: string, locked: boolean): void {
    const group = this.requireGroup(id).group;
    group.LockAcquiredBy = locked ? this.deps.newId() : null;
    group.LockAcquiredAt = locked ? this.deps.now() : 0;
  }

  /** `GET /api/group/{id}/status`. */
  groupStatus(id: string): GroupStatus {
    const record = this.requireGroup(id);
    return computeStatus(this.members(id), record.group.Sequence);
  }

  /** `GET /api/groups/status`: 404 when there are no (live) groups at all. */
  groupsStatus(): GroupsStatusEntry[] {
    const live = this.sortedGroups().filter((r) => r.group.DeleteAt === 0);
    if (live.length === 0) fail(404, 'no groups');
    return live.map((r) => ({ ID: r.group.ID, Status: computeStatus(this.members(r.group.ID), r.group.Sequence) }));
  }

  // ---------------------------------------------------------- installations

  /** Test hook: adds an installation directly. */
  addInstallation(options: AddInstallationOptions = {}): Installation {
    const groupId = options.groupId ?? null;
    if (groupId !== null && !this.groupRecords.has(groupId)) throw new Error(`unknown group ${groupId}`);
    const order = this.counter++;
    const installation: Installation = {
      ID: this.deps.newId(),
      OwnerID: options.ownerId ?? 'owner',
      Name: options.name ?? `installation-${order}`,
      State: options.state ?? InstallationState.Stable,
      GroupID: groupId,
      GroupSequence: options.groupSequence ?? null,
      Version: options.version ?? '',
      Image: options.image ?? '',
      MattermostEnv: structuredClone(options.mattermostEnv ?? null),
      CreateAt: this.deps.now(),
      DeleteAt: 0,
      APISecurityLock: options.apiSecurityLock ?? false,
    };
    this.installationRecords.set(installation.ID, { installation, order, rowLocked: false });
    return structuredClone(installation);
  }

  /** `GET /api/installation/{iid}` (merged with its group's config unless told otherwise). */
  getInstallation(id: string, includeGroupConfig: boolean): Installation {
    return this.view(this.requireInstallation(id).installation, includeGroupConfig);
  }

  /** `GET /api/installations`, ordered by creation. */
  listInstallations(filter: InstallationFilter, includeGroupConfig: boolean): Installation[] {
    const matches = this.sortedInstallations()
      .map((r) => r.installation)
      .filter(
        (i) =>
          (filter.includeDeleted || i.DeleteAt === 0) &&
          (filter.groupId === undefined || i.GroupID === filter.groupId) &&
          (filter.state === undefined || i.State === filter.state) &&
          (filter.ownerId === undefined || i.OwnerID === filter.ownerId) &&
          (filter.name === undefined || i.Name === filter.name),
      );
    return paginate(matches, filter).map((i) => this.view(i, includeGroupConfig));
  }

  /** `PUT /api/installation/{iid}/group/{gid}`: only `GroupID` changes (sequence reset to null). */
  joinGroup(installationId: string, groupId: string): void {
    const installation = this.requireMutableInstallation(installationId);
    const group = this.requireGroup(groupId).group;
    if (group.DeleteAt !== 0) fail(400, 'group is deleted');
    if (installation.GroupID !== groupId) {
      installation.GroupID = groupId;
      installation.GroupSequence = null;
    }
  }

  /** `POST /api/installation/{iid}/group/assign`: the live group with all annotations and fewest members. */
  assignGroup(installationId: string, annotationNames: readonly string[]): void {
    this.requireMutableInstallation(installationId);
    const candidates = this.sortedGroups().filter(
      (r) => r.group.DeleteAt === 0 && annotationNames.every((n) => r.annotations.some((a) => a.Name === n)),
    );
    const chosen = candidates.sort((a, b) => this.members(a.group.ID).length - this.members(b.group.ID).length || byOrder(a, b))[0];
    if (chosen === undefined) fail(400, 'no group matches the annotations');
    this.joinGroup(installationId, chosen.group.ID);
  }

  /** `DELETE /api/installation/{iid}/group`: back to `update-requested`, optionally keeping the group config. */
  leaveGroup(installationId: string, retainConfig: boolean): void {
    const installation = this.requireMutableInstallation(installationId);
    if (installation.GroupID === null) return;
    if (!LEAVE_ALLOWED_STATES.includes(installation.State)) fail(400, `invalid state transition from ${installation.State}`);
    if (retainConfig) {
      const merged = mergeWithGroup(installation, this.groupRecords.get(installation.GroupID)?.group);
      installation.Version = merged.Version;
      installation.Image = merged.Image;
      installation.MattermostEnv = merged.MattermostEnv;
    }
    installation.GroupID = null;
    installation.GroupSequence = null;
    this.transition(installation, InstallationState.UpdateRequested);
  }

  /** Test hook: force an installation state (e.g. `update-failed`, `hibernating`). */
  setInstallationState(installationId: string, state: string): void {
    this.transition(this.requireInstallation(installationId).installation, state);
  }

  /** Test hook: hold (or release) an installation's row lock (join/leave answer 409). */
  setInstallationRowLock(installationId: string, locked: boolean): void {
    this.requireInstallation(installationId).rowLocked = locked;
  }

  /** Test hook: mark an installation deleted (it stops counting in group status). */
  deleteInstallation(installationId: string): void {
    const installation = this.requireInstallation(installationId).installation;
    this.transition(installation, InstallationState.Deleted);
    if (installation.DeleteAt === 0) installation.DeleteAt = Math.max(1, this.deps.now());
  }

  /** Raw (unmerged) installation copies, optionally only one group's live members. */
  installations(groupId?: string): Installation[] {
    return this.sortedInstallations()
      .map((r) => r.installation)
      .filter((i) => groupId === undefined || isMember(i, groupId))
      .map((i) => structuredClone(i));
  }

  // ---------------------------------------------------------------- rollout

  /** One deterministic supervisor pass (see `supervisorPass`), after settling due timed rollouts. */
  tick(): void {
    this.settleDue();
    supervisorPass(this.rolloutView);
  }

  /** Settles groups whose timed rollout (`rolloutDurationMs`) is due by the fake clock. */
  settleDue(): void {
    const now = this.deps.now();
    for (const record of this.sortedGroups()) {
      if (record.settleAt !== null && now >= record.settleAt) this.settleGroup(record);
    }
  }

  // ---------------------------------------------------------------- private

  private onSequenceBump(record: GroupRecord): void {
    if (this.settleInstantly) this.settleGroup(record);
    else if (this.rolloutDurationMs !== null) {
      record.settleAt = this.deps.now() + this.rolloutDurationMs;
      this.settleWhenDue(record);
    }
  }

  /** On the real clock: settle at the due time (a timer may fire a millisecond early by `Date.now`: wait the rest). */
  private settleWhenDue(record: GroupRecord): void {
    if (record.settleAt === null || this.deps.schedule === undefined) return;
    this.deps.schedule(Math.max(0, record.settleAt - this.deps.now()), () => {
      if (record.settleAt === null) return;
      if (this.deps.now() >= record.settleAt) this.settleGroup(record);
      else this.settleWhenDue(record);
    });
  }

  private settleGroup(record: GroupRecord): void {
    record.settleAt = null;
    settleMembers(this.rolloutView, record.group);
  }

  private transition(installation: Installation, state: string, options = { webhook: true }): void {
    const oldState = installation.State;
    if (oldState === state) return;
    installation.State = state;
    this.deps.onStateChange({
      installationId: installation.ID,
      name: installation.Name,
      oldState,
      newState: state,
      at: this.deps.now(),
      webhook: options.webhook,
    });
  }

  private attachAnnotations(record: GroupRecord, names: readonly string[]): void {
    for (const name of names) {
      if (record.annotations.some((a) => a.Name === name)) continue;
      let id = this.annotationIdsByName.get(name);
      if (id === undefined) {
        id = this.deps.newId();
        this.annotationIdsByName.set(name, id);
      }
      record.annotations.push({ ID: id, Name: name });
    }
  }

  private view(installation: Installation, includeGroupConfig: boolean): Installation {
    if (!includeGroupConfig || installation.GroupID === null) return structuredClone(installation);
    return mergeWithGroup(installation, this.groupRecords.get(installation.GroupID)?.group);
  }

  private members(groupId: string): Installation[] {
    return this.sortedInstallations()
      .map((r) => r.installation)
      .filter((i) => isMember(i, groupId));
  }

  private sortedGroups(): GroupRecord[] {
    return [...this.groupRecords.values()].sort((a, b) => a.group.CreateAt - b.group.CreateAt || byOrder(a, b));
  }

  private sortedInstallations(): InstallationRecord[] {
    return [...this.installationRecords.values()].sort(byOrder);
  }

  private requireGroup(id: string): GroupRecord {
    return this.groupRecords.get(id) ?? fail(404, 'group not found');
  }

  /** 404 unknown, 409 row lock held, 403 API security lock. */
  private requireUnlockedGroup(id: string): GroupRecord {
    const record = this.requireGroup(id);
    if (record.group.LockAcquiredBy !== null) fail(409, 'group row lock is held');
    if (record.group.APISecurityLock) fail(403, 'group API is locked');
    return record;
  }

  private requireInstallation(id: string): InstallationRecord {
    return this.installationRecords.get(id) ?? fail(404, 'installation not found');
  }

  /** 404 unknown, 409 row lock held, 403 API security lock. */
  private requireMutableInstallation(id: string): Installation {
    const record = this.requireInstallation(id);
    if (record.rowLocked) fail(409, 'installation row lock is held');
    if (record.installation.APISecurityLock) fail(403, 'installation API is locked');
    return record.installation;
  }
}
