import type { RolloutSummary } from './card-snapshot.js';
import type { PrivilegedAction } from './action-signature.js';
import { CARD_ACTIONS } from './button-operations.js';
import { chatLabel, chatText } from './chat-text.js';

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
 * The dialog a privileged button opens (Approve, Force, Cancel, Rollback): it names the ring and the release it acts
 * on, so a user who clicked a card drawn before a redraw sees what the click will really do; Force and Rollback ask
 * why. Names are inert (a ring called `@all` notifies nobody from here either).
 */
export function interventionDialog(action: PrivilegedAction, target: { ringName: string; rollout: RolloutSummary | undefined }, state: string): Record<string, unknown> {
  const spec = CARD_ACTIONS[action].dialog;
  const words = {
    ringName: chatText(target.ringName, 60),
    release: target.rollout ? `the release of ${chatText(target.rollout.release, 200)}` : 'this release',
    rings: target.rollout?.rings.length ? target.rollout.rings.map((ring) => chatText(ring, 60)).join(', ') : 'none left on it',
  };
  return {
    callback_id: action,
    title: dialogTitle(spec.title({ ...words, ringName: chatLabel(target.ringName, 60) })),
    introduction_text: spec.intro(words),
    elements: spec.reason ? [{ display_name: 'Reason', name: 'reason', type: 'textarea', min_length: 3, max_length: 500, placeholder: 'e.g. hotfix for an outage' }] : [],
    submit_label: spec.submit,
    state,
  };
}
