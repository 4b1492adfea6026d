import { canonicalEnv, type EnvVarMap } from './env-vars.js';
import type { Release, Ring } from './ring.js';
import { RING_STATES_FAILED, ringStateIn } from './ring-states.js';

export interface ReleaseSpec {
  image: string;
  version: string;
  envVariables: EnvVarMap | null;
  force: boolean;
}

/**
 * Would releasing `next` onto a ring whose active release is `active` change anything? Image, version, or
 * env changes that are not exactly the active release's (the original ignored env-only changes).
 */
export function releaseDiffers(active: Release, next: ReleaseSpec): boolean {
  if (active.image !== next.image || active.version !== next.version) return true;
  return next.envVariables !== null && canonicalEnv(next.envVariables) !== canonicalEnv(active.envVariables);
}

/**
 * Which release a rollback puts back: for a failed ring, the release it was on before the failed attempt
 * (still its active one); for a ring that completed a release, the one before it.
 */
export function rollbackTargetId(ring: Ring): string | null {
  if (ringStateIn(ring.state, RING_STATES_FAILED)) return ring.activeReleaseId;
  return ring.previousReleaseId;
}

export function describeRelease(release: Pick<Release, 'image' | 'version'> | undefined): string {
  if (!release || (!release.image && !release.version)) return '(none)';
  return `${release.image}:${release.version}`;
}
