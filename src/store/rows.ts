import type { InstallationGroup, Release, Ring, Rollout, Webhook, GroupStatusCounts, ActorSource } from '../model/ring.js';
import type { EnvVarMap } from '../model/env-vars.js';
import type { InstallationGroupRow, ReleaseRow, RingRow, RolloutRow, WebhookRow } from './schema.js';

/** Row → domain conversions, one per entity, so column names never leak past the store. */
export function ringRowToRing(row: RingRow): Ring {
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    priority: row.priority,
    createSeq: row.create_seq,
    soakTime: row.soak_time,
    provisioner: row.provisioner,
    activeReleaseId: row.active_release_id,
    desiredReleaseId: row.desired_release_id,
    previousReleaseId: row.previous_release_id,
    rolloutId: row.rollout_id,
    releaseAt: row.release_at,
    createAt: row.create_at,
    deleteAt: row.delete_at,
    apiSecurityLock: row.api_security_lock === 1,
    rollingBack: row.rolling_back === 1,
    soakUntil: row.soak_until,
    nextCheckAt: row.next_check_at,
    statusMessage: row.status_message,
    failureReason: row.failure_reason,
    lockedBy: row.locked_by,
    lockedAt: row.locked_at,
    lockedUntil: row.locked_until,
    approvalRequired: row.approval_required === 1,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    forceRequestedBy: row.force_requested_by,
    sloFailures: row.slo_failures,
    sloError: row.slo_error,
    sloHealthyAt: row.slo_healthy_at,
  };
}

export function groupRowToGroup(row: InstallationGroupRow): InstallationGroup {
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    soakTime: row.soak_time,
    provisionerGroupId: row.provisioner_group_id,
    releaseAt: row.release_at,
    createAt: row.create_at,
    releaseId: row.release_id,
    phase: row.phase,
    rolloutStartedAt: row.rollout_started_at,
    soakUntil: row.soak_until,
    nextCheckAt: row.next_check_at,
    attempts: row.attempts,
    statusMessage: row.status_message,
    failureReason: row.failure_reason,
    lastStatus: row.last_status ? (JSON.parse(row.last_status) as GroupStatusCounts) : null,
    lockedBy: row.locked_by,
    lockedAt: row.locked_at,
    lockedUntil: row.locked_until,
  };
}

export function releaseRowToRelease(row: ReleaseRow): Release {
  return {
    id: row.id,
    image: row.image,
    version: row.version,
    envVariables: row.env_variables ? (JSON.parse(row.env_variables) as EnvVarMap) : null,
    force: row.force === 1,
    createAt: row.create_at,
  };
}

export function webhookRowToWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    ownerId: row.owner_id,
    url: row.url,
    hasSecret: row.secret !== null && row.secret !== '',
    createAt: row.create_at,
    deleteAt: row.delete_at,
  };
}

export function rolloutRowToRollout(row: RolloutRow): Rollout {
  return {
    id: row.id,
    releaseId: row.release_id,
    kind: row.kind === 'rollback' ? 'rollback' : 'release',
    allRings: row.all_rings === 1,
    requestedBy: row.requested_by,
    source: row.source as ActorSource,
    channelId: row.channel_id,
    postId: row.post_id,
    reason: row.reason,
    createAt: row.create_at,
    endAt: row.end_at,
    freezeOverride: row.freeze_override,
  };
}

export const flag = (value: boolean): 0 | 1 => (value ? 1 : 0);
