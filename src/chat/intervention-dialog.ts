import type { RolloutSummary } from './card-snapshot.js';

/** Mattermost's `DialogTitleMaxLength`, counted in bytes (Go `len`). */
const DIALOG_TITLE_MAX_BYTES = 24;

/** A dialog title that fits: cut to 24 bytes of UTF-8, with an ellipsis when cut. */
export function dialogTitle(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= DIALOG_TITLE_MAX_BYTES) return text;
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(`${out}${char}…`, 'utf8') > DIALOG_TITLE_MAX_BYTES) break;
    out += char;
  }
  return `${out}…`;
}

/**
 * The Force or Rollback dialog: it names the ring and the release it acts on, so a user who clicked a card
 * drawn before a redraw sees what the click will really do before giving a reason.
 */
export function interventionDialog(action: 'force' | 'rollback', target: { ringName: string; rollout: RolloutSummary | undefined }, state: string): Record<string, unknown> {
  const release = target.rollout ? `the release of ${target.rollout.release}` : 'this release';
  const rings = target.rollout?.rings.length ? target.rollout.rings.join(', ') : 'none left on it';
  return {
    callback_id: action,
    title: dialogTitle(action === 'force' ? `Force ${target.ringName}` : 'Roll back the release'),
    introduction_text:
      action === 'force'
        ? `Force ring **${target.ringName}** in ${release}: skips its remaining gating or soak. Say why: it is recorded.`
        : `Roll back ${release} (its rings: ${rings}): the rings that completed it or failed get their previous release back, without soak. Say why: it is recorded.`,
    elements: [{ display_name: 'Reason', name: 'reason', type: 'textarea', min_length: 3, max_length: 500, placeholder: 'e.g. hotfix for an outage' }],
    submit_label: action === 'force' ? 'Force' : 'Roll back',
    state,
  };
}
