import type { EnvVarMap } from '../model/env-vars.js';

/**
 * The request bodies of `/api`, as clients send them: the original's field names (camelCase, PascalCase where its
 * Go structs had no json tags), empty values left out. Any case is accepted (src/wire/request-keys.ts).
 */

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

export interface SubscribeRequest {
  /** `team/channel` or a channel id; in chat, the current channel when absent. */
  channel?: string;
  /** Only these rings' releases; every ring's when absent. */
  rings?: string[];
}

export interface UnsubscribeRequest {
  channel?: string;
}
