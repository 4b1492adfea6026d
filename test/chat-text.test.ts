import { describe, it, expect } from 'vitest';
import { chatCode, chatText } from '../src/chat/chat-text.js';
import { renderWords } from '../src/chat/render-words.js';
import { milestoneOf, type MilestoneContext } from '../src/model/milestones.js';
import { RING_STATES } from '../src/model/ring-states.js';
import { IG_STATES } from '../src/model/installation-group-states.js';
import { notificationsFor } from './fakes/mattermost/mentions.js';
import { RAW_STATE } from './helpers/thread-replies.js';
import { markdownTable, renderForChat } from '../src/chat/render-for-chat.js';
import type { RingJson } from '../src/commands/elrond-api.js';

const members = new Map([
  ['u-alice', 'alice'],
  ['u-bob', 'bob'],
  ['u-bot', 'elrond-bot'],
]);
const notified = (message: string) => notificationsFor({ message, props: {} }, 'u-bot', members, false).notified;

describe('chatText: what someone else wrote, made inert', () => {
  it('never notifies, though the same text raw does (Mattermost\'s own mention parser decides)', () => {
    for (const raw of ['@alice', 'hey @bob.', '@ALICE: look', '@channel', 'all hands @all!', '(@here)', 'cc:@bob', '**@alice**']) {
      expect(notified(raw).length, raw).toBeGreaterThan(0);
      expect(notified(chatText(raw)), raw).toEqual([]);
      expect(notified(`*${chatText(raw)}*`), raw).toEqual([]);
    }
  });

  it('cannot link, embed an image or break out of its escapes; one line; cut on a character', () => {
    const text = chatText('see [this](https://evil.example) ![img](https://evil.example/i.png) <https://evil.example> \\[x](y)\nnext line');
    // The rule is src/model/inert-text.ts: escapes, and a zero-width joiner before each `://` so no bare URL links.
    expect(text).toBe('see \\[this\\](https\u200D://evil.example) !\\[img\\](https\u200D://evil.example/i.png) \\<https\u200D://evil.example\\> \\\\\\[x\\](y) next line');
    expect(text).not.toContain('\n');
    const cut = chatText('🚀'.repeat(100), 10);
    expect([...cut]).toHaveLength(10);
    expect(cut.endsWith('🚀…')).toBe(true);
    expect(chatCode('a `b`\nc')).toBe('a ˋbˋ c');
  });

  it('renders a person as a mention only where the words and the caller both allow it', () => {
    const words = ['to ', { person: 'alice', notify: true }, ' and ', { person: 'bob' }, ' and ', { person: 'not a@name', notify: true }];
    expect(renderWords(words, { mentions: true, now: 0 })).toBe('to @alice and bob and not a@\u200Dname');
    expect(renderWords(words, { mentions: false, now: 0 })).toBe('to alice and bob and not a@\u200Dname');
  });
});

describe('milestones never name a state', () => {
  it('for any ring or group transition, from the supervisor or a person', () => {
    const ctx: MilestoneContext = { rollout: { kind: 'release', requestedBy: 'alice', fromChat: true }, release: { image: 'img', version: 'v2' }, from: { image: 'img', version: 'v1' }, ringName: 'canary', groups: 2, ringStartedAt: 0, soakUntil: 600_000, forcedBy: 'bob', ringEtaMs: 60_000 };
    let told = 0;
    for (const source of ['supervisor', 'chat']) {
      for (const from of RING_STATES) {
        for (const to of RING_STATES) {
          const m = milestoneOf({ kind: 'ring.state', at: 1000, actor: 'alice', source, ringId: 'r', oldState: from, newState: to, data: { reason: 'group x failed', ringName: 'canary' } }, ctx);
          if (!m) continue;
          told++;
          expect(renderWords(m.words, { mentions: true, now: 0 }), `${from} → ${to}`).not.toMatch(RAW_STATE);
        }
      }
      for (const from of IG_STATES) {
        for (const to of IG_STATES) {
          const m = milestoneOf({ kind: 'group.state', at: 1000, actor: 'elrond', source, ringId: 'r', oldState: from, newState: to, data: { groupName: 'ig', installations: { updated: 4, total: 4 }, rolloutStartedAt: 0 } }, ctx);
          if (m) expect(renderWords(m.words, { mentions: true, now: 0 })).not.toMatch(RAW_STATE);
        }
      }
    }
    expect(told).toBeGreaterThan(5);
  });
});

describe('renderForChat: a list longer than one message', () => {
  // 500 rings as `/elrond ring list` shows them; names carry Markdown and mentions that must stay inert.
  const rings = Array.from({ length: 500 }, (_, i) => ({ Name: `ring-${i} [sso](http://evil) @all`, ID: `r${String(i).padStart(25, '0')}`, Priority: i + 1, State: 'release-pending', installationGroups: [], statusMessage: `waiting for ring-${i - 1}` })) as unknown as RingJson[];

  it('is cut at 15,000 characters after whole rows were rendered inert, with a note pointing to the CLI and the API', () => {
    const full = markdownTable(['RING', 'ID', 'PRIORITY', 'STATE', 'GROUPS', 'STATUS'], rings.map((r) => [r.Name, r.ID, String(r.Priority), r.State, '0', r.statusMessage ?? '']));
    const reply = renderForChat({ kind: 'json', of: 'rings', value: rings });
    // Exactly what cutting the whole table gives: rendering stops early only where the cut would drop the rest.
    expect(reply).toBe(`${full.slice(0, 15_000)}\n… (truncated; use the CLI or the API for the full output)`);
    expect(reply).toContain('| ring-0 \\[sso\\](http\u200d://evil) @\u200dall |');
    expect(notified(reply)).toEqual([]);
    const table = { kind: 'table' as const, headers: ['RING'], rows: rings.map((r) => [r.Name]), json: null };
    expect(renderForChat(table)).toBe(`${markdownTable(['RING'], table.rows).slice(0, 15_000)}\n… (truncated; use the CLI or the API for the full output)`);
  });
});
