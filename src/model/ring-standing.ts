import type { Ring } from './ring.js';
import { RING_STATES_FAILED, ringStateIn } from './ring-states.js';

/** Where a ring stands in a release, in the words people use (the state names stay in history and the API). */
export type Standing =
  | 'queued'
  | 'awaiting-approval'
  | 'paused'
  | 'frozen'
  | 'starting'
  | 'rolling'
  | 'soaking'
  | 'done'
  | 'failed'
  | 'rolling-back'
  | 'rolled-back'
  | 'left';

/** A coloured dot per standing: blue moving, yellow waiting on a person or a freeze, green done, red failed. */
export const STANDING_DOT: Record<Standing, string> = {
  queued: '⚪',
  'awaiting-approval': '🟡',
  paused: '🟡',
  frozen: '🟡',
  starting: '🔵',
  rolling: '🔵',
  soaking: '🔵',
  done: '🟢',
  failed: '🔴',
  'rolling-back': '🔵',
  'rolled-back': '🟢',
  left: '⚫',
};

/** The standing in a few words ("waiting its turn", "soaking"). */
export const STANDING_WORDS: Record<Standing, string> = {
  queued: 'waiting its turn',
  'awaiting-approval': 'needs approval',
  paused: 'paused',
  frozen: 'frozen',
  starting: 'starting',
  rolling: 'rolling',
  soaking: 'soaking',
  done: 'done',
  failed: 'failed',
  'rolling-back': 'rolling back',
  'rolled-back': 'rolled back',
  left: 'left this release',
};

/** The plural of {@link STANDING_WORDS}, for a count of rings ("12 waiting their turn"). */
export const STANDING_WORDS_MANY: Record<Standing, string> = { ...STANDING_WORDS, queued: 'waiting their turn', 'awaiting-approval': 'need approval', 'left': 'left this release' };

/**
 * Where a ring of a rollout stands. `onThisRollout`: the ring still belongs to it (a newer release or a cancel
 * takes it away); `frozen`: a freeze holds it now.
 */
export function ringStanding(ring: Pick<Ring, 'state' | 'approvalRequired' | 'approvedBy' | 'rollingBack'>, options: { onThisRollout: boolean; frozen: boolean }): Standing {
  if (!options.onThisRollout) return 'left';
  if (ringStateIn(ring.state, RING_STATES_FAILED)) return 'failed';
  switch (ring.state) {
    case 'release-pending':
      if (options.frozen) return 'frozen';
      return ring.approvalRequired && !ring.approvedBy ? 'awaiting-approval' : 'queued';
    case 'release-paused':
      return 'paused';
    case 'release-requested':
      return 'starting';
    case 'release-in-progress':
      return options.frozen ? 'frozen' : 'rolling';
    case 'soaking-requested':
      return 'soaking';
    case 'release-rollback-requested':
      return ring.rollingBack ? 'rolling-back' : 'queued';
    case 'stable':
      return 'done';
    case 'release-rollback-complete':
      return 'rolled-back';
    default:
      return 'left';
  }
}
