import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import { MAX_PROPS_RUNES } from './fakes/mattermost/state.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Long names, of what people put in them: accents, emoji, Markdown, a mention (its group's name must stay under 128). */
const longName = (i: number) => `${String(i).padStart(2, '0')}-${'ürün-çalışma-🚀-[x](https://e.example)-@all-'.repeat(4)}`.slice(0, 110);

describe('a card for 50 rings with long names', () => {
  it('stays compact and within Mattermost\'s limits: 20 ring lines, the done rings counted in one, names cut safely', async () => {
    h = await startChatHarness();
    const rings = [];
    for (let i = 1; i <= 50; i++) rings.push(await h.ring(longName(i), i, { soak: 0 }));
    // The 31st waits for an approver: 30 rings done, 20 to go.
    await h.api('POST', `/ring/${rings[30]!.id}/update`, { approvalRequired: true });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    for (let i = 0; i < 200 && (await h.advanceToNextDeadline()); i++);
    for (let i = 0; i < 30 && (await h.server.outbox.backlog()) > 0; i++) await h.advance(1000);

    const card = h.card()!;
    const attachment = (card.props as any).attachments[0] as { text: string; fields: Array<{ title: string; value: string }> };
    expect(attachment.fields).toHaveLength(21);
    // The ring waiting for approval first, then the next ones in line; the 30 done are one line.
    expect(attachment.fields[0]!.value).toMatch(/^🟡 needs approval from bob/);
    expect(attachment.fields.slice(1, 20).every((f) => f.value.startsWith('⚪ waiting its turn'))).toBe(true);
    expect(attachment.fields[20]).toEqual({ title: '30 more rings', value: '🟢 30 done — `/elrond status` lists every ring', short: false });
    expect(attachment.text).toMatch(/^30 of 50 rings done$/m);
    for (const field of attachment.fields.slice(0, 20)) {
      // Cut to 60 characters (the escapes and mention breakers it adds aside), never inside a character.
      expect([...field.title.replace(/\\([\\`*_[\]<>|])/g, '$1').replace(/\u200D/g, '')].length).toBeLessThanOrEqual(60);
      expect(field.title.endsWith('…')).toBe(true);
      expect(field.title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect([...field.value].length).toBeLessThanOrEqual(600);
    }
    // Far inside Mattermost's limit on props (Post.IsValid), which the fake enforces; the @all in the names notified
    // nobody: only the approver was, by the approval reply.
    const size = [...JSON.stringify(h.mm.storedPost(card.id)!.props)].length;
    expect(size).toBeLessThan(MAX_PROPS_RUNES / 20);
    expect(h.mm.notifications().map((n) => [n.userId, [...h!.mm.post(n.postId)!.message][0]])).toEqual([[h.users.bob, '✋']]);
    const buttons = h.buttons();
    expect(buttons[0]).toMatch(/^Approve 31-/);
    expect([...buttons[0]!].length).toBeLessThanOrEqual(40);
  }, 120_000);
});
