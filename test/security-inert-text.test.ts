/**
 * Issue 13 item 8: text from people is inert where it is shown. Properties (fast-check) against models of how
 * Mattermost finds mentions and links, and of what a terminal or a spreadsheet would act on.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { startChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import { REDACTED } from '../src/model/redact.js';
import { inertCsvCell, inertMattermost, inertMattermostCode, inertTerminalJson, inertTerminalLine, inertTerminalText } from '../src/model/inert-text.js';

const SCALE = Math.max(1, Number(process.env.ELROND_FUZZ_SCALE ?? 1));
const runs = { numRuns: 3000 * SCALE };

/** Markdown removes a backslash before ASCII punctuation; mention and autolink detectors read what is left. */
const unescapeMarkdown = (text: string) => text.replace(/\\([!-/:-@[-`{-~])/g, '$1');

/**
 * The words Mattermost's server checks for mentions: `StandardMentionParser.ProcessText`
 * (server/channels/app/mention_parser_standard.go) splits on every rune that is not a letter, a number or one of
 * `:.-_@`, on the text nodes `getExplicitMentions` collected from the Markdown (escapes already removed).
 */
const mentionWords = (text: string) => unescapeMarkdown(text).split(/[^\p{L}\p{N}:.\-_@]+/u).filter(Boolean);

/**
 * Could this word notify anyone? ProcessText checks the word (after trimming leading `:.-_`), then the word split
 * again on `.-:`; a mention is an `@` followed by a name. After inertMattermost no `@` has anything after it.
 */
const canMention = (word: string) => /@[^@]/u.test(word);

/** Every occurrence of `chars` in `text` is backslash-escaped (an odd run of backslashes before it). */
function allEscaped(text: string, chars: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (!chars.includes(text[i]!)) continue;
    let slashes = 0;
    for (let j = i - 1; j >= 0 && text[j] === '\\'; j--) slashes++;
    if (slashes % 2 === 0) return false;
  }
  return true;
}

/**
 * What the Mattermost webapp would turn into a link (markdown renderer with `autolinkedUrlSchemes`, its tests in
 * webapp/channels/src/utils/markdown): `scheme://…`, the default schemes (`http`, `https`, `ftp`, `mailto`,
 * `tel`, `mattermost`) followed by `:`, `www.`, e-mail addresses, `~channel` links and `#hashtags`.
 */
function linkIn(text: string): string | null {
  const plain = unescapeMarkdown(text);
  const detectors: Array<[string, RegExp]> = [
    ['scheme://', /[A-Za-z0-9+.-]:[/\\]/],
    ['default scheme', /(^|[^A-Za-z0-9+.-])(https?|ftp|mailto|tel|mattermost):/i],
    ['www.', /www\./i],
    ['e-mail', /[A-Za-z0-9._%+-]@[A-Za-z0-9]/],
    ['~channel', /~[\p{L}\p{N}]/u],
    ['#hashtag', /#[\p{L}\p{N}]/u],
  ];
  for (const [what, pattern] of detectors) if (pattern.test(plain)) return what;
  if (!allEscaped(text, '[]<>')) return 'markdown link, image or <autolink>';
  return null;
}

const TOKENS = [
  '@', 'here', 'all', 'channel', 'alice', 'a', 'Z', '9', 'é', '例', ' ', '\u00a0', ',', '=', '-', '+', '.', ':', '/', '//', '\\',
  '[', ']', '(', ')', '!', '<', '>', '`', '*', '_', '~', '~~', '#', '|', 'http', 'https', 'ftp', 'mailto', 'tel', 'mattermost', 'www',
  'evil.com', 'example.com', '\n', '\r', '\t', '\u001b', '\u009b', '\u2028', '\u202e', '\u200d', '\u200b', ':smile:',
];
const hostile = fc.oneof(
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((parts) => parts.join('')),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.string({ maxLength: 40 }),
);

describe('inertMattermost', () => {
  it('no output can mention anyone (@all, @here, @channel, @user, e-mails), whatever the input', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const out = inertMattermost(input);
        expect(mentionWords(out).filter(canMention)).toEqual([]);
      }),
      runs,
    );
  });

  it('no output can link (markdown links and images, <autolinks>, bare URLs, www., ~channels, #hashtags)', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        expect(linkIn(inertMattermost(input))).toBeNull();
      }),
      runs,
    );
  });

  it('no output has a newline or a control character, or unescaped emphasis, code or table markup', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const out = inertMattermost(input);
        expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
        expect(allEscaped(out, '`*_|')).toBe(true);
      }),
      runs,
    );
  });

  it('the detectors find what the raw input would do (they are not blind)', () => {
    expect(mentionWords('hi @here and x.@all').filter(canMention)).toEqual(['@here', 'x.@all']);
    expect(linkIn('[sso](http://evil)')).not.toBeNull();
    expect(linkIn('see www.evil.com')).toBe('www.');
    expect(linkIn('mailto:a')).toBe('default scheme');
    expect(linkIn('~town-square')).toBe('~channel');
    expect(linkIn('\\[x\\]')).toBeNull();
  });

  it('the attacks from the issue: a reason "@here … [sso](http://evil)" and a ring named "@all"', () => {
    const reason = inertMattermost('@here please re-login at [sso](http://evil.example/login)\n**Status: approved by @admin**');
    expect(mentionWords(reason).filter(canMention)).toEqual([]);
    expect(linkIn(reason)).toBeNull();
    expect(reason).not.toContain('\n');
    expect(inertMattermost('@all')).toBe('@\u200Dall');
  });

  it('everyday names, versions and images pass unchanged', () => {
    for (const text of ['canary', 'production-eu 2', 'mattermost/mattermost-enterprise-edition:10.5.1', 'v10.5.1-rc.2', 'error rate up, rolled back at 12:30']) {
      expect(inertMattermost(text)).toBe(text);
    }
  });

  it('code spans: a backtick cannot end the span, controls become spaces', () => {
    expect(inertMattermostCode('a`b\nc')).toBe('aˋb c');
  });
});

describe('terminal and CSV', () => {
  it('inertTerminalLine: no control character, bidi override or newline reaches the terminal', () => {
    fc.assert(
      fc.property(fc.fullUnicodeString({ maxLength: 40 }), (input) => {
        expect(inertTerminalLine(input)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      }),
      runs,
    );
    expect(inertTerminalLine('a\u001b[2Jb\nc\u009b31m')).toBe('a\\u001b[2Jb\\nc\\u009b31m');
    expect(inertTerminalText('one\ntwo\u001b]0;x\u0007')).toBe('one\ntwo\\u001b]0;x\\u0007');
  });

  it('inertTerminalJson escapes what JSON.stringify leaves raw, and stays the same JSON', () => {
    fc.assert(
      fc.property(fc.fullUnicodeString({ maxLength: 40 }), (input) => {
        const json = inertTerminalJson(JSON.stringify({ input }));
        expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
        expect(JSON.parse(json)).toEqual({ input });
      }),
      runs,
    );
  });

  it('inertCsvCell: formula cells open as text, the rest is RFC 4180', () => {
    for (const formula of ['=1+2', '+1', '-2+3', '@SUM(A1)', ' =cmd|"/c calc"!A1', '=HYPERLINK("http://evil","x")']) {
      const cell = inertCsvCell(formula);
      expect(cell.startsWith(`"'`)).toBe(true);
    }
    expect(inertCsvCell('plain')).toBe('plain');
    expect(inertCsvCell('a,b')).toBe('"a,b"');
    expect(inertCsvCell('say "hi"')).toBe('"say ""hi"""');
    expect(inertCsvCell('two\nlines')).toBe('"two\nlines"');
    expect(inertCsvCell('\u001b[2J')).toBe('\\u001b[2J');
    // Read back with a minimal RFC 4180 reader, a cell is what was written (after the text marker).
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (input) => {
        const cell = inertCsvCell(input);
        const value = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
        const formula = /^\s*[=+\-@]/.test(inertTerminalText(input));
        expect(formula ? value.slice(1) : value).toBe(inertTerminalText(input));
      }),
      runs,
    );
  });
});

describe('text from people reaching Mattermost, end to end (chat harness: a real server, the fake Mattermost)', () => {
  const HOSTILE = '@all [sso](http://evil.example) ![x](http://evil.example/x.png)';
  /** The hostile name as Mattermost would act on it: an unescaped link or image, a bare URL, a mention of all. */
  const live = (text: string) => /(^|[^\\])!?\[(sso|x)\]\(|http:\/\/evil|@all/.test(text);

  it('a hostile ring name is inert in command replies, in the Force dialog, and on the card', async () => {
    const h = await startChatHarness();
    try {
      const ring = await h.ring(HOSTILE, 1, { soak: 600 });
      await h.settle();
      const listed = await h.slash('carol', 'ring list');
      expect(listed.ephemeral).toContain('sso');
      expect(live(listed.ephemeral ?? '')).toBe(false);
      const status = await h.slash('carol', 'status');
      expect(live(status.ephemeral ?? '')).toBe(false);
      await h.slash('alice', `ring release --ring ${ring.id} --image ${IMAGE} --version v2`);
      await h.settle();
      await h.advance(2000);
      const card = h.card()!;
      const attachment = (card.props as { attachments: Array<{ title: string; text: string; fields: Array<{ title: string; value: string }> }> }).attachments[0]!;
      for (const text of [attachment.title, attachment.text, ...attachment.fields.flatMap((f) => [f.title, f.value])]) expect(live(text.replace(/`[^`]*`/g, '')), text).toBe(false);
      await h.mm.clickButton({ userId: h.users.alice, postId: card.id, actionId: h.button(/^Force/) });
      const dialog = h.mm.dialogs().at(-1)!;
      expect(String(dialog.dialog.introduction_text)).toContain('sso');
      expect(live(String(dialog.dialog.introduction_text))).toBe(false);
      expect(h.mm.notifications()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('ring get-release in chat shows secret env values redacted (every channel member reads the reply)', async () => {
    const h = await startChatHarness();
    try {
      const ring = await h.ring('canary', 1, { soak: 600 });
      await h.settle();
      const env = { MM_SQLSETTINGS_DATASOURCE: { value: 'postgres://mmuser:newpw123@db:5432/mm' }, MM_CUSTOM_REPLICA: { value: 'postgres://reader:replicapw@replica/mm' }, MM_FEATUREFLAGS_X: { value: 'on' } };
      expect((await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2', EnvVariables: env })).status).toBeLessThan(300);
      const releaseId = (await h.getRing(ring.id)).DesiredReleaseID as string;
      const reply = await h.slash('carol', `ring get-release --release ${releaseId}`);
      expect(reply.ephemeral).toContain('MM_FEATUREFLAGS_X');
      expect(reply.ephemeral).toContain('"on"');
      expect(reply.ephemeral).toContain(REDACTED);
      expect(reply.ephemeral).not.toMatch(/newpw123|replicapw/);
    } finally {
      await h.close();
    }
  });
});
