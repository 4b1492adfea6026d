import type { OperationName } from '../service/operations.js';
import type { EventJson, FreezeJson, GroupJson, ReleaseJson, ReleasePlan, RingJson, RingOverview, RingWhy, SubscriptionJson, WebhookJson } from '../wire/present.js';
import type {
  CreateFreezeRequest,
  CreateRingRequest,
  CreateWebhookRequest,
  EventQuery,
  FreezeNowRequest,
  Paging,
  RegisterGroupRequest,
  RingReleaseRequest,
  RollbackRequest,
  SubscribeRequest,
  UnsubscribeRequest,
  UpdateGroupRequest,
  UpdateRingRequest,
} from '../wire/requests.js';

export type * from '../wire/requests.js';
export type { EventJson, FreezeJson, GroupJson, ReleaseJson, ReleasePlan, RingJson, RingOverview, RingWhy, SubscriptionJson, WebhookJson } from '../wire/present.js';

/**
 * Everything the commands can ask of Elrond: each method is the operation of the same name
 * (src/service/operations.ts). The CLI implements it over HTTP (src/client/elrond-api.ts); chat implements it
 * in-process over the operations (src/chat/in-process-api.ts). Methods take and return the `/api` JSON shapes
 * (src/wire), and fail with an Error whose message a person can act on.
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
  /** POST /api/ring/{id}/approve: what the card's Approve button does. */
  approveRing(ringId: string): Promise<RingJson>;
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

/** Compiles only while every method is named after an operation, so a command names its operations by its calls. */
export type ApiMethodIsOperation<K extends OperationName = keyof ElrondApi> = K;
