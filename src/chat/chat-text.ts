import { inertMattermost, inertMattermostCode } from '../model/inert-text.js';

/**
 * Text that came from someone else (ring and group names, reasons, usernames Elrond did not produce), made inert
 * for a Mattermost post and cut to `max` characters: the one rule is src/model/inert-text.ts (`inertMattermost`:
 * no mention, link, image, markup or line break can form). Every such piece of a card, a thread reply, an
 * ephemeral reply or a dialog goes through here. Cut first, so an escape is never cut in half.
 */
export function chatText(text: string, max = 300): string {
  return inertMattermost(truncate(text, max));
}

/** Text for inside a code span (an image, a version, a group name): no backticks to break out, one line. */
export function chatCode(text: string, max = 120): string {
  return truncate(inertMattermostCode(text), max) || ' ';
}

/** Text Mattermost shows as plain text (a button's name): one line, cut to `max`. */
export function chatLabel(text: string, max = 60): string {
  return truncate(text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' '), max);
}

/** At most `max` characters (code points), the last one an ellipsis when cut. */
function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
