import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import type { ServerConfig } from '../src/config.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Setup {
  h: ChatHarness;
  canary: string;
  production: string;
  card: string;
}

/** canary soaking (600 s), production waiting for approval, both released by alice from chat; the card has its buttons. */
async function setup(config: Partial<ServerConfig> = {}): Promise<Setup> {
  h = await startChatHarness(config);
  const canary = await h.ring('canary', 1, { soak: 600 });
  const production = await h.ring('production', 2, { soak: 600 });
  expect((await h.api('POST', `/ring/${production.id}/update`, { approvalRequired: true })).status).toBe(202);
  await h.settle();
  expect((await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`)).failed).toBe(false);
  await h.settle();
  await h.advance(2000);
  expect(h.buttons()).toEqual(['Approve production', 'Force canary', 'Pause', 'Cancel']);
  return { h, canary: canary.id, production: production.id, card: h.card()!.id };
}

/** Everything a refused request must leave alone: rings, events, queued deliveries, the card. */
async function snapshot(h: ChatHarness, options: { withOutbox?: boolean } = {}) {
  const db = h.server.store.db;
  const rings = await db.selectFrom('rings').selectAll().orderBy('id').execute();
  const events = await db.selectFrom('events').select(['id', 'kind', 'message']).orderBy('id').execute();
  const outbox = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rollouts = await db.selectFrom('rollouts').selectAll().orderBy('id').execute();
  const card = h.card();
  return JSON.stringify({ rings, events, outbox: options.withOutbox === false ? 0 : Number(outbox.n), rollouts, card: options.withOutbox === false ? 0 : card && h.mm.postHistory(card.id).length });
}

function actionBody(s: Setup, context: unknown, overrides: Record<string, unknown> = {}) {
  return {
    user_id: s.h.users.bob,
    user_name: 'bob',
    channel_id: s.h.channelId,
    channel_name: 'releases',
    team_id: s.h.teamId,
    team_domain: 'release',
    post_id: s.card,
    trigger_id: s.h.mm.issueTriggerId(s.h.users.bob, s.h.channelId),
    type: 'button',
    data_source: '',
    context,
    ...overrides,
  };
}

async function expectRefusedAction(s: Setup, body: Record<string, unknown>, reason: RegExp) {
  const response = await s.h.chatPost('action', body);
  expect(response.status).toBe(200);
  expect(response.contentType).toBe('application/json');
  expect(response.body.ephemeral_text).toMatch(reason);
  expect(response.body.update).toBeUndefined();
}

describe('chat-ops security: buttons', () => {
  it('a forged signature is refused and changes nothing', async () => {
    const s = await setup();
    const approve = s.h.storedAction(/^Approve production/).integration.context;
    const force = s.h.storedAction(/^Force canary/).integration.context;
    const before = await snapshot(s.h);
    const forgeries: Array<[Record<string, unknown> | unknown, RegExp]> = [
      [{ ...approve, ring: s.canary }, /signature is not valid/],
      // Cancel and Rollback sign no ring: a ring riding along is refused before the signature is even checked.
      [{ ...approve, action: 'cancel' }, /carries fields Elrond did not sign/],
      [{ ...approve, action: 'rollback' }, /carries fields Elrond did not sign/],
      [{ ...s.h.storedAction(/^Pause$/).integration.context, ring: s.production }, /carries fields Elrond did not sign/],
      [{ ...force, action: 'approve', ring: s.production }, /signature is not valid/],
      [{ ...approve, exp: (approve.exp as number) + 365 * 24 * 3600_000 }, /signature is not valid/],
      [{ ...approve, post: 'someotherpost' }, /signature is not valid/],
      [{ ...approve, sig: (approve.sig as string).replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }, /signature is not valid/],
      [{ ...approve, sig: `${approve.sig as string}00` }, /signature is not valid/],
      [{ ...approve, sig: undefined }, /missing parts of its signature/],
      [{ ...approve, exp: String(approve.exp) }, /missing parts of its signature/],
      [{ action: 'approve', ring: s.production }, /missing parts of its signature/],
      [undefined, /no signature/],
      ['approve', /no signature/],
    ];
    for (const [context, reason] of forgeries) await expectRefusedAction(s, actionBody(s, context), reason);
    // A genuine context replayed on another post.
    await expectRefusedAction(s, actionBody(s, approve, { post_id: 'anotherpostanotherpost1234' }), /belongs to another post/);
    expect(await snapshot(s.h)).toBe(before);
    expect((await s.h.getRing(s.production)).State).toBe('release-pending');
  });

  it('an expired signature (more than 24 h old) is refused, changes nothing, and gets the card redrawn with fresh buttons', async () => {
    const s = await setup();
    s.h.clock.advance(24 * 3600_000 + 1000);
    const before = await snapshot(s.h, { withOutbox: false });
    const click = await s.h.mm.clickButton({ userId: s.h.users.bob, postId: s.card, actionId: s.h.button(/^Approve production/) });
    expect(click.failed).toBe(false);
    expect(click.ephemeralText).toMatch(/expired/);
    for (const label of [/^Pause$/, /^Cancel$/, /^Force canary/]) {
      const other = await s.h.mm.clickButton({ userId: s.h.users.alice, postId: s.card, actionId: s.h.button(label) });
      expect(other.ephemeralText).toMatch(/expired/);
    }
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await snapshot(s.h, { withOutbox: false })).toBe(before);
    expect((await s.h.getRing(s.production)).approvedBy ?? null).toBeNull();
    // The redrawn card's buttons work again.
    await s.h.advance(2000);
    const again = await s.h.press('bob', /^Approve production/);
    expect(again.submitted?.closed).toBe(true);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(1);
  });

  it('who may act is decided from user_id, never user_name', async () => {
    const s = await setup();
    const approve = s.h.storedAction(/^Approve production/).integration.context;
    const pause = s.h.storedAction(/^Pause$/).integration.context;
    const before = await snapshot(s.h);
    // carol claims to be bob (user_name) / alice: the server-supplied user_id says carol.
    await expectRefusedAction(s, actionBody(s, approve, { user_id: s.h.users.carol, user_name: 'bob' }), /@carol may not approve/);
    await expectRefusedAction(s, actionBody(s, pause, { user_id: s.h.users.carol, user_name: 'alice' }), /@carol may not pause/);
    // An unknown or missing user_id is nobody: refused before any role is asked.
    await expectRefusedAction(s, actionBody(s, approve, { user_id: 'nosuchusernosuchuser123456', user_name: 'bob' }), /Mattermost does not know the user/);
    await expectRefusedAction(s, actionBody(s, approve, { user_id: undefined, user_name: 'bob' }), /does not come with a Mattermost user id/);
    // Through Mattermost: carol is neither an approver nor an admin.
    const carolApproves = await s.h.mm.clickButton({ userId: s.h.users.carol, postId: s.card, actionId: s.h.button(/^Approve production/) });
    expect(carolApproves.ephemeralText).toMatch(/@carol may not approve/);
    const carolForces = await s.h.mm.clickButton({ userId: s.h.users.carol, postId: s.card, actionId: s.h.button(/^Force canary/) });
    expect(carolForces.ephemeralText).toMatch(/@carol may not force/);
    const carolCancels = await s.h.mm.clickButton({ userId: s.h.users.carol, postId: s.card, actionId: s.h.button(/^Cancel$/) });
    expect(carolCancels.ephemeralText).toMatch(/@carol may not cancel/);
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await snapshot(s.h)).toBe(before);
  });

  it('the person who started the release may not approve it', async () => {
    const s = await setup();
    const before = await snapshot(s.h);
    // alice is an admin, but she started this release: the rule reads stored facts, so her dialog's submission is refused.
    const { submitted } = await s.h.press('alice', /^Approve production/);
    expect(submitted?.error).toMatch(/@alice started this release and may not approve it/);
    expect(await snapshot(s.h)).toBe(before);
    // The ring keeps waiting: time alone does not start it.
    await s.h.advance(600_000);
    await s.h.advance(2000);
    expect((await s.h.getRing(s.production)).State).toBe('release-pending');
    expect(s.h.buttons()).toContain('Approve production');
  });

  it('with allowSelfApproval the starter may approve', async () => {
    const s = await setup({ allowSelfApproval: true });
    const { submitted } = await s.h.press('alice', /^Approve production/);
    expect(submitted?.closed).toBe(true);
    const events = (await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved');
    expect(events).toHaveLength(1);
  });

  it('an approver\'s click starts the waiting ring; a double click applies once', async () => {
    const s = await setup();
    const actionId = s.h.button(/^Approve production/);
    // Two dialogs (a double click), both submitted: one approval.
    const [first, second] = await Promise.all([s.h.press('bob', /^Approve production/), s.h.press('bob', /^Approve production/)]);
    expect(first.submitted?.failed).toBe(false);
    expect(second.submitted?.failed).toBe(false);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(1);
    expect((await s.h.getRing(s.production)).approvedBy ?? 'bob').toBe('bob');

    // The approval releases production as soon as canary is done.
    await s.h.advance(600_000);
    await s.h.advance(600_000);
    expect((await s.h.getRing(s.production)).State).toBe('stable');
    // Clicking Approve on the finished ring still does nothing more.
    await s.h.mm.clickButton({ userId: s.h.users.bob, postId: s.card, actionId }).catch(() => undefined);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(1);
  });

  it('double Pause and double Force apply once', async () => {
    const s = await setup();
    const pause = s.h.button(/^Pause$/);
    await Promise.all([
      s.h.mm.clickButton({ userId: s.h.users.alice, postId: s.card, actionId: pause }),
      s.h.mm.clickButton({ userId: s.h.users.alice, postId: s.card, actionId: pause }),
    ]);
    expect((await s.h.events(s.production)).filter((e) => e.newState === 'release-paused')).toHaveLength(1);

    await s.h.mm.clickButton({ userId: s.h.users.alice, postId: s.card, actionId: s.h.button(/^Force canary/) });
    const dialog = s.h.mm.dialogs().at(-1)!;
    const results = await Promise.all([
      s.h.mm.submitDialog({ dialogId: dialog.id, submission: { reason: 'first reason' } }),
      s.h.mm.submitDialog({ dialogId: dialog.id, submission: { reason: 'second reason' } }),
    ]);
    for (const result of results) expect(result.failed).toBe(false);
    expect((await s.h.events(s.canary)).filter((e) => e.kind === 'ring.forced')).toHaveLength(1);
  });

  it('a stale card cannot approve a newer release of the same ring, and is redrawn without its buttons', async () => {
    const s = await setup();
    const oldApprove = s.h.button(/^Approve production/);
    // A newer release replaces v2 on production before anyone approved it.
    const newer = await s.h.slash('alice', `ring release --ring ${s.production} --image ${IMAGE} --version v3`);
    expect(newer.ephemeral).toMatch(/"State": "release-pending"/);
    const rollouts = await s.h.server.store.db.selectFrom('rollouts').select('id').execute();
    expect(rollouts).toHaveLength(2);
    // Clicked before the old card could be redrawn (or while Mattermost was unreachable).
    const click = await s.h.mm.clickButton({ userId: s.h.users.bob, postId: s.card, actionId: oldApprove });
    expect(click.ephemeralText).toMatch(/⛔ Ring production has moved on .*Nothing was changed/);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(0);
    expect((await s.h.getRing(s.production)).approvedBy ?? null).toBeNull();

    // The v2 card is redrawn because production moved on: no more Approve there, and it says why.
    await s.h.settle();
    await s.h.advance(2000);
    expect(s.h.buttons(s.card)).toEqual(['Force canary']);
    expect(JSON.stringify(s.h.mm.post(s.card)!.props)).toMatch(/moved on to another release/);
    const newCard = s.h.cards()[1]!.id;
    expect(s.h.buttons(newCard)).toContain('Approve production');
    const approved = await s.h.press('bob', /^Approve production/, { postId: newCard });
    expect(approved.submitted?.closed).toBe(true);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(1);
  });
  it('a redraw moves Force from canary to production: a stale click on canary\'s Force is refused by Mattermost and forces nothing', async () => {
    h = await startChatHarness();
    await h.ring('canary', 1, { soak: 600 });
    const production = await h.ring('production', 2, { soak: 600 });
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    await h.advance(2000);
    const card = h.card()!.id;
    // alice's client still shows the card with "Force canary" (ids name their ring: letters and digits only).
    const staleForce = h.button(/^Force canary/);
    expect(staleForce).toMatch(/^[A-Za-z0-9]+$/);
    // canary's soak ends; production is released and soaks: the card now offers "Force production".
    await h.advance(600_000);
    await h.advance(2000);
    expect((await h.getRing(production.id)).State).toBe('soaking-requested');
    expect(h.buttons()).toContain('Force production');

    const click = await h.mm.clickButton({ userId: h.users.alice, postId: card, actionId: staleForce });
    expect(click).toMatchObject({ failed: true, sent: false, status: 404 });
    expect(h.mm.dialogs()).toEqual([]);
    await h.advance(2000);
    expect((await h.events(production.id)).filter((e) => e.kind === 'ring.forced')).toHaveLength(0);
    expect((await h.getRing(production.id)).State).toBe('soaking-requested');
  });
});

describe('chat-ops security: dialogs', () => {
  async function openForceDialog(s: Setup) {
    const click = await s.h.mm.clickButton({ userId: s.h.users.alice, postId: s.card, actionId: s.h.button(/^Force canary/) });
    expect(click.failed).toBe(false);
    return s.h.mm.dialogs().at(-1)!;
  }

  function dialogBody(s: Setup, state: string, overrides: Record<string, unknown> = {}) {
    return { type: 'dialog_submission', callback_id: 'force', state, user_id: s.h.users.alice, channel_id: s.h.channelId, team_id: s.h.teamId, submission: { reason: 'because I say so' }, cancelled: false, ...overrides };
  }

  it('a forged dialog state is refused and changes nothing', async () => {
    const s = await setup();
    const dialog = await openForceDialog(s);
    const state = JSON.parse(dialog.dialog.state as string) as Record<string, unknown>;
    const before = await snapshot(s.h);
    const forgeries = [
      JSON.stringify({ ...state, ring: s.production }),
      JSON.stringify({ ...state, action: 'rollback' }),
      JSON.stringify({ ...state, exp: (state.exp as number) + 3600_000 }),
      JSON.stringify({ ...state, post: s.h.users.carol }),
      JSON.stringify({ ...state, sig: 'f'.repeat(64) }),
      JSON.stringify({ action: 'force', ring: s.canary }),
      'not json',
      '',
    ];
    for (const forged of forgeries) {
      const response = await s.h.chatPost('dialog', dialogBody(s, forged));
      expect(response.status).toBe(200);
      expect(response.contentType).toBe('application/json');
      expect(response.body.error, forged).toMatch(/Nothing was changed/);
    }
    // A user-controlled callback_id cannot turn a force dialog into something else.
    const swapped = await s.h.chatPost('dialog', dialogBody(s, dialog.dialog.state as string, { callback_id: 'rollback', submission: { reason: 'x' } }));
    expect(swapped.body.errors?.reason).toMatch(/at least 3/);
    expect(await snapshot(s.h)).toBe(before);
  });

  it('a dialog opened for one user cannot be submitted by another', async () => {
    const s = await setup({ admins: ['alice', 'carol'] });
    const dialog = await openForceDialog(s);
    const before = await snapshot(s.h);
    // carol is an admin too, so only the binding to alice stops her.
    const result = await s.h.mm.submitDialog({ userId: s.h.users.carol, dialogId: dialog.id, submission: { reason: 'carol wants it' } });
    expect(result.closed).toBe(false);
    expect(result.error).toBe('This form was opened for someone else. Nothing was changed.');
    expect(await snapshot(s.h)).toBe(before);
    // alice herself can.
    const mine = await s.h.mm.submitDialog({ userId: s.h.users.alice, dialogId: dialog.id, submission: { reason: 'alice wants it' } });
    expect(mine.closed).toBe(true);
    const forced = (await s.h.events(s.canary)).filter((e) => e.kind === 'ring.forced');
    expect(forced).toHaveLength(1);
    expect(forced[0]!.data.reason).toBe('alice wants it');
  });

  it('an expired dialog state is refused and changes nothing; a cancelled dialog does nothing', async () => {
    const s = await setup();
    const dialog = await openForceDialog(s);
    const cancelled = await s.h.chatPost('dialog', dialogBody(s, dialog.dialog.state as string, { cancelled: true, submission: {} }));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({});
    s.h.clock.advance(10 * 60_000 + 1000);
    const before = await snapshot(s.h);
    const result = await s.h.mm.submitDialog({ dialogId: dialog.id, submission: { reason: 'too late now' } });
    expect(result.error).toMatch(/^This form has expired; click the button on the card again\. Nothing was changed\.$/);
    expect(await snapshot(s.h)).toBe(before);
  });

  it('a dialog state minted for an admin, replayed with a non-admin\'s user_id, is refused', async () => {
    const s = await setup();
    const dialog = await openForceDialog(s);
    // bob saw the state (it is visible to the client) and submits it as himself, straight to Elrond.
    const before = await snapshot(s.h);
    const response = await s.h.chatPost('dialog', dialogBody(s, dialog.dialog.state as string, { user_id: s.h.users.bob }));
    expect(response.body.error).toMatch(/Nothing was changed/);
    expect(await snapshot(s.h)).toBe(before);
  });
});
