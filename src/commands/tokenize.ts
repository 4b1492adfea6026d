import { badRequest } from '../model/errors.js';

const OPEN_QUOTES: Record<string, string> = { "'": "'", '"': '"', '\u201C': '\u201D', '\u2018': '\u2019' };

/**
 * Split a slash-command text into words like a POSIX shell: whitespace separates words, '…' is literal,
 * "…" allows \" and \\, a backslash outside quotes escapes the next character. Curly quotes (which some
 * keyboards type) count as quotes. An unclosed quote is an error.
 *
 * @example tokenize(`ring release --reason "error rate up" --env-variable 'A:b c'`)
 * // ['ring', 'release', '--reason', 'error rate up', '--env-variable', 'A:b c']
 */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
      continue;
    }
    inWord = true;
    if (c === '\\') {
      const next = text[i + 1];
      word += next ?? '\\';
      i += next === undefined ? 1 : 2;
      continue;
    }
    const close = OPEN_QUOTES[c];
    if (close === undefined) {
      word += c;
      i += 1;
      continue;
    }
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== close) {
      const next = text[i + 1];
      if (close === '"' && text[i] === '\\' && next !== undefined && '"\\$`'.includes(next)) {
        word += next;
        i += 2;
      } else {
        word += text[i];
        i += 1;
      }
    }
    if (i >= text.length) {
      throw badRequest(`unclosed ${c} quote starting at "${text.slice(start, start + 20)}": close it, or escape it with a backslash`);
    }
    i += 1;
  }
  if (inWord) words.push(word);
  return words;
}
