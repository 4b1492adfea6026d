import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import type { ServerConfig } from '../src/config.js';

/**
 * Issue 13, "High — a click's user is whatever user_id the body claims": each attack, sent to a real Elrond server
 * on 127.0.0.1 the way an attacker who learned a button context would (or through the fake Mattermost), is refused
 * with a message saying why, and the database is the same before and after.
 */

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

/** canary soaking, production waiting for approval, both released by dave (a releaser) from chat. */
async function setup(config: Partial<ServerConfig> = {}): Promise<Setup> {
  h = await startChatHarness(config);
  const canary = await h.ring('canary', 1, { soak: 600 });
  const production = await h.ring('production', 2, { soak: 600 });
  expect((await h.api('POST', `/ring/${production.id}/update`, { approvalRequired: true })).status).toBe(202);
  await h.settle();
  expect((await h.slash('dave', `ring release --all-rings --image ${IMAGE} --version v2`)).ephemeral).toMatch(/release-pending|soaking|started/i);
  await h.settle();
  await h.advance(2000);
  expect(h.buttons()).toEqual(['Approve production', 'Force canary', 'Pause', 'Cancel']);
  return { h, canary: canary.id, production: production.id, card: h.card()!.id };
}

/** The rows a refused request must leave alone. */
async function rows(h: ChatHarness): Promise<string> {
  const db = h.server.store.db;
  return JSON.stringify({
    rings: await db.selectFrom('rings').selectAll().orderBy('id').execute(),
    events: await db.selectFrom('events').select(['id', 'kind', 'message']).orderBy('id').execute(),
    rollouts: await db.selectFrom('rollouts').selectAll().orderBy('id').execute(),
  });
}

function clickBody(s: Setup, context: unknown, overrides: Record<string, unknown> = {}) {
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

async function refusedClick(s: Setup, body: Record<string, unknown>, why: RegExp): Promise<void> {
  const response = await s.h.chatPost('action', body);
  expect(response.status).toBe(200);
  expect(response.body.ephemeral_text).toMatch(why);
  expect(response.body.ephemeral_text).toMatch(/Nothing was (changed|started)/);
}

describe('security: who clicked is proven by Mattermost', () => {
  it('a username as user_id is refused (only a 26-character Mattermost id names a user)', async () => {
    const s = await setup();
    const approve = s.h.storedAction(/^Approve production/).integration.context;
    const before = await rows(s.h);
    for (const claimed of ['bob', 'alice', 'BOB', ' '.repeat(26), `${s.h.users.bob.toUpperCase()}`, `${s.h.users.bob}x`]) {
      await refusedClick(s, clickBody(s, approve, { user_id: claimed, user_name: 'bob' }), /does not come with a Mattermost user id/);
    }
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await rows(s.h)).toBe(before);
  });

  it('the `username/<approver>` path trick is refused, never looked up as a path', async () => {
    const s = await setup();
    const approve = s.h.storedAction(/^Approve production/).integration.context;
    const before = await rows(s.h);
    for (const claimed of ['username/bob', 'username%2Fbob', '../users/username/bob', 'username/bob00000000000000']) {
      await refusedClick(s, clickBody(s, approve, { user_id: claimed }), /does not come with a Mattermost user id/);
    }
    // A well-formed id Mattermost does not know: the lookup fails, and a failed lookup denies.
    await refusedClick(s, clickBody(s, approve, { user_id: 'abcdefghijklmnopqrstuvwxyz' }), /Mattermost does not know the user/);
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await rows(s.h)).toBe(before);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(0);
  });

  it("a dialog opened with one user's trigger and another user's id is refused: no dialog, nothing forced", async () => {
    const s = await setup();
    const force = s.h.storedAction(/^Force canary/).integration.context;
    const before = await rows(s.h);
    // carol (a viewer) clicked; the attacker swaps in alice's (an admin's) id but only has carol's trigger.
    const carolsTrigger = s.h.mm.issueTriggerId(s.h.users.carol, s.h.channelId);
    await refusedClick(s, clickBody(s, force, { user_id: s.h.users.alice, user_name: 'alice', trigger_id: carolsTrigger }), /trigger id was issued to another user/);
    // A trigger that does not decode names nobody either.
    await refusedClick(s, clickBody(s, force, { user_id: s.h.users.alice, trigger_id: 'bm90LWEtdHJpZ2dlcg==' }), /trigger id was issued to another user/);
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await rows(s.h)).toBe(before);
    // The dialog Mattermost does show (to alice, for alice) carries a state only alice may submit.
    const opened = await s.h.press('alice', /^Force canary/);
    expect(opened.click.failed).toBe(false);
    const dialog = s.h.mm.dialogs().at(-1)!;
    expect(dialog.userId).toBe(s.h.users.alice);
    const stolen = await s.h.chatPost('dialog', { type: 'dialog_submission', callback_id: 'force', state: dialog.dialog.state, user_id: s.h.users.carol, channel_id: s.h.channelId, team_id: s.h.teamId, submission: { reason: 'not mine' }, cancelled: false });
    expect(stolen.body.error).toMatch(/opened for someone else/);
  });

  it('a Cancel from an older release cannot cancel a newer one', async () => {
    const s = await setup();
    const oldCancel = s.h.storedAction(/^Cancel$/).integration.context;
    // canary finishes the old release; production gets a newer one (v3), waiting.
    await s.h.advance(600_000);
    await s.h.advance(2000);
    expect((await s.h.slash('alice', `ring release --ring ${s.production} --image ${IMAGE} --version v3`)).ephemeral).toMatch(/release-pending/);
    await s.h.settle();
    const before = await rows(s.h);
    const trigger = s.h.mm.issueTriggerId(s.h.users.alice, s.h.channelId);
    await refusedClick(s, clickBody(s, oldCancel, { user_id: s.h.users.alice, user_name: 'alice', trigger_id: trigger }), /Another release is waiting on production/);
    // Nor may it be used on the newer card's post.
    const newCard = s.h.cards()[1]!.id;
    await refusedClick(s, clickBody(s, oldCancel, { user_id: s.h.users.alice, trigger_id: trigger, post_id: newCard }), /belongs to another post/);
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await rows(s.h)).toBe(before);
    expect((await s.h.getRing(s.production)).State).toBe('release-pending');
  });

  it('a replayed dialog submission is refused (the used state is a database row: any replica, any restart)', async () => {
    const s = await setup();
    await s.h.mm.clickButton({ userId: s.h.users.alice, postId: s.card, actionId: s.h.button(/^Force canary/) });
    const dialog = s.h.mm.dialogs().at(-1)!;
    const body = { type: 'dialog_submission', callback_id: 'force', state: dialog.dialog.state, user_id: s.h.users.alice, channel_id: s.h.channelId, team_id: s.h.teamId, submission: { reason: 'hotfix for outage' }, cancelled: false };
    const first = await s.h.chatPost('dialog', body);
    expect(first.body ?? {}).toEqual({});
    await s.h.settle();
    const before = await rows(s.h);
    const replayed = await s.h.chatPost('dialog', { ...body, submission: { reason: 'again' } });
    expect(replayed.body.error).toMatch(/already submitted once\. Nothing was changed/);
    expect(await rows(s.h)).toBe(before);
    const used = await s.h.server.store.db.selectFrom('system').select('key').where('key', 'like', 'used-once:dialog:%').execute();
    expect(used).toHaveLength(1);
    expect((await s.h.events(s.canary)).filter((e) => e.kind === 'ring.forced')).toHaveLength(1);
  });

  it('privileged buttons are good for an hour; then a click redraws the card, and the fresh button works', async () => {
    const s = await setup();
    const now = s.h.clock.now();
    for (const label of [/^Approve production/, /^Force canary/, /^Cancel$/]) expect(s.h.storedAction(label).integration.context.exp as number).toBeLessThanOrEqual(now + 3600_000);
    expect(s.h.storedAction(/^Pause$/).integration.context.exp as number).toBeGreaterThan(now + 3600_000);
    s.h.clock.advance(3600_000 + 1000);
    const before = await rows(s.h);
    const click = await s.h.mm.clickButton({ userId: s.h.users.bob, postId: s.card, actionId: s.h.button(/^Approve production/) });
    expect(click.ephemeralText).toMatch(/expired; the card is being redrawn/);
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await rows(s.h)).toBe(before);
    await s.h.advance(2000);
    const again = await s.h.press('bob', /^Approve production/);
    expect(again.submitted?.closed).toBe(true);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(1);
  });
});

describe('security: chat roles are Mattermost user ids', () => {
  it('a renamed user keeps the role; a newcomer taking the old name does not get it', async () => {
    const s = await setup();
    s.h.mm.renameUser(s.h.users.bob, 'robert');
    const newcomer = s.h.mm.addUser({ username: 'bob' }).id;
    s.h.mm.addChannelMember(s.h.channelId, newcomer);
    await s.h.server.chatRoles!.refresh();
    const before = await rows(s.h);
    const impostor = await s.h.mm.clickButton({ userId: newcomer, postId: s.card, actionId: s.h.button(/^Approve production/) });
    expect(impostor.ephemeralText).toMatch(/@bob may not approve: approvers are @bob; admins approve too/);
    expect(s.h.mm.dialogs()).toEqual([]);
    expect(await rows(s.h)).toBe(before);
    const renamed = await s.h.press('bob', /^Approve production/);
    expect(renamed.submitted?.closed).toBe(true);
    expect((await s.h.events(s.production)).filter((e) => e.kind === 'ring.approved')).toHaveLength(1);
  });

  it('a listed name nobody has grants nothing, and is granted once that user exists (re-resolved)', async () => {
    h = await startChatHarness({ admins: ['alice'], approvers: ['erin'] });
    await h.ring('gated', 1, { soak: 0 });
    const erin = h.mm.addUser({ username: 'erin' }).id;
    h.mm.addChannelMember(h.channelId, erin);
    const refused = await h.mm.runSlashCommand({ userId: erin, channelId: h.channelId, text: 'ring approve --ring gated' });
    expect(refused.ephemeral).toMatch(/@erin may not approve/);
    await h.server.chatRoles!.refresh();
    const allowed = await h.mm.runSlashCommand({ userId: erin, channelId: h.channelId, text: 'ring approve --ring gated' });
    expect(allowed.ephemeral).not.toMatch(/may not approve/);
  });

  it('with no --admins chat only reads (and freezes), and every refusal says how to name admins', async () => {
    h = await startChatHarness({ admins: [], releasers: [], approvers: [] });
    const ring = await h.ring('canary', 1, { soak: 0 });
    await h.settle();
    const before = await rows(h);
    for (const line of [`ring release --ring ${ring.id} --version v9`, 'ring release --pause', `ring update --ring ${ring.id} --soak-time 5`, `ring approve --ring ${ring.id}`]) {
      const reply = await h.slash('alice', line);
      expect(reply.ephemeral, line).toMatch(/may not .*start it with --admins <Mattermost username>/);
    }
    expect(await rows(h)).toBe(before);
    expect((await h.slash('carol', 'status')).ephemeral).toMatch(/canary/);
    expect((await h.slash('carol', `freeze now --reason incident --until +1h --ring ${ring.id}`)).ephemeral).not.toMatch(/may not/);
  });

  it('releasers release, pause and cancel, but do not approve, force or change rings', async () => {
    const s = await setup();
    expect((await s.h.mm.clickButton({ userId: s.h.users.dave, postId: s.card, actionId: s.h.button(/^Pause$/) })).ephemeralText).toMatch(/Done: pause applied to production/);
    expect((await s.h.mm.clickButton({ userId: s.h.users.dave, postId: s.card, actionId: s.h.button(/^Force canary/) })).ephemeralText).toMatch(/@dave may not force: ask an Elrond admin/);
    expect((await s.h.slash('dave', `ring update --ring ${s.canary} --soak-time 5`)).ephemeral).toMatch(/@dave may not/);
  });
});
