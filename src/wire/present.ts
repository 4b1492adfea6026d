import type { EventRow } from '../store/schema.js';
import type { InstallationGroup, Release, Ring, RingWithGroups, Webhook } from '../model/ring.js';
import type { Freeze } from '../model/freeze.js';
import { redact, redactDeep, redactUrl } from '../model/redact.js';

/**
 * The original Elrond's JSON shapes (model/*.go), so existing clients keep working: PascalCase for rings,
 * releases and webhooks, camelCase for installation groups, `releaseAt`/`ReleaseAt` and release `CreateAt`
 * in nanoseconds. Fields Elrond adds are camelCase.
 */
const ns = (ms: number): number => ms * 1_000_000;

export function presentGroup(group: InstallationGroup) {
  return {
    id: group.id,
    name: group.name,
    state: group.state,
    releaseAt: ns(group.releaseAt),
    soakTime: group.soakTime,
    provisionerGroupID: group.provisionerGroupId,
    LockAcquiredBy: group.lockedBy,
    LockAcquiredAt: group.lockedAt,
    statusMessage: group.statusMessage,
    failureReason: group.failureReason,
    soakUntil: group.soakUntil,
    progress: group.lastStatus,
    releaseId: group.releaseId,
  };
}

export function presentRing(ring: Ring | RingWithGroups, now: number) {
  const groups = 'installationGroups' in ring && ring.installationGroups.length > 0 ? ring.installationGroups.map(presentGroup) : undefined;
  return {
    ID: ring.id,
    Name: ring.name,
    Priority: ring.priority,
    SoakTime: ring.soakTime,
    State: ring.state,
    Provisioner: ring.provisioner,
    ActiveReleaseID: ring.activeReleaseId,
    DesiredReleaseID: ring.desiredReleaseId,
    CreateAt: ring.createAt,
    DeleteAt: ring.deleteAt,
    ReleaseAt: ns(ring.releaseAt),
    ...(groups ? { installationGroups: groups } : {}),
    APISecurityLock: ring.apiSecurityLock,
    LockAcquiredBy: ring.lockedBy,
    LockAcquiredAt: ring.lockedAt,
    statusMessage: ring.statusMessage,
    failureReason: ring.failureReason,
    soakUntil: ring.soakUntil,
    soakRemainingSeconds: ring.soakUntil ? Math.max(0, Math.ceil((ring.soakUntil - now) / 1000)) : 0,
    previousReleaseID: ring.previousReleaseId,
    rolloutID: ring.rolloutId,
  };
}

export function presentRelease(release: Release) {
  return {
    ID: release.id,
    Image: release.image,
    Version: release.version,
    EnvVariables: release.envVariables,
    CreateAt: ns(release.createAt),
    Force: release.force,
  };
}

/** `URL` without its userinfo and query values (they often carry the receiver's token). */
export function presentWebhook(webhook: Webhook) {
  return { ID: webhook.id, OwnerID: webhook.ownerId, URL: redactUrl(webhook.url), CreateAt: webhook.createAt, DeleteAt: webhook.deleteAt, hasSecret: webhook.hasSecret };
}

/** Messages and data through the one redaction rule: a URL's credentials or a secret-named field never leave. */
export function presentEvent(event: EventRow) {
  return {
    id: event.id,
    at: event.at,
    actor: event.actor,
    source: event.source,
    kind: event.kind,
    ringId: event.ring_id,
    installationGroupId: event.installation_group_id,
    rolloutId: event.rollout_id,
    oldState: event.old_state,
    newState: event.new_state,
    message: redact(event.message),
    data: event.data ? redactDeep(JSON.parse(event.data) as unknown) : null,
  };
}

export function presentFreeze(freeze: Freeze & { activeUntil?: number | null }) {
  return {
    id: freeze.id,
    rings: freeze.ringIds,
    start: freeze.startAt,
    end: freeze.endAt,
    cron: freeze.cron,
    durationMs: freeze.durationMs,
    timezone: freeze.timezone,
    reason: redact(freeze.reason),
    author: freeze.author,
    createAt: freeze.createAt,
    activeUntil: freeze.activeUntil ?? null,
  };
}

/** The JSON shapes `/api` returns, as the CLI and any client read them. */
export type RingJson = ReturnType<typeof presentRing>;
export type GroupJson = ReturnType<typeof presentGroup>;
export type ReleaseJson = ReturnType<typeof presentRelease>;
export type WebhookJson = ReturnType<typeof presentWebhook>;
export type EventJson = ReturnType<typeof presentEvent>;
export type FreezeJson = ReturnType<typeof presentFreeze>;
/** Elrond's own answers are camelCase and go out as the operations return them. */
export type { ReleasePlan, PlanBasis } from '../service/release-plan.js';
export type { RingWhy } from '../service/why.js';
export type { RingOverview } from '../service/ring-overview.js';
/** A channel that follows releases (`/api/subscriptions`, Elrond's own route: camelCase). */
export type { SubscriptionView as SubscriptionJson } from '../service/subscriptions.js';
