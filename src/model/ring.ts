import type { EnvVarMap } from './env-vars.js';
import type { InstallationGroupState, IgPhase } from './installation-group-states.js';
import type { RingState } from './ring-states.js';

/** Default ring soak, seconds (the original's, defined once). */
export const DEFAULT_RING_SOAK_SECONDS = 7200;
export const PROVISIONER_NAME = 'elrond';

export interface Ring {
  id: string;
  name: string;
  state: RingState;
  priority: number;
  createSeq: number;
  /** Seconds. */
  soakTime: number;
  provisioner: string;
  activeReleaseId: string;
  desiredReleaseId: string;
  previousReleaseId: string | null;
  rolloutId: string | null;
  /** Milliseconds. */
  releaseAt: number;
  createAt: number;
  deleteAt: number;
  apiSecurityLock: boolean;
  rollingBack: boolean;
  soakUntil: number | null;
  nextCheckAt: number;
  statusMessage: string;
  failureReason: string | null;
  lockedBy: string | null;
  lockedAt: number;
  lockedUntil: number;
  approvalRequired: boolean;
  approvedBy: string | null;
  approvedAt: number | null;
  forceRequestedBy: string | null;
  /** SLO checks failed in a row during the current soak. */
  sloFailures: number;
  /** The last failed SLO check's error, while failures continue. */
  sloError: string | null;
  /** When the SLO was last seen healthy during the current soak. */
  sloHealthyAt: number | null;
}

export interface GroupStatusCounts {
  InstallationsTotal: number;
  InstallationsUpdated: number;
  InstallationsUpdating: number;
  InstallationsHibernating: number;
  InstallationsPendingDeletion: number;
  InstallationsAwaitingUpdate: number;
}

export interface InstallationGroup {
  id: string;
  name: string;
  state: InstallationGroupState;
  /** Seconds. */
  soakTime: number;
  provisionerGroupId: string;
  releaseAt: number;
  createAt: number;
  releaseId: string | null;
  phase: IgPhase | null;
  rolloutStartedAt: number | null;
  soakUntil: number | null;
  nextCheckAt: number;
  attempts: number;
  statusMessage: string;
  failureReason: string | null;
  lastStatus: GroupStatusCounts | null;
  lockedBy: string | null;
  lockedAt: number;
  lockedUntil: number;
}

export interface RingWithGroups extends Ring {
  installationGroups: InstallationGroup[];
}

/** What is shipped: the original's RingRelease. Immutable; deduplicated on all four fields. */
export interface Release {
  id: string;
  image: string;
  version: string;
  envVariables: EnvVarMap | null;
  force: boolean;
  createAt: number;
}

export interface Webhook {
  id: string;
  ownerId: string;
  url: string;
  hasSecret: boolean;
  createAt: number;
  deleteAt: number;
}

export const ACTOR_SOURCES = ['api', 'cli', 'chat', 'supervisor'] as const;
export type ActorSource = (typeof ACTOR_SOURCES)[number];

/** Who asked for something and from where; recorded on every event. */
export interface Actor {
  name: string;
  source: ActorSource;
  channelId?: string;
  userId?: string;
}

export const SUPERVISOR_ACTOR: Actor = { name: 'elrond', source: 'supervisor' };

export interface Rollout {
  id: string;
  releaseId: string;
  kind: 'release' | 'rollback';
  allRings: boolean;
  requestedBy: string;
  source: ActorSource;
  channelId: string | null;
  postId: string | null;
  reason: string | null;
  createAt: number;
  endAt: number | null;
  /** An admin started it through a freeze (--override-freeze): why and who; its rings are not held by freezes. */
  freezeOverride: string | null;
}

/** Rings in release order: lower priority number first, ties by creation order. */
export function compareRingOrder(a: Pick<Ring, 'priority' | 'createSeq'>, b: Pick<Ring, 'priority' | 'createSeq'>): number {
  return a.priority - b.priority || a.createSeq - b.createSeq;
}
