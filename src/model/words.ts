/**
 * Wording shared by every surface that tells people about a release (the chat thread and card, the status page):
 * Elrond's own words are plain strings; anything that came from a person or another system is a typed part, so
 * each surface renders it safely (inert in chat, escaped in HTML) and alone decides whether a username notifies.
 */
export type Word =
  | string
  /** A ring's or group's name: emphasised, never markup. */
  | { readonly name: string }
  /** An image, a version, a group name as the provisioner knows it: shown as code. */
  | { readonly code: string }
  /** Free text someone typed (a reason): shown as it is, never markup, never a mention. */
  | { readonly text: string }
  /** A username; `notify`: the surface may make it a mention that notifies the person. */
  | { readonly person: string; readonly notify?: boolean }
  /** An instant, shown as a time of day. */
  | { readonly time: number };

export type Words = readonly Word[];

/** "a", "a and b", "a, b and c" — each item its own words. */
export function listOf(items: readonly Words[]): Words {
  const out: Word[] = [];
  items.forEach((item, i) => {
    if (i > 0) out.push(i === items.length - 1 ? ' and ' : ', ');
    out.push(...item);
  });
  return out;
}

/** "1 ring", "3 rings". */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** The words as plain text (no markup, no mentions): logs, tests, a fallback. */
export function plainText(words: Words, formatTime: (ms: number) => string): string {
  return words
    .map((word) => {
      if (typeof word === 'string') return word;
      if ('name' in word) return word.name;
      if ('code' in word) return word.code;
      if ('text' in word) return word.text;
      if ('person' in word) return word.person;
      return formatTime(word.time);
    })
    .join('');
}
