/**
 * The delivery a SIGKILL can interrupt, replayed deterministically: the process dies after Mattermost applied
 * a thread reply or a card edit and before the outbox recorded it. Another process takes the row over once
 * the dead one's lease has run out (60 s by default), after Mattermost has forgotten the pending_post_id
 * (30 s): the reply and the edit must still reach Mattermost exactly once. `npm run chaos` hit the edit case
 * (card edit 490 applied twice after 50 kills); this pins it down without waiting for luck.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Undo the record of a delivered outbox row as a process killed right after the send would have left it. */
async function forgetDelivery(chat: ChatHarness, id: number): Promise<void> {
  const now = chat.clock.now();
  await chat.server.store.db.updateTable('outbox').set({ delivered_at: null, locked_by: 'killed-replica', locked_until: now + 60_000 }).where('id', '=', id).execute();
}

describe('redelivery after a crash between the send and its record', () => {
  it('neither repeats a thread reply nor re-applies a card edit, even after Mattermost forgot the pending_post_id', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 0 });
    await h.ring('production', 2, { soak: 0 });
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await h.settle();
    for (let i = 0; i < 10; i++) await h.advance(2_000);
    const card = h.card()!;
    const db = h.server.store.db;
    const rows = await db.selectFrom('outbox').selectAll().where('sink', '=', 'mattermost').orderBy('id').execute();
    const reply = rows.filter((r) => r.payload.includes('"op":"reply"') && r.delivered_at !== null).at(-1)!;
    const edit = rows.filter((r) => r.payload.includes('"op":"edit-card"') && r.delivered_at !== null).at(-1)!;
    expect(reply).toBeDefined();
    expect(edit).toBeDefined();
    const threadBefore = h.thread();
    const revisions = () => h!.mm.postHistory(card.id).map((v) => (v.props as { elrond_revision?: number }).elrond_revision).filter((r) => r !== undefined);
    expect(revisions().filter((r) => r === edit.id)).toHaveLength(1);

    await forgetDelivery(h, reply.id);
    await forgetDelivery(h, edit.id);
    // The dead replica's lease runs out; by then Mattermost's 30 s pending_post_id memory is gone too.
    await h.advance(61_000);
    await h.advance(2_000);

    expect(h.thread()).toEqual(threadBefore);
    expect(revisions().filter((r) => r === edit.id)).toHaveLength(1);
    const after = await db.selectFrom('outbox').selectAll().where('id', 'in', [reply.id, edit.id]).execute();
    expect(after.every((r) => r.delivered_at !== null)).toBe(true);
    expect(await h.server.outbox.backlog()).toBe(0);
  });

  it('does not post a second card when the process died after Mattermost created the card and before Elrond recorded it', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 0 });
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await h.settle();
    const db = h.server.store.db;
    const [card] = h.cards();
    expect(card).toBeDefined();
    const rollout = await db.selectFrom('rollouts').selectAll().where('post_id', '=', card!.id).executeTakeFirstOrThrow();
    const create = await db.selectFrom('outbox').selectAll().where('sink', '=', 'mattermost').where('payload', 'like', '%"create-card"%').executeTakeFirstOrThrow();
    // The state a SIGKILL right after Mattermost's answer leaves: no post recorded, the row still leased by the dead process.
    await db.updateTable('rollouts').set({ post_id: null }).where('id', '=', rollout.id).execute();
    await forgetDelivery(h, create.id);
    await h.advance(61_000);
    // The adopted card is redrawn (it may have missed events since): edits are spaced 2 s apart.
    for (let i = 0; i < 3; i++) await h.advance(2_000);

    expect(h.cards().map((c) => c.id)).toEqual([card!.id]);
    expect((await db.selectFrom('rollouts').select('post_id').where('id', '=', rollout.id).executeTakeFirstOrThrow()).post_id).toBe(card!.id);
    expect(await h.server.outbox.backlog()).toBe(0);
  });
});
