/**
 * Who a new post notifies, as `App.SendNotifications` works it out (server/channels/app/notification.go): the
 * mention-enabled fields of the post (`getMentionsEnabledFields`: the message, and each attachment's pretext, text
 * and string field values), parsed as Markdown with only text nodes read (`getExplicitMentions`; code spans and
 * blocks never mention), split into words by `StandardMentionParser.ProcessText`, and matched against the
 * `@username` keywords of the channel's members. `@here`, `@channel` and `@all` notify every member; a mention of
 * someone outside the channel notifies nobody (the sender is told). In a direct message the other member is always
 * notified. Edits notify nobody: only `CreatePost` runs `handlePostEvents`.
 */
import { isRecord } from './util.js';

export interface MentionResult {
  /** Members notified, by user id, with why. */
  notified: Array<{ userId: string; reason: 'mention' | 'channel' | 'dm' }>;
  /** `@names` that matched no member (`OtherPotentialMentions`): Mattermost tells the sender they were not notified. */
  outOfChannel: string[];
}

/** `getMentionsEnabledFields`. */
export function mentionEnabledFields(message: string, props: Record<string, unknown>): string[] {
  const fields = [message];
  const attachments = Array.isArray(props.attachments) ? props.attachments : [];
  for (const attachment of attachments) {
    if (!isRecord(attachment)) continue;
    if (typeof attachment.pretext === 'string' && attachment.pretext !== '') fields.push(attachment.pretext);
    if (typeof attachment.text === 'string' && attachment.text !== '') fields.push(attachment.text);
    for (const field of Array.isArray(attachment.fields) ? attachment.fields : []) {
      if (isRecord(field) && typeof field.value === 'string' && field.value !== '') fields.push(field.value);
    }
  }
  return fields;
}

/**
 * The text nodes of a Markdown string, as `markdown.Inspect` yields them: fenced and indented code blocks and code
 * spans are not text; a backslash escape is the character it escapes.
 */
export function markdownText(source: string): string {
  return source
    .replace(/```[\s\S]*?(```|$(?![\s\S]))/g, ' ')
    .replace(/(`+)[\s\S]*?\1/g, ' ')
    .replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

const SYSTEM_MENTIONS = new Set(['@here', '@channel', '@all']);

/** `StandardMentionParser.ProcessText` over one text, against `@username` keywords (lower-cased) → user ids. */
export function processText(text: string, keywords: ReadonlyMap<string, string>, found: { users: Set<string>; channelWide: boolean; others: string[] }): void {
  const check = (word: string): boolean => {
    const lower = word.toLowerCase();
    if (SYSTEM_MENTIONS.has(lower)) {
      found.channelWide = true;
      return true;
    }
    const id = keywords.get(lower);
    if (id === undefined) return false;
    found.users.add(id);
    return true;
  };
  const words = text.split(/[^:.\-_@\p{L}\p{N}]+/u).filter((w) => w !== '');
  for (let word of words) {
    if (word.length > 1 && word.startsWith(':') && word.endsWith(':')) continue;
    word = word.replace(/^[:.\-_]+/, '');
    if (word === '' || check(word)) continue;
    let stem = word;
    let foundWithoutSuffix = false;
    while (stem !== '' && /[.\-:_]$/.test(stem)) {
      stem = stem.slice(0, -1);
      if (check(stem)) {
        foundWithoutSuffix = true;
        break;
      }
    }
    if (foundWithoutSuffix) continue;
    if (!SYSTEM_MENTIONS.has(word) && word.startsWith('@')) {
      found.others.push(word.replace(/[.\-:]$/, '').slice(1));
    } else if (/[.\-:]/.test(word)) {
      for (const part of word.split(/[.\-:]+/).filter((p) => p !== '')) {
        if (!check(part) && part.startsWith('@') && !SYSTEM_MENTIONS.has(part)) found.others.push(part.slice(1));
      }
    }
  }
}

/**
 * Everyone a post created by `senderId` in a channel with `members` notifies. `usernames` maps each member's id to
 * their username; `direct`: a direct message channel.
 */
export function notificationsFor(post: { message: string; props: Record<string, unknown> }, senderId: string, members: ReadonlyMap<string, string>, direct: boolean): MentionResult {
  const keywords = new Map<string, string>();
  for (const [id, username] of members) keywords.set(`@${username.toLowerCase()}`, id);
  const found = { users: new Set<string>(), channelWide: false, others: [] as string[] };
  for (const field of mentionEnabledFields(post.message, post.props)) processText(markdownText(field), keywords, found);
  const notified: MentionResult['notified'] = [];
  for (const id of members.keys()) {
    if (id === senderId) continue;
    if (direct) notified.push({ userId: id, reason: 'dm' });
    else if (found.users.has(id)) notified.push({ userId: id, reason: 'mention' });
    else if (found.channelWide) notified.push({ userId: id, reason: 'channel' });
  }
  return { notified, outOfChannel: [...new Set(found.others)] };
}
