import type { EnvVarMap } from '../model/env-vars.js';
import type { presentEvent, presentFreeze, presentGroup, presentRelease, presentRing, presentWebhook } from '../http/present.js';
import type { ReleasePlan } from '../service/release-plan.js';
import type { RingWhy } from '../service/why.js';
import type { RingOverview } from '../service/ring-overview.js';
import type { SubscriptionView } from '../service/subscriptions.js';

export type { ReleasePlan, RingWhy };
/** A channel that follows releases (`/api/subscriptions`, camelCase). */
export type SubscriptionJson = SubscriptionView;

export interface SubscribeRequest {
  /** `team/channel` or a channel id; in chat, the current channel when absent. */
  channel?: string;
  /** Only these rings' releases; every ring's when absent. */
  rings?: string[];
}

export interface UnsubscribeRequest {
  channel?: string;
}

/** The JSON shapes `/api` returns (src/http/present.ts): PascalCase where the original had it. */
export type RingJson = ReturnType<typeof presentRing>;
export type GroupJson = ReturnType<typeof presentGroup>;
export type ReleaseJson = ReturnType<typeof presentRelease>;
export type WebhookJson = ReturnType<typeof presentWebhook>;
export type EventJson = ReturnType<typeof presentEvent>;
export type FreezeJson = ReturnType<typeof presentFreeze>;

export interface CreateFreezeRequest {
  rings?: string[];
  start?: string;
  end?: string;
  cron?: string;
  duration?: string;
  timezone?: string;
  reason: string;
}

export interface FreezeNowRequest {
  reason: string;
  until?: string;
  rings?: string[];
}

/** The original's CreateRingRequest: camelCase keys, empty values left out (Go `omitempty`). */
export interface CreateRingRequest {
  name?: string;
  priority?: number;
  soakTime?: number;
  image?: string;
  version?: string;
  apiSecurityLock?: boolean;
  approvalRequired?: boolean;
  installationGroup?: { name?: string; soakTime?: number; provisionerGroupID?: string };
}

/** The original's UpdateRingRequest; zero values mean "unchanged". */
export interface UpdateRingRequest {
  name?: string;
  priority?: number;
  soakTime?: number;
  image?: string;
  version?: string;
  approvalRequired?: boolean;
}

/** The original's RingReleaseRequest (untagged Go struct, so PascalCase); `reason` is Elrond's. */
export interface RingReleaseRequest {
  Image: string;
  Version: string;
  Force: boolean;
  EnvVariables: EnvVarMap;
  reason?: string;
  /** Start through a freeze window (admins, with a reason). */
  overrideFreeze?: boolean;
  /** An all-rings release limited to these ring ids (Elrond's; the release form sends it). */
  rings?: string[];
}

export interface RollbackRequest {
  reason?: string;
}

export interface RegisterGroupRequest {
  name: string;
  soakTime: number;
  provisionerGroupID: string;
}

export interface UpdateGroupRequest {
  name?: string;
  soakTime?: number;
  provisionerGroupID?: string;
}

export interface CreateWebhookRequest {
  OwnerID: string;
  URL: string;
  /** Signs every delivery (X-Elrond-Signature); Elrond's addition. */
  secret?: string;
}

export interface Paging {
  page: number;
  perPage: number;
  includeDeleted: boolean;
}

export interface EventQuery {
  ring?: string;
  limit?: number;
  /** A duration back from now ("2h", "7d") or an ISO 8601 time. */
  since?: string;
}

/**
 * Everything the commands can ask of Elrond. The CLI implements it over HTTP (src/client/elrond-api.ts);
 * chat implements it in-process over the services. Methods take and return the `/api` JSON shapes, and
 * fail with an Error whose message a person can act on.
 *
 * @example const ring = await api.createRing({ name: 'canary', priority: 1 });
 */
export interface ElrondApi {
  createRing(request: CreateRingRequest): Promise<RingJson>;
  listRings(paging: Paging): Promise<RingJson[]>;
  getRing(ringId: string): Promise<RingJson>;
  updateRing(ringId: string, request: UpdateRingRequest): Promise<RingJson>;
  deleteRing(ringId: string): Promise<void>;
  /** POST /api/ring/{id}: retry a failed creation. */
  retryRing(ringId: string): Promise<RingJson>;
  releaseRing(ringId: string, request: RingReleaseRequest): Promise<RingJson>;
  releaseAllRings(request: RingReleaseRequest): Promise<RingJson[]>;
  pauseReleases(): Promise<void>;
  resumeReleases(): Promise<void>;
  cancelReleases(): Promise<void>;
  rollbackRing(ringId: string, request: RollbackRequest): Promise<RingJson>;
  rollbackAllRings(request: RollbackRequest): Promise<RingJson[]>;
  getRelease(releaseId: string): Promise<ReleaseJson>;
  registerGroup(ringId: string, request: RegisterGroupRequest): Promise<RingJson>;
  updateGroup(groupId: string, request: UpdateGroupRequest): Promise<GroupJson>;
  deleteGroup(ringId: string, groupId: string): Promise<void>;
  createWebhook(request: CreateWebhookRequest): Promise<WebhookJson>;
  getWebhook(webhookId: string): Promise<WebhookJson>;
  listWebhooks(query: Paging & { owner?: string }): Promise<WebhookJson[]>;
  deleteWebhook(webhookId: string): Promise<void>;
  lockRing(ringId: string): Promise<void>;
  unlockRing(ringId: string): Promise<void>;
  listEvents(query: EventQuery): Promise<EventJson[]>;
  /** What a release would do, changing nothing; `ringId` undefined plans an all-rings release. */
  planRelease(ringId: string | undefined, request: RingReleaseRequest): Promise<ReleasePlan>;
  createFreeze(request: CreateFreezeRequest): Promise<FreezeJson>;
  freezeNow(request: FreezeNowRequest): Promise<FreezeJson>;
  listFreezes(): Promise<FreezeJson[]>;
  deleteFreeze(freezeId: string): Promise<void>;
  why(ringId?: string): Promise<RingWhy[]>;
  /** GET /api/status: every live ring at a glance, in release order. */
  status(): Promise<RingOverview[]>;
  subscribe(request: SubscribeRequest): Promise<SubscriptionJson & { replaced: boolean }>;
  unsubscribe(request: UnsubscribeRequest): Promise<SubscriptionJson>;
  listSubscriptions(): Promise<SubscriptionJson[]>;
}
