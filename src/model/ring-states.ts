/** Ring states, with the original's names (model/ring_states.go). */
export const RING_STATES = [
  'stable',
  'creation-requested',
  'creation-failed',
  'release-pending',
  'release-paused',
  'release-requested',
  'release-in-progress',
  'soaking-requested',
  'release-failed',
  'soaking-failed',
  'release-rollback-requested',
  'release-rollback-complete',
  'release-rollback-failed',
  'deletion-requested',
  'deletion-failed',
  'deleted',
] as const;

export type RingState = (typeof RING_STATES)[number];

/** States the supervisor works on. */
export const RING_STATES_PENDING_WORK = [
  'creation-requested',
  'release-pending',
  'release-requested',
  'release-in-progress',
  'soaking-requested',
  'release-rollback-requested',
  'deletion-requested',
] as const satisfies readonly RingState[];

/** A ring in one of these states is mid-release: its groups may be rolling or it is soaking. */
export const RING_STATES_RELEASE_IN_PROGRESS = [
  'release-requested',
  'release-in-progress',
  'soaking-requested',
  'release-rollback-requested',
] as const satisfies readonly RingState[];

/** A release was asked for but has not started. */
export const RING_STATES_RELEASE_PENDING = ['release-pending', 'release-paused'] as const satisfies readonly RingState[];

/** Resting states a ring is in when nothing is happening to it. */
export const RING_STATES_RESTING = [
  'stable',
  'release-rollback-complete',
] as const satisfies readonly RingState[];

export const RING_STATES_FAILED = [
  'creation-failed',
  'release-failed',
  'soaking-failed',
  'release-rollback-failed',
  'deletion-failed',
] as const satisfies readonly RingState[];

/**
 * The states a ring may be moved to by a request (API, CLI, chat), and from where.
 * The original's `ValidTransitionState` table, plus rollback (unreachable there) and
 * `release-rollback-complete` as a resting state (a dead end there).
 */
export const RING_REQUEST_TRANSITIONS = {
  'creation-requested': ['creation-requested', 'creation-failed'],
  'release-pending': [
    'stable',
    'release-pending',
    'release-failed',
    'soaking-failed',
    'release-paused',
    'release-rollback-complete',
    'release-rollback-failed',
  ],
  'release-paused': ['release-pending', 'release-paused'],
  'release-rollback-requested': [
    'stable',
    'release-failed',
    'soaking-failed',
    'release-rollback-failed',
    'release-rollback-complete',
  ],
  'deletion-requested': [
    'stable',
    'creation-requested',
    'creation-failed',
    'release-failed',
    'soaking-failed',
    'release-rollback-complete',
    'release-rollback-failed',
    'deletion-requested',
    'deletion-failed',
  ],
} as const satisfies Partial<Record<RingState, readonly RingState[]>>;

export type RequestableRingState = keyof typeof RING_REQUEST_TRANSITIONS;

export function isRingState(value: string): value is RingState {
  return (RING_STATES as readonly string[]).includes(value);
}

export function canRequestRingState(from: RingState, to: RequestableRingState): boolean {
  return (RING_REQUEST_TRANSITIONS[to] as readonly RingState[]).includes(from);
}

export function ringStateIn<T extends RingState>(state: RingState, list: readonly T[]): state is T {
  return (list as readonly RingState[]).includes(state);
}

/** One line per requestable state: what it can be requested from. Used in error messages and docs. */
export function describeRingRequest(to: RequestableRingState): string {
  return `${to} can be requested from: ${RING_REQUEST_TRANSITIONS[to].join(', ')}`;
}
