/**
 * Wire types of the fake Mattermost Cloud provisioner.
 *
 * Field names and casing follow provisioner-api.md A.3 / A.6 / A.8: Go structs without JSON
 * tags serialise in PascalCase; only `annotations`, `installation_count`, `value` and
 * `valueFrom` are lowercase.
 */

/** A decoded JSON object. */
export type JsonObject = { [key: string]: unknown };

/** One env var: `{"value": "..."}` or `{"valueFrom": {...}}` (both `omitempty`). */
export interface EnvVar {
  value?: string;
  valueFrom?: JsonObject;
}

/** `map[string]EnvVar`. */
export type EnvVarMap = Record<string, EnvVar>;

/** An annotation attached to a group. */
export interface Annotation {
  ID: string;
  Name: string;
}

/** `model.Group`, in Go field order. `Scheduling` is omitted when unset. */
export interface Group {
  ID: string;
  Sequence: number;
  Name: string;
  Description: string;
  Version: string;
  Image: string;
  MaxRolling: number;
  MattermostEnv: EnvVarMap | null;
  Scheduling?: JsonObject;
  CreateAt: number;
  DeleteAt: number;
  APISecurityLock: boolean;
  LockAcquiredBy: string | null;
  LockAcquiredAt: number;
}

/** `model.GroupDTO`: the group plus `annotations` and (on request) `installation_count`. */
export interface GroupDTO extends Group {
  annotations: Annotation[] | null;
  installation_count?: number;
}

/** `model.GroupStatus` (A.6). There is no `InstallationsUnstable`. */
export interface GroupStatus {
  InstallationsTotal: number;
  InstallationsUpdated: number;
  InstallationsUpdating: number;
  InstallationsHibernating: number;
  InstallationsPendingDeletion: number;
  InstallationsAwaitingUpdate: number;
}

/** One element of `GET /api/groups/status`. */
export interface GroupsStatusEntry {
  ID: string;
  Status: GroupStatus;
}

/**
 * The fake's installation model (a subset of `model.Installation`, A.8).
 * On the wire `GroupSequence` is omitted when null (`*int64` with `omitempty`).
 */
export interface Installation {
  ID: string;
  OwnerID: string;
  Name: string;
  State: string;
  GroupID: string | null;
  GroupSequence: number | null;
  Version: string;
  Image: string;
  MattermostEnv: EnvVarMap | null;
  CreateAt: number;
  DeleteAt: number;
  APISecurityLock: boolean;
}

/** A webhook header: a literal value or the name of an env var of the provisioner process. */
export interface WebhookHeader {
  key: string;
  value?: string;
  value_from_env?: string;
}

/** `model.Webhook`. */
export interface Webhook {
  ID: string;
  OwnerID: string;
  URL: string;
  CreateAt: number;
  DeleteAt: number;
  Headers: WebhookHeader[] | null;
}

/** A recorded installation state change (sent to registered webhooks, A.7, when `webhook` is true). */
export interface StateChange {
  installationId: string;
  name: string;
  oldState: string;
  newState: string;
  /** Fake-clock time in ms. */
  at: number;
  /**
   * Whether the provisioner sends a webhook for it. Upstream, the group supervisor's `stable → update-requested`
   * is a bare `store.UpdateInstallationState` (internal/supervisor/group.go, `GroupSupervisor.Supervise`): only
   * the installation supervisor's changes (`InstallationSupervisor.Supervise`, internal/supervisor/installation.go)
   * and the API's go out through `webhook.SendToAllWebhooks`.
   */
  webhook: boolean;
}

/** Installation states the fake knows about (`model/installation_states.go`). */
export const InstallationState = {
  Stable: 'stable',
  UpdateRequested: 'update-requested',
  UpdateInProgress: 'update-in-progress',
  UpdateFailed: 'update-failed',
  Hibernating: 'hibernating',
  DeletionPendingRequested: 'deletion-pending-requested',
  DeletionPendingInProgress: 'deletion-pending-in-progress',
  DeletionPending: 'deletion-pending',
  CreationRequested: 'creation-requested',
  CreationFailed: 'creation-failed',
  Deleted: 'deleted',
} as const;

/** States counted as `InstallationsPendingDeletion`. */
export const PENDING_DELETION_STATES: readonly string[] = [
  InstallationState.DeletionPendingRequested,
  InstallationState.DeletionPendingInProgress,
  InstallationState.DeletionPending,
];

/** Names of the fake's routes, used by the request log and fault injection. */
export type RouteName =
  | 'createGroup'
  | 'getGroups'
  | 'getGroup'
  | 'putGroup'
  | 'deleteGroup'
  | 'getStatus'
  | 'getGroupsStatus'
  | 'joinGroup'
  | 'assignGroup'
  | 'leaveGroup'
  | 'addAnnotations'
  | 'deleteAnnotation'
  | 'lockApi'
  | 'unlockApi'
  | 'getInstallations'
  | 'getInstallation'
  | 'createWebhook'
  | 'getWebhooks'
  | 'getWebhook'
  | 'deleteWebhook'
  | 'unknown';

/** A route name, or `'any'` to match every request. */
export type FaultRoute = RouteName | 'any';

/** One entry of the fake's request log. */
export interface LoggedRequest {
  method: string;
  path: string;
  /** First value of each query parameter. */
  query: Record<string, string>;
  /** Parsed JSON body; undefined when the body is empty or not valid JSON. */
  body: unknown;
  /** The raw body text ('' when empty). */
  rawBody: string;
  route: RouteName;
  /** Fake-clock time in ms when the request arrived. */
  at: number;
}

/** A `PatchGroupRequest` as sent on the wire (A.4); unknown keys are kept. */
export interface PatchGroupWire {
  ID?: string;
  MaxRolling?: number | null;
  Name?: string | null;
  Description?: string | null;
  Version?: string | null;
  Image?: string | null;
  MattermostEnv?: EnvVarMap | null;
  Scheduling?: JsonObject | null;
  ForceSequenceUpdate?: boolean;
  ForceInstallationsRestart?: boolean;
  [key: string]: unknown;
}

/** Thrown by store operations; the HTTP layer turns it into an empty-body reply. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}
