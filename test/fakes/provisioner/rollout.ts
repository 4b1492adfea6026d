/**
 * The fake's deterministic stand-in for the provisioner supervisors (A.6 "How the
 * supervisor rolls"). No randomness: candidates are taken in ID order.
 */
import { isAwaitingUpdate, isSettledForSupervisor } from './model.js';
import { InstallationState, type Group, type Installation, type StateChange } from './types.js';

/** The store as the rollout engine sees it (live objects, mutated in place). */
export interface RolloutView {
  /** Live (`DeleteAt == 0`) installations. */
  liveInstallations(): Installation[];
  /** All groups. */
  groups(): Group[];
  group(id: string): Group | undefined;
  /** Live members of a group. */
  members(groupId: string): Installation[];
  /** Changes an installation's state and records the change; `webhook: false` for a change upstream sends none. */
  transition(installation: Installation, state: string, options?: { webhook: boolean }): void;
}

/** States an instant or timed rollout brings to `stable` (others keep their state). */
export const ROLLABLE_STATES: readonly string[] = [
  InstallationState.Stable,
  InstallationState.UpdateRequested,
  InstallationState.UpdateInProgress,
];

/** The group supervisor requests updates without a webhook (see {@link StateChange.webhook}). */
const GROUP_SUPERVISOR = { webhook: false };

function byId(a: Installation, b: Installation): number {
  return a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0;
}

/** Installation supervisor: one step for every installation that is mid-update. */
function advanceInstallations(view: RolloutView, moved: Set<string>): void {
  for (const installation of view.liveInstallations().sort(byId)) {
    if (installation.State === InstallationState.UpdateInProgress) {
      const group = installation.GroupID === null ? undefined : view.group(installation.GroupID);
      if (group !== undefined) installation.GroupSequence = group.Sequence;
      view.transition(installation, InstallationState.Stable);
      moved.add(installation.ID);
    } else if (installation.State === InstallationState.UpdateRequested) {
      view.transition(installation, InstallationState.UpdateInProgress);
      moved.add(installation.ID);
    }
  }
}

/** Group supervisor for one group: request updates for up to `MaxRolling − rolling` members. */
function superviseGroup(view: RolloutView, group: Group, moved: ReadonlySet<string>): void {
  if (group.DeleteAt !== 0 || group.MaxRolling === 0 || group.LockAcquiredBy !== null) return;
  const members = view.members(group.ID);
  const rolling = members.filter((i) => !isSettledForSupervisor(i.State)).length;
  const slots = group.MaxRolling - rolling;
  if (slots <= 0) return;
  members
    .filter((i) => isAwaitingUpdate(i, group.Sequence) && !moved.has(i.ID))
    .sort(byId)
    .slice(0, slots)
    .forEach((i) => view.transition(i, InstallationState.UpdateRequested, GROUP_SUPERVISOR));
}

/**
 * One supervisor pass. First `update-in-progress → stable` (GroupSequence = group.Sequence)
 * and `update-requested → update-in-progress`; then, for each live group with MaxRolling > 0
 * whose row lock is free, `rolling = Total − count(stable | hibernating | deletion-pending)`
 * and up to `MaxRolling − rolling` awaiting-update members (by ID) → `update-requested`.
 * No installation moves more than one step per pass.
 */
export function supervisorPass(view: RolloutView): void {
  const moved = new Set<string>();
  advanceInstallations(view, moved);
  for (const group of view.groups()) superviseGroup(view, group, moved);
}

/**
 * Instant or timed settle: every member that is stable or mid-update ends `stable` at the group's sequence. A member
 * behind the group's sequence goes through the states the real supervisors walk it through
 * (`stable → update-requested → update-in-progress → stable`), each change recorded, and the installation
 * supervisor's delivered to webhooks: mattermost-cloud's `InstallationSupervisor.Supervise`
 * (internal/supervisor/installation.go) sends one for every state change it makes through
 * `webhook.SendToAllWebhooks`, the group supervisor's request for an update none (see {@link StateChange.webhook}).
 */
export function settleMembers(view: RolloutView, group: Group): void {
  for (const installation of view.members(group.ID)) {
    if (!ROLLABLE_STATES.includes(installation.State)) continue;
    if (installation.State === InstallationState.Stable && installation.GroupSequence !== group.Sequence) {
      view.transition(installation, InstallationState.UpdateRequested, GROUP_SUPERVISOR);
    }
    if (installation.State === InstallationState.UpdateRequested) view.transition(installation, InstallationState.UpdateInProgress);
    installation.GroupSequence = group.Sequence;
    view.transition(installation, InstallationState.Stable);
  }
}
