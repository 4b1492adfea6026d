/**
 * Installation group states, with the original's names (model/installationgroup_states.go).
 * A distinct type from RingState so the two cannot be mixed up (the original returned IG constants for rings).
 */
export const IG_STATES = [
  'stable',
  'release-pending',
  'release-requested',
  'release-soaking-requested',
  'release-failed',
  'soaking-failed',
] as const;

export type InstallationGroupState = (typeof IG_STATES)[number];

/** The group is being rolled out or soaked: it counts against --max-parallel-groups. */
export const IG_STATES_ACTIVE = ['release-requested', 'release-soaking-requested'] as const satisfies readonly InstallationGroupState[];

export const IG_STATES_FAILED = ['release-failed', 'soaking-failed'] as const satisfies readonly InstallationGroupState[];

export function igStateIn<T extends InstallationGroupState>(
  state: InstallationGroupState,
  list: readonly T[],
): state is T {
  return (list as readonly InstallationGroupState[]).includes(state);
}

/** While `release-requested`, the group goes through these phases: patch the provisioner group, then wait for it to roll. */
export const IG_PHASES = ['apply', 'rolling'] as const;
export type IgPhase = (typeof IG_PHASES)[number];
