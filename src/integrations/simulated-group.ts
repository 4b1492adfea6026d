/**
 * One simulated provisioner group and its installations, as plain data that survives a restart (it is stored as
 * JSON), and the pure functions that move it through time. No timers: every pending step is a stored instant,
 * and `advanceGroup(group, now)` plays the steps due by `now` in time order, so a manual clock moves a rollout in
 * milliseconds and the real clock works the same way.
 *
 * Modelled on mattermost-cloud: the group supervisor (`GroupSupervisor.Supervise`, internal/supervisor/group.go),
 * the installation supervisor's update path (`updateInstallation`, `waitForUpdateStable`, internal/supervisor/
 * installation.go) and the status counts (`SQLStore.GetGroupStatus`, internal/store/group.go).
 */
import type { GroupStatusCounts } from '../model/ring.js';
import type { EnvVarMap } from '../model/env-vars.js';
import { applyGroupPatch, type GroupPatch } from './simulated-group-patch.js';

export const INSTALLATION_STATES = {
  stable: 'stable',
  updateRequested: 'update-requested',
  updateInProgress: 'update-in-progress',
  updateFailed: 'update-failed',
  hibernating: 'hibernating',
} as const;

/** `model.AllInstallationDeletionStates`: counted as PendingDeletion, and not as rolling. */
const DELETION_STATES: readonly string[] = [
  'deletion-pending-requested',
  'deletion-pending-in-progress',
  'deletion-pending',
  'deletion-cancellation-requested',
  'deletion-requested',
  'deletion-in-progress',
  'deletion-final-cleanup',
  'deletion-failed',
  'deleted',
];

export interface SimulatedInstallation {
  ID: string;
  Name: string;
  State: string;
  /** The group Sequence whose config this installation last picked up; null = never (awaiting update). */
  GroupSequence: number | null;
  CreateAt: number;
  /** Updates started so far: each one's random draws are keyed on it. */
  updates: number;
  /** The update under way: `update-requested` until startAt, `update-in-progress` until doneAt. */
  update: { startAt: number; doneAt: number; fails: boolean } | null;
  /** When a failed installation is updated again (the `repair` option); null = it stays failed. */
  repairAt: number | null;
}

export interface SimulatedGroup {
  ID: string;
  Name: string;
  Description: string;
  Sequence: number;
  Version: string;
  Image: string;
  MaxRolling: number;
  MattermostEnv: EnvVarMap | null;
  CreateAt: number;
  installations: SimulatedInstallation[];
}

/** What the random draws and durations of new updates follow. */
export interface SimulationRules {
  rolloutMs: number;
  jitter: number;
  failProbability: number;
  repairMs: number | null;
  seed: number;
}

/**
 * Share of an update spent in `update-requested` before the installation supervisor picks it up and it turns
 * `update-in-progress`; the rest is the rollout itself.
 */
const REQUESTED_SHARE = 0.1;

/** The provisioner's id alphabet (model/id.go). */
const ID_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** FNV-1a over the parts, finished with mulberry32's mixer: a uniform draw in [0, 1) that depends only on its parts. */
export function draw(seed: number, ...parts: Array<string | number>): number {
  let hash = 0x811c9dc5 ^ seed;
  for (const char of `${seed}|${parts.join('|')}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  let t = (hash + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function installationId(groupId: string, index: number): string {
  let id = '';
  for (let i = 0; i < 26; i++) id += ID_ALPHABET[Math.floor(draw(0, 'installation', groupId, index, i) * 32)];
  return id;
}

/**
 * A group as the simulator makes it the first time Elrond asks about it: no image or version yet (Sequence 0),
 * with `installations` stable members already on that sequence.
 */
export function createSimulatedGroup(id: string, options: { installations: number; maxRolling: number; now: number }): SimulatedGroup {
  const short = id.slice(0, 6);
  const installations = Array.from({ length: options.installations }, (_, index): SimulatedInstallation => ({
    ID: installationId(id, index),
    Name: `sim-${short}-${String(index + 1).padStart(2, '0')}`,
    State: INSTALLATION_STATES.stable,
    GroupSequence: 0,
    CreateAt: options.now,
    updates: 0,
    update: null,
    repairAt: null,
  }));
  return { ID: id, Name: `simulated-${short}`, Description: 'simulated by Elrond (sim://)', Sequence: 0, Version: '', Image: '', MaxRolling: options.maxRolling, MattermostEnv: null, CreateAt: options.now, installations };
}

/** `installation.State` is one the group supervisor counts as settled: stable, hibernating or being deleted. */
function settled(state: string): boolean {
  return state === INSTALLATION_STATES.stable || state === INSTALLATION_STATES.hibernating || DELETION_STATES.includes(state);
}

/** Stable but not on the group's Sequence: `queryInstallationsToBeRolledOut`. */
function awaitingUpdate(installation: SimulatedInstallation, sequence: number): boolean {
  return installation.State === INSTALLATION_STATES.stable && installation.GroupSequence !== sequence;
}

/** Move an installation to `update-requested` and draw how long its update takes and whether it fails. */
function requestUpdate(group: SimulatedGroup, installation: SimulatedInstallation, at: number, rules: SimulationRules): void {
  installation.updates += 1;
  const key = [group.ID, installation.ID, installation.updates] as const;
  const durationMs = Math.max(1, Math.round(rules.rolloutMs * (1 + rules.jitter * (2 * draw(rules.seed, 'duration', ...key) - 1))));
  installation.State = INSTALLATION_STATES.updateRequested;
  installation.update = { startAt: at + Math.round(durationMs * REQUESTED_SHARE), doneAt: at + durationMs, fails: draw(rules.seed, 'fail', ...key) < rules.failProbability };
  installation.repairAt = null;
}

/**
 * `GroupSupervisor.Supervise`: unless paused (MaxRolling 0), `rolling = Total − (stable + hibernating +
 * deletion states)`; while `rolling < MaxRolling`, shuffled awaiting-update installations move to
 * `update-requested`. Failed installations count as rolling, so they hold slots, as on the real provisioner.
 */
function superviseGroup(group: SimulatedGroup, at: number, rules: SimulationRules): void {
  if (group.MaxRolling === 0) return;
  const rolling = group.installations.filter((i) => !settled(i.State)).length;
  if (rolling >= group.MaxRolling) return;
  const candidates = group.installations
    .filter((i) => awaitingUpdate(i, group.Sequence))
    .map((i) => ({ i, order: draw(rules.seed, 'shuffle', group.ID, group.Sequence, i.ID) }))
    .sort((a, b) => a.order - b.order);
  for (const { i } of candidates.slice(0, group.MaxRolling - rolling)) requestUpdate(group, i, at, rules);
}

/** When an installation's next step is due, or null when it waits for nobody. */
function dueAt(installation: SimulatedInstallation): number | null {
  switch (installation.State) {
    case INSTALLATION_STATES.updateRequested:
      return installation.update?.startAt ?? null;
    case INSTALLATION_STATES.updateInProgress:
      return installation.update?.doneAt ?? null;
    case INSTALLATION_STATES.updateFailed:
      return installation.repairAt;
    default:
      return null;
  }
}

/** One step of the installation supervisor for `installation` at `at`. */
function stepInstallation(group: SimulatedGroup, installation: SimulatedInstallation, at: number, rules: SimulationRules): void {
  switch (installation.State) {
    case INSTALLATION_STATES.updateRequested:
      // updateInstallation: take the group's current config (SyncGroupAndInstallationSequence), start rolling.
      installation.GroupSequence = group.Sequence;
      installation.State = INSTALLATION_STATES.updateInProgress;
      return;
    case INSTALLATION_STATES.updateInProgress: {
      const fails = installation.update?.fails ?? false;
      installation.update = null;
      // waitForUpdateStable: the group changed meanwhile → update again with the new config.
      if (installation.GroupSequence !== group.Sequence) return requestUpdate(group, installation, at, rules);
      if (fails) {
        installation.State = INSTALLATION_STATES.updateFailed;
        installation.repairAt = rules.repairMs === null ? null : at + rules.repairMs;
      } else {
        installation.State = INSTALLATION_STATES.stable;
      }
      return;
    }
    case INSTALLATION_STATES.updateFailed:
      // An operator's `cloud installation update` puts a failed installation back to update-requested.
      return requestUpdate(group, installation, at, rules);
  }
}

/** Upper bound on steps played in one call; reached only if the rules could loop without time passing. */
const MAX_STEPS = 1_000_000;

/**
 * Play every step due by `now`, earliest first (ties in installation order), running the group supervisor after
 * each, as the provisioner's supervisors would have. Mutates `group`.
 */
export function advanceGroup(group: SimulatedGroup, now: number, rules: SimulationRules): void {
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    let next: SimulatedInstallation | undefined;
    let nextAt = Number.POSITIVE_INFINITY;
    for (const installation of group.installations) {
      const at = dueAt(installation);
      if (at !== null && at <= now && at < nextAt) {
        next = installation;
        nextAt = at;
      }
    }
    if (!next) return;
    stepInstallation(group, next, nextAt, rules);
    superviseGroup(group, nextAt, rules);
  }
  throw new Error(`simulated group ${group.ID} did not settle after ${MAX_STEPS} steps`);
}

/**
 * `PUT /api/group/{id}` at `now` (after advancing to it): apply the patch; on a Sequence bump, installations mid
 * update notice the new config and are updated again (`waitForUpdateStable`), then the group supervisor runs at
 * once, as `handleUpdateGroup` calls `Supervisor.Do()`.
 */
export function patchSimulatedGroup(group: SimulatedGroup, patch: GroupPatch, now: number, rules: SimulationRules): void {
  const { applied, sequenceBumped } = applyGroupPatch(group, patch);
  if (sequenceBumped) {
    for (const installation of group.installations) {
      if (installation.State === INSTALLATION_STATES.updateInProgress && installation.GroupSequence !== group.Sequence) requestUpdate(group, installation, now, rules);
    }
  }
  if (applied) superviseGroup(group, now, rules);
}

/** `SQLStore.GetGroupStatus` (provisioner-api.md A.6): Updating is whatever is left, update-failed included. */
export function simulatedGroupStatus(group: SimulatedGroup): GroupStatusCounts {
  const count = (test: (i: SimulatedInstallation) => boolean) => group.installations.filter(test).length;
  const total = group.installations.length;
  const updated = count((i) => i.State === INSTALLATION_STATES.stable && i.GroupSequence === group.Sequence);
  const awaiting = count((i) => awaitingUpdate(i, group.Sequence));
  const hibernating = count((i) => i.State === INSTALLATION_STATES.hibernating);
  const pendingDeletion = count((i) => DELETION_STATES.includes(i.State));
  return {
    InstallationsTotal: total,
    InstallationsUpdated: updated,
    InstallationsUpdating: total - updated - awaiting - hibernating - pendingDeletion,
    InstallationsHibernating: hibernating,
    InstallationsPendingDeletion: pendingDeletion,
    InstallationsAwaitingUpdate: awaiting,
  };
}

/** The group as `GET /api/group/{id}` returns it (GroupDTO, model/group_dto.go). */
export function simulatedGroupDto(group: SimulatedGroup) {
  return {
    ID: group.ID,
    Sequence: group.Sequence,
    Name: group.Name,
    Description: group.Description,
    Version: group.Version,
    Image: group.Image,
    MaxRolling: group.MaxRolling,
    MattermostEnv: group.MattermostEnv === null ? null : structuredClone(group.MattermostEnv),
    CreateAt: group.CreateAt,
    DeleteAt: 0,
    APISecurityLock: false,
    LockAcquiredBy: null,
    LockAcquiredAt: 0,
    annotations: null,
  };
}

/** `GET /api/installations?group=…&include_group_config=false`: in creation order; GroupSequence is omitempty. */
export function simulatedInstallations(group: SimulatedGroup) {
  return group.installations.map((i) => ({
    ID: i.ID,
    OwnerID: 'simulator',
    Name: i.Name,
    State: i.State,
    GroupID: group.ID,
    ...(i.GroupSequence === null ? {} : { GroupSequence: i.GroupSequence }),
    CreateAt: i.CreateAt,
    DeleteAt: 0,
    APISecurityLock: false,
  }));
}
