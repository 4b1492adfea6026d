import { envChangesApply, envDifferences, mergeEnv, type EnvVarMap } from './env-vars.js';
import type { GroupStatusCounts, Release } from './ring.js';
import { formatDuration } from './durations.js';

/** The parts of a provisioner group Elrond reads. */
export interface ProvisionerGroupView {
  ID: string;
  Image: string;
  Version: string;
  MattermostEnv: EnvVarMap | null;
  Sequence: number;
  DeleteAt: number;
  /** How many installations the provisioner updates at once; 0 means it updates none. */
  MaxRolling: number;
}

/** Does the group need a PUT to carry this release? Image, version, or env (valueFrom compared by meaning). */
export function groupNeedsUpdate(group: ProvisionerGroupView, release: Release): boolean {
  return group.Image !== release.image || group.Version !== release.version || envChangesApply(group.MattermostEnv, release.envVariables);
}

/**
 * Null when a fresh read of the group shows the release (image, version, and the release's env changes
 * applied); otherwise what differs, naming both sides (env by variable name only: values may be secrets).
 */
export function groupMismatch(group: ProvisionerGroupView, release: Release): string | null {
  const expectedEnv = mergeEnv(group.MattermostEnv, release.envVariables);
  const problems: string[] = [];
  if (group.Image !== release.image || group.Version !== release.version) {
    problems.push(`expected ${release.image}:${release.version}, found ${group.Image}:${group.Version}`);
  }
  const names = envDifferences(group.MattermostEnv, expectedEnv);
  if (names.length > 0) problems.push(`environment variables differ from the release: ${names.join(', ')}`);
  return problems.length ? problems.join('; ') : null;
}

/**
 * What a rollout waits on when the provisioner will not move it: a group with MaxRolling 0 never updates an
 * installation (the provisioner's group supervisor skips it), so the wait would only end in the timeout.
 */
export function describeRolloutBlock(group: Pick<ProvisionerGroupView, 'ID' | 'MaxRolling'>, status: GroupStatusCounts): string | null {
  if (group.MaxRolling !== 0 || status.InstallationsAwaitingUpdate === 0) return null;
  return `provisioner group ${group.ID} has MaxRolling 0, so the provisioner updates none of its installations: raise it (cloud group update --group ${group.ID} --max-rolling 1), or cancel this release`;
}

/** The provisioner's own completion test: nothing awaiting update and nothing updating (failed counts as updating). */
export function rolloutDone(status: GroupStatusCounts): boolean {
  return status.InstallationsAwaitingUpdate === 0 && status.InstallationsUpdating === 0;
}

export function describeProgress(status: GroupStatusCounts, stuck: readonly string[] = []): string {
  const { updated, total } = installationCounts(status);
  let text = `${updated} of ${total} installations updated`;
  if (status.InstallationsUpdating > 0) text += `, ${status.InstallationsUpdating} updating`;
  if (status.InstallationsAwaitingUpdate > 0) text += `, ${status.InstallationsAwaitingUpdate} waiting`;
  if (stuck.length > 0) text += `; stuck in update-failed: ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? ` and ${stuck.length - 5} more` : ''}`;
  return text;
}

/**
 * When to look at a rolling group's status again: soon after the update, then backing off to at most
 * `maxIntervalMs`. Each wait is a twentieth of the time elapsed (at least 100 ms), so a rollout is noticed
 * within 5% of its duration. With a quarter, a 2 s rollout could be seen at 2.44 s; with a tenth (at least
 * 200 ms) an urgent release of three 2 s groups per ring still ran 9–11% over its 6 s floor (bench/, urgent).
 * A ten-minute rollout costs ~170 status GETs instead of ~110.
 */
export function nextStatusPollDelay(elapsedMs: number, maxIntervalMs: number): number {
  return Math.min(maxIntervalMs, Math.max(100, Math.floor(elapsedMs / 20)));
}

/** A transient failure the group retries: what went wrong, which attempt comes next, and when. */
export interface RetryParts {
  error: string;
  attempt: number;
  of: number;
  /** When the retry runs (ms). */
  at: number;
}

/** "cannot reach the provisioner (ECONNREFUSED); retry 4 of 8 in 8s" — the group's status while it waits to retry. */
export function describeRetry(retry: RetryParts, now: number): string {
  return `${retry.error}; retry ${retry.attempt} of ${retry.of} in ${formatDuration(retry.at - now)}`;
}

/** Where a group rolling out stands, in parts: its phase, the provisioner's last counts, the retry it waits for. */
export interface GroupRolloutParts {
  name: string;
  /** 'apply': the provisioner group is being updated; 'rolling': its installations are. */
  phase: 'apply' | 'rolling' | null;
  /** The provisioner's counts for this rollout (only once it is rolling). */
  status: GroupStatusCounts | null;
  /** The transient failure it waits to retry; `pending` when it retries but the parts were not recorded. */
  retry: RetryParts | { pending: string } | null;
  /** Installations stuck in update-failed. */
  stuck?: readonly string[];
  /** Why the provisioner does not roll it (MaxRolling 0). */
  block?: string;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * "group ig1: updating the provisioner group; the last attempt failed: cannot reach the provisioner (ECONNREFUSED);
 * retry 4 of 8 at 12:00:08 UTC (in 8s)" — each part said once.
 */
export function describeGroupRollout(parts: GroupRolloutParts, now: number): string {
  const rolling = parts.phase === 'rolling' && parts.status ? `rolling out, ${describeProgress(parts.status, parts.stuck)}` : 'updating the provisioner group';
  const doing = parts.block ? `${rolling}; ${parts.block}` : rolling;
  if (!parts.retry) return `group ${parts.name}: ${doing}`;
  if ('pending' in parts.retry) return `group ${parts.name}: ${doing}; the last attempt failed: ${parts.retry.pending}`;
  const { error, attempt, of, at } = parts.retry;
  return `group ${parts.name}: ${doing}; the last attempt failed: ${error}; retry ${attempt} of ${of} at ${clock(at)} UTC (in ${formatDuration(at - now)})`;
}

/** Installations counted as the provisioner counts them for a rollout: hibernating and deleting ones aside. */
export function installationCounts(status: GroupStatusCounts): { updated: number; total: number } {
  return { updated: status.InstallationsUpdated, total: status.InstallationsTotal - status.InstallationsHibernating - status.InstallationsPendingDeletion };
}

/** Transient provisioner failures are retried this many times before the group fails. */
export const MAX_TRANSIENT_ATTEMPTS = 8;

/** Exponential backoff with full jitter: 1 s, 2 s, 4 s … capped at 60 s, times a random factor in [0.5, 1]. */
export function retryDelay(attempt: number, random: () => number): number {
  const base = Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random() / 2));
}
