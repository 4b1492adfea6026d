import type { EngineDeps } from './engine-deps.js';
import { NO_DEADLINE, type InstallationGroupRowUpdate } from '../store/schema.js';
import type { GroupStatusCounts, InstallationGroup, Release, Ring } from '../model/ring.js';
import { SUPERVISOR_ACTOR } from '../model/ring.js';
import type { InstallationGroupState } from '../model/installation-group-states.js';
import {
  MAX_TRANSIENT_ATTEMPTS,
  describeProgress,
  describeRetry,
  installationCounts,
  type RetryParts,
  describeRolloutBlock,
  groupMismatch,
  groupNeedsUpdate,
  nextStatusPollDelay,
  retryDelay,
  rolloutDone,
  type ProvisionerGroupView,
} from '../model/group-decision.js';
import { envPatch } from '../model/env-vars.js';
import { describeRelease } from '../model/release-target.js';
import { ProvisionerError } from '../integrations/provisioner-client.js';
import { holdLease, LEASE_GIVEN_BACK } from '../store/leases.js';
import { findInstallationGroup, transitionGroup } from '../store/installation-groups.js';
import { findRelease } from '../store/releases.js';
import { ringOfGroup, wakeRing } from '../store/rings.js';
import { recordEvent, type EventKind } from '../store/event-log.js';
import { takeWriteGate } from '../store/system.js';
import type { StepResult } from './ring-runner.js';

/** What one step of a group's rollout concluded. */
type GroupOutcome =
  | { kind: 'wait'; changes: InstallationGroupRowUpdate; event?: { kind: EventKind; message: string; data?: Record<string, unknown> } }
  /** `facts`: the move's parts for whoever tells people about it (installations rolled, when the rollout started). */
  | { kind: 'move'; to: InstallationGroupState; changes: InstallationGroupRowUpdate; message: string; facts?: Record<string, unknown> };

/**
 * One step of an installation group's rollout, under its lease: patch the provisioner group if it differs
 * from the release, then poll its status (soon, then backing off), verify the result, soak.
 * Waits are stored deadlines; transient provisioner failures are retried later with backoff.
 */
export async function runGroupStep(deps: EngineDeps, groupId: string): Promise<StepResult> {
  const { store, clock, owner, config } = deps;
  // Renewed while the provisioner answers (each call may take up to its timeout): another replica takes this
  // group over only if this process dies or freezes, never while it is still waiting on a PUT it sent.
  const lease = await holdLease(store.db, 'installation_groups', groupId, owner, clock, config.leaseMs);
  if (!lease) return 'skipped';
  try {
    const group = await findInstallationGroup(store.db, groupId);
    // Due when it was listed, maybe not now: a step that ended between that read and this lease stored the group's
    // next check. Stepping it again would poll twice at once (the backoff broken: seen on Postgres, where the list
    // and the steps' writes interleave).
    if (!group || !group.releaseId || group.nextCheckAt > clock.now()) return 'skipped';
    const release = await findRelease(store.db, group.releaseId);
    if (!release) return 'skipped';
    // A forced release, a rollback and an admin's Force on the ring skip the group soak.
    const ring = await ringOfGroup(store.db, groupId);
    const outcome = await decide(deps, group, release, release.force || Boolean(ring?.rollingBack) || Boolean(ring?.forceRequestedBy));
    const result = await persist(deps, group, release, ring, outcome);
    if (result !== 'skipped') lease.givenBack();
    return result;
  } finally {
    await lease.release();
  }
}

async function decide(deps: EngineDeps, group: InstallationGroup, release: Release, skipSoak: boolean): Promise<GroupOutcome> {
  const now = deps.clock.now();
  if (group.state === 'release-soaking-requested') {
    if (skipSoak || now >= (group.soakUntil ?? 0)) return { kind: 'move', to: 'stable', changes: { soak_until: null, status_message: `on ${describeRelease(release)}` }, message: `group ${group.name} finished soaking` };
    return { kind: 'wait', changes: { next_check_at: group.soakUntil ?? now, status_message: `soaking until ${new Date(group.soakUntil ?? now).toISOString()}` } };
  }
  if (group.state !== 'release-requested') return { kind: 'wait', changes: { next_check_at: NO_DEADLINE } };
  // Whether the provisioner answered any call of this step: a step that fails half-way is a flaky provisioner,
  // not a dead one (see onFailure).
  let answered = false;
  const heard = <T>(reply: Promise<T>) => reply.then((value) => ((answered = true), value));
  const provisioner: EngineDeps['provisioner'] = {
    getGroup: (id) => heard(deps.provisioner.getGroup(id)),
    updateGroup: (id, patch) => heard(deps.provisioner.updateGroup(id, patch)),
    getGroupStatus: (id) => heard(deps.provisioner.getGroupStatus(id)),
    installations: (id) => heard(deps.provisioner.installations(id)),
  };
  const stepDeps = { ...deps, provisioner };
  try {
    return group.phase === 'rolling' ? await checkRollout(stepDeps, group, release, skipSoak) : await applyRelease(stepDeps, group, release, skipSoak);
  } catch (error) {
    return onFailure(deps, group, error, answered);
  }
}

/** GET the group; PUT only if it differs from the release (a restart or a retried step never patches twice). */
async function applyRelease(deps: EngineDeps, group: InstallationGroup, release: Release, skipSoak: boolean): Promise<GroupOutcome> {
  const current = await deps.provisioner.getGroup(group.provisionerGroupId);
  if (current.DeleteAt !== 0) {
    return fail(group, `provisioner group ${group.provisionerGroupId} was deleted on the provisioner`);
  }
  let event: { kind: EventKind; message: string; data?: Record<string, unknown> } | undefined;
  let latest = current;
  if (groupNeedsUpdate(current, release)) {
    latest = await deps.provisioner.updateGroup(group.provisionerGroupId, { Version: release.version, Image: release.image, MattermostEnv: envPatch(current.MattermostEnv, release.envVariables) });
    event = { kind: 'group.progress', message: `provisioner group ${group.provisionerGroupId} updated: ${current.Image}:${current.Version} → ${describeRelease(release)}` };
  } else {
    event = { kind: 'group.progress', message: `provisioner group ${group.provisionerGroupId} already carries ${describeRelease(release)}; no update sent` };
  }
  const started = { ...group, phase: 'rolling' as const, rolloutStartedAt: deps.clock.now() };
  deps.statusPolls?.rolloutStarted?.(group.provisionerGroupId);
  const outcome = await checkRollout(deps, started, release, skipSoak, latest);
  const changes: InstallationGroupRowUpdate = { phase: 'rolling', rollout_started_at: started.rolloutStartedAt, ...outcome.changes };
  // A rollout that is already done moves the group at once: keep what was sent (or not) in that event.
  // The update's event tells what was sent, and carries what the first status read found (stuck, MaxRolling 0).
  return outcome.kind === 'wait' ? { ...outcome, changes, event: { ...event, ...(outcome.event?.data ? { data: outcome.event.data } : {}) } } : { ...outcome, changes, message: `${outcome.message} (${event.message})` };
}

/**
 * Poll the group's status; when the rollout is done, verify the group carries the release and move on.
 * `known` is the group as the step just read or patched it; otherwise the group is read again only while the
 * rollout stands still, to say why (MaxRolling 0) or to see it was unblocked: a rolling group costs no more
 * requests than before.
 */
async function checkRollout(deps: EngineDeps, group: InstallationGroup, release: Release, skipSoak: boolean, known?: ProvisionerGroupView): Promise<GroupOutcome> {
  // When the provisioner's events say the rollout has ended, the group is read alongside its status: one round
  // trip instead of two between the rollout's end and the next group's update (bench/, urgent).
  const early = known === undefined && deps.statusPolls?.rolloutLooksDone?.(group.provisionerGroupId) === true ? deps.provisioner.getGroup(group.provisionerGroupId) : undefined;
  early?.catch(() => undefined);
  const status = await deps.provisioner.getGroupStatus(group.provisionerGroupId);
  const now = deps.clock.now();
  const startedAt = group.rolloutStartedAt ?? now;
  if (rolloutDone(status)) {
    const fresh = await (early ?? deps.provisioner.getGroup(group.provisionerGroupId));
    const mismatch = groupMismatch(fresh, release);
    if (mismatch) return fail(group, `provisioner group ${group.provisionerGroupId} does not carry the release after the rollout (changed by someone else, or not stored as sent): ${mismatch}`, status);
    const soakMs = skipSoak ? 0 : group.soakTime * 1000;
    const base = { attempts: 0, last_status: JSON.stringify(status), release_at: now, phase: null };
    const facts = { installations: installationCounts(status), rolloutStartedAt: startedAt, soakMs };
    if (soakMs === 0) return { kind: 'move', to: 'stable', changes: { ...base, status_message: `on ${describeRelease(release)}` }, message: `group ${group.name} rolled out ${describeRelease(release)}`, facts };
    return { kind: 'move', to: 'release-soaking-requested', changes: { ...base, soak_until: now + soakMs, next_check_at: now + soakMs, status_message: `soaking until ${new Date(now + soakMs).toISOString()}` }, message: `group ${group.name} rolled out ${describeRelease(release)}; soaking ${group.soakTime}s`, facts };
  }
  const elapsed = now - startedAt;
  const stuck = status.InstallationsUpdating > 0 ? await stuckInstallations(deps, group) : [];
  const statusChanged = JSON.stringify(status) !== JSON.stringify(group.lastStatus);
  // Standing still: installations wait, none is updating (failed ones aside), and nothing moved since last time.
  const stalled = status.InstallationsAwaitingUpdate > 0 && status.InstallationsUpdating === stuck.length && !statusChanged;
  const view = known ?? (stalled ? await (early ?? deps.provisioner.getGroup(group.provisionerGroupId)) : undefined);
  const block = view ? describeRolloutBlock(view, status) : null;
  const message = `${describeProgress(status, stuck)}${block ? `; ${block}` : ''}`;
  if (elapsed > deps.config.groupReleaseTimeoutMs) {
    return fail(group, `rollout timed out after ${Math.round(elapsed / 1000)}s (--provisioner-group-release-timeout); last status: ${message}`, status);
  }
  // A new reason to wait (MaxRolling 0, another stuck installation) is news even when the counts are not;
  // after a retry the stored message is the retry's, and the counts decide.
  const changed = statusChanged || (group.attempts === 0 && message !== group.statusMessage);
  return {
    kind: 'wait',
    changes: { attempts: 0, last_status: JSON.stringify(status), status_message: message, next_check_at: now + (deps.statusPolls ?? { statusPollDelay: nextStatusPollDelay }).statusPollDelay(elapsed, deps.config.statusIntervalMs) },
    ...(changed ? { event: { kind: 'group.progress' as const, message: `group ${group.name}: ${message}`, data: { installations: installationCounts(status), stuck, block } } } : {}),
  };
}

/** Names of installations stuck in update-failed; a listing failure only loses the detail. */
async function stuckInstallations(deps: EngineDeps, group: InstallationGroup): Promise<string[]> {
  try {
    const list = await deps.provisioner.installations(group.provisionerGroupId);
    return list.filter((i) => i.State === 'update-failed').map((i) => i.Name || i.ID);
  } catch {
    return [];
  }
}

function fail(group: InstallationGroup, reason: string, status?: GroupStatusCounts): GroupOutcome {
  return { kind: 'move', to: 'release-failed', changes: { failure_reason: reason, status_message: reason, phase: null, ...(status ? { last_status: JSON.stringify(status) } : {}) }, message: `group ${group.name} failed: ${reason}` };
}

/**
 * A transient failure is retried with backoff. A step the provisioner answered in part before an error (GET
 * fine, then PUT 503) starts the count again at 1: the provisioner is up, just flaky. Counting every failed
 * step failed 12 of 40 releases of 10 groups against a provisioner failing 30% of requests (3–4 calls per
 * step; bench/, chaos faults); this way none did. "Try later" answers (409 locked, 429) and steps it answered
 * nothing of count as before, so a provisioner that is down, or keeps the group locked, still ends the rollout
 * after MAX_TRANSIENT_ATTEMPTS; partly answered retries are bounded by the rollout timeout from the first attempt.
 */
function onFailure(deps: EngineDeps, group: InstallationGroup, error: unknown, answered: boolean): GroupOutcome {
  const problem = error instanceof ProvisionerError ? error : new ProvisionerError(error instanceof Error ? error.message : String(error), true);
  if (!problem.transient) return fail(group, problem.message);
  const now = deps.clock.now();
  const startedAt = group.rolloutStartedAt ?? now;
  if (now - startedAt > deps.config.groupReleaseTimeoutMs) return fail(group, `rollout timed out after ${Math.round((now - startedAt) / 1000)}s (--provisioner-group-release-timeout); last error: ${problem.message}`);
  const tryLater = problem.status === 409 || problem.status === 429;
  const attempts = answered && !tryLater ? 1 : group.attempts + 1;
  if (attempts > MAX_TRANSIENT_ATTEMPTS) return fail(group, `gave up after ${MAX_TRANSIENT_ATTEMPTS} attempts: ${problem.message}`);
  const retry: RetryParts = { error: problem.message, attempt: attempts, of: MAX_TRANSIENT_ATTEMPTS, at: now + retryDelay(attempts, deps.random) };
  const message = describeRetry(retry, now);
  return { kind: 'wait', changes: { attempts, rollout_started_at: startedAt, next_check_at: retry.at, status_message: message }, event: { kind: 'group.retry', message: `group ${group.name}: ${message}`, data: { retry } } };
}

/** `ring`: the group's ring as the step began (its id, name and rollout name the events). */
async function persist(deps: EngineDeps, group: InstallationGroup, release: Release, ring: Ring | undefined, outcome: GroupOutcome): Promise<StepResult> {
  const { store, clock, owner, sinks } = deps;
  const now = clock.now();
  return store.db.transaction().execute(async (trx) => {
    await takeWriteGate(trx, now);
    // The step's write gives its lease back (transitionGroup checks the owner): one write per step, not two.
    const changes = { ...(outcome.kind === 'move' ? { ...outcome.changes, state: outcome.to, next_check_at: outcome.changes.next_check_at ?? NO_DEADLINE } : outcome.changes), ...LEASE_GIVEN_BACK };
    const moved = await transitionGroup(trx, { id: group.id, from: group.state, owner, changes });
    if (!moved) return 'skipped';
    const ringId = ring?.id ?? null;
    const data = { ringName: ring?.name, groupName: group.name, provisionerGroupId: group.provisionerGroupId, releaseId: release.id };
    if (outcome.kind === 'move') {
      await recordEvent(trx, { kind: 'group.state', actor: SUPERVISOR_ACTOR, ringId, installationGroupId: group.id, rolloutId: ring?.rolloutId ?? null, oldState: group.state, newState: outcome.to, message: outcome.message, data: { ...data, ...outcome.facts, reason: outcome.changes.failure_reason ?? undefined } }, { now, sinks });
      // The ring decides what happens next: wake it now.
      if (ringId) await wakeRing(trx, ringId, now);
      return 'progressed';
    }
    if (outcome.event) {
      await recordEvent(trx, { kind: outcome.event.kind, actor: SUPERVISOR_ACTOR, ringId, installationGroupId: group.id, rolloutId: ring?.rolloutId ?? null, message: outcome.event.message, data: { ...data, ...outcome.event.data } }, { now, sinks });
      if (ringId) await wakeRing(trx, ringId, now);
    }
    return 'waiting';
  });
}
