import type { Words } from '../model/words.js';
import { formatClockTime } from '../model/clock-time.js';
import { chatCode, chatText } from './chat-text.js';

/** A Mattermost username (`model.IsValidUsername`): only such a name may become a mention. */
const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export interface RenderOptions {
  /** Whether a person marked `notify` is mentioned (`@alice`); otherwise every name is inert. */
  mentions: boolean;
  /** For times: "14:05 UTC" today, with the date on another day. */
  now: number;
}

/**
 * Words as a Mattermost message: Elrond's own words as they are, names bold, versions and group names as code,
 * everything someone else wrote made inert (chatText); a person is a real `@mention` only where the words allow
 * it and the caller does.
 */
export function renderWords(words: Words, options: RenderOptions): string {
  return words
    .map((word) => {
      if (typeof word === 'string') return word;
      if ('name' in word) return `**${chatText(word.name, 80)}**`;
      if ('code' in word) return `\`${chatCode(word.code)}\``;
      if ('text' in word) return chatText(word.text);
      if ('person' in word) return options.mentions && word.notify && USERNAME.test(word.person) ? `@${word.person}` : chatText(word.person, 64);
      return formatClockTime(word.time, options.now);
    })
    .join('');
}
