/** How a state looks on the page: done, moving, waiting or failed (one colour each). */
export type StateTone = 'done' | 'moving' | 'waiting' | 'failed' | 'idle';

const TONES: Record<string, StateTone> = {
  stable: 'done',
  'release-rollback-complete': 'done',
  'release-requested': 'moving',
  'release-in-progress': 'moving',
  'soaking-requested': 'moving',
  'release-soaking-requested': 'moving',
  'release-rollback-requested': 'moving',
  'creation-requested': 'moving',
  'deletion-requested': 'moving',
  'release-pending': 'waiting',
  'release-paused': 'waiting',
};

export function stateTone(state: string): StateTone {
  if (state.endsWith('-failed')) return 'failed';
  return TONES[state] ?? 'idle';
}
