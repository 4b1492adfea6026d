/**
 * Text that came from people (ring and group names, reasons, URLs, provisioner messages) made inert for where it
 * is shown: it can only be read, never act. One function per destination.
 */

/** C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), line/paragraph separators, bidi overrides and isolates. */
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const TERMINAL_CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string): string => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * One line for a terminal: every control character (a newline, an escape sequence's ESC or CSI, a bidi override)
 * shown as a visible escape (`\n`, `\u001b`), so a value can neither add lines nor drive the terminal.
 *
 * @example inertTerminalLine('a\u001b[2Jb') // 'a\\u001b[2Jb'
 */
export function inertTerminalLine(text: string): string {
  return text.replace(TERMINAL_CONTROL, visible);
}

/** Like {@link inertTerminalLine}, but newlines are kept (multi-line text, multi-line table cells). */
export function inertTerminalText(text: string): string {
  return text.replace(TERMINAL_CONTROL_BUT_NEWLINE, visible);
}

/**
 * JSON for a terminal: `JSON.stringify` escapes C0 controls but leaves DEL, C1 controls (0x9b starts an escape
 * sequence on some terminals) and bidi overrides raw; they can only be inside strings, where `\uXXXX` is
 * the same JSON value.
 */
export function inertTerminalJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cells a spreadsheet would run as a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@`, also after blanks. */
const FORMULA_START = /^[\s]*[=+\-@]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a newline; a cell a spreadsheet would take
 * for a formula is prefixed with `'` and quoted, so it opens as text; terminal controls are escaped as in
 * {@link inertTerminalText} (the file is often printed).
 *
 * @example inertCsvCell('=HYPERLINK("http://x")') // '"\'=HYPERLINK(""http://x"")"'
 */
export function inertCsvCell(value: string): string {
  let cell = inertTerminalText(value);
  const formula = FORMULA_START.test(cell);
  if (formula) cell = `'${cell}`;
  return formula || /[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

const ZWJ = '\u200D';

/** Newlines, controls and separators: Mattermost text must stay on the line it was put on. */
const CHAT_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Characters that open Markdown structure inline: links and images (`[`), autolinks (`<`), emphasis, code, tables. */
const MARKDOWN_PUNCTUATION = /[\\`*_[\]<>|]/g;

/** Mattermost's default autolinked schemes (webapp `DEFAULT_AUTOLINKED_URL_SCHEMES`), linked even without `//`. */
const AUTOLINKED_SCHEMES = /(^|[^A-Za-z0-9+.-])(https?|ftp|mailto|tel|mattermost)(?=:)/gi;

/** Text none of {@link inertMattermost}'s rules change, but for `www.` (checked apart): no `:`, `@`, Markdown or controls. */
const PLAIN_CHAT_TEXT = /^[A-Za-z0-9 .,/()=+-]*$/;

/**
 * Text for a Mattermost message, inline (a name, a reason, an error): it cannot notify anyone, link anywhere or
 * change the message's layout.
 *
 * - Newlines and control characters become spaces (a reason cannot forge a status line).
 * - A zero-width joiner follows every `@`, `~` and `#`: Mattermost's server splits words on it
 *   (`StandardMentionParser.ProcessText` splits on anything but letters, digits and `:.-_@`), so `@here`,
 *   `@channel`, `@all`, `@user` and an e-mail's `@` notify nobody, and the webapp's `~channel` links and
 *   `#hashtag` searches (`autolinkChannelMentions`, `autolinkHashtags`) and `~~strike~~` do not form.
 * - `[ ] < > \ ` * _ |` are backslash-escaped: no Markdown link, image, autolink, emphasis, code or table cell.
 * - Bare URLs cannot autolink: a zero-width joiner goes before the `:` of `scheme://` and of the webapp's default
 *   schemes (`mailto:`, `tel:` …), and after `www`. Escapes alone would not do: both the server's mention parser
 *   (`getExplicitMentions` joins text nodes) and the mobile app (`combineTextNodes`) read the text after
 *   Markdown removed its backslashes.
 *
 * Letters, digits, spaces and `. - / : ,` pass unchanged, so `mattermost/mattermost-enterprise-edition:10.5.1`
 * reads and copies as typed.
 *
 * @example inertMattermost('@here [sso](http://evil)') // '@\u200Dhere \\[sso\\](http\u200D://evil)'
 */
export function inertMattermost(text: string): string {
  // Most cells (ids, states, numbers, plain names) need none of the six passes below: a reply of hundreds of rows
  // otherwise spends most of its time copying strings unchanged.
  if (PLAIN_CHAT_TEXT.test(text) && !text.toLowerCase().includes('www.')) return text;
  return text
    .replace(CHAT_CONTROL, ' ')
    .replace(MARKDOWN_PUNCTUATION, '\\$&')
    .replace(/[@~#]/g, `$&${ZWJ}`)
    .replace(/([A-Za-z0-9+.-]):(?=[/\\])/g, `$1${ZWJ}:`)
    .replace(AUTOLINKED_SCHEMES, `$1$2${ZWJ}`)
    .replace(/(www)(?=\.)/gi, `$1${ZWJ}`);
}

/**
 * Text for inside a Mattermost code span (`` `NAME=value` ``): mentions and links do not form in code, but a
 * backtick would end the span early, so backticks become `ˋ` (U+02CB) and controls become spaces.
 */
export function inertMattermostCode(text: string): string {
  return text.replace(CHAT_CONTROL, ' ').replace(/`/g, 'ˋ');
}
