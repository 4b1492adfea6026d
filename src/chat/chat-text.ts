/**
 * Text that came from someone else (ring and group names, reasons, usernames Elrond did not produce), made inert
 * for a Mattermost post: it can neither notify anyone nor become markup. Every such piece of a thread reply or a
 * card goes through here, so the rules live in one place (and can later delegate to a shared redaction).
 *
 * - A mention (`@alice`, `@channel`, `@here`) gets a zero-width space after its `@`: Mattermost's mention parser
 *   (`StandardMentionParser.ProcessText`) splits words on anything that is not a letter, digit or `:._-@`, so
 *   `@\u200Balice` is the word `alice`, not a mention.
 * - Markdown that could link or embed an image (`[x](url)`, `![x](url)`, `<url>`) is backslash-escaped (the
 *   backslash too, so an escape cannot be undone).
 * - Newlines and other control characters become spaces; the text is cut to `max` characters with an ellipsis,
 *   never inside a character.
 */
export function chatText(text: string, max = 300): string {
  const flat = truncate(text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' '), max);
  return flat.replace(/[\\[\]<>]/g, (c) => `\\${c}`).replace(/@/g, '@\u200B');
}

/** Text for inside a code span (an image, a version, a group name): no backticks to break out, one line. */
export function chatCode(text: string, max = 120): string {
  return truncate(text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/`/g, "'"), max) || ' ';
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
