import type { OperationName } from '../service/operations.js';

/**
 * The operation each release-card button runs (Force and Rollback through the dialog they open), by the action
 * its signed context names. A plan's Start runs the release it shows (`START_PLAN_OPERATIONS`, plan-start.ts).
 */
export const BUTTON_OPERATIONS = {
  approve: 'approveRing',
  force: 'forceRing',
  retry: 'retryRingRelease',
  pause: 'pauseReleases',
  resume: 'resumeReleases',
  cancel: 'cancelReleases',
  rollback: 'rollbackRollout',
} as const satisfies Record<string, OperationName>;

export type ButtonAction = keyof typeof BUTTON_OPERATIONS;

export const isButtonAction = (action: string): action is ButtonAction => Object.hasOwn(BUTTON_OPERATIONS, action);
