import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import type { ServerConfig } from '../src/config.js';
import { CARD_PROGRESS_EDIT_INTERVAL_MS, CARD_STATE_EDIT_INTERVAL_MS } from '../src/chat/card-edits.js';
import { RAW_STATE, queuedReplies } from './helpers/thread-replies.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(config: Partial<ServerConfig> = {}, options: Parameters<typeof startChatHarness>[1] = {}): Promise<ChatHarness> {
  h = await startChatHarness(config, options);
  return h;
}

interface EventJson {
  id: number;
  at: number;
  kind: string;
  actor: string;
  source: string;
  ringId: string | null;
  rolloutId: string | null;
  oldState: string | null;
  newState: string | null;
  message: string;
  data: any;
}

/** Every event, oldest first. */
async function allEvents(h: ChatHarness): Promise<EventJson[]> {
  return ((await h.api('GET', '/events?limit=10000')).body as EventJson[]).reverse();
}

/** Deliver everything still queued (progress-only card edits wait up to 10 s). */
async function flush(h: ChatHarness): Promise<void> {
  for (let i = 0; i < 400 && (await h.server.outbox.backlog()) > 0; i++) await h.advance(500);
  expect(await h.server.outbox.backlog()).toBe(0);
}

/** Run every ring to rest, then deliver everything. */
async function runToEnd(h: ChatHarness): Promise<void> {
  for (let i = 0; i < 50 && (await h.advanceToNextDeadline()); i++);
  await flush(h);
}

function cardJson(h: ChatHarness, postId?: string): string {
  const post = postId ? h.mm.post(postId) : h.card();
  return JSON.stringify(post?.props ?? {});
}

function fields(h: ChatHarness, postId?: string): Array<{ title: string; value: string }> {
  const post = postId ? h.mm.post(postId) : h.card();
  return ((post?.props as any)?.attachments?.[0]?.fields ?? []) as Array<{ title: string; value: string }>;
}

async function openDialogAndSubmit(h: ChatHarness, user: 'alice' | 'bob' | 'carol', label: RegExp, reason: string, postId?: string) {
  const card = postId ?? h.card()!.id;
  const before = h.mm.dialogs().length;
  const click = await h.mm.clickButton({ userId: h.users[user], postId: card, actionId: h.button(label) });
  expect(click.failed).toBe(false);
  expect(click.ephemeralText).toBeUndefined();
  const dialogs = h.mm.dialogs();
  expect(dialogs.length).toBe(before + 1);
  const dialog = dialogs.at(-1)!;
  expect(dialog.url).toMatch(/\/mattermost\/dialog$/);
  expect(dialog.warnings).toEqual([]);
  expect((dialog.dialog.elements as Array<{ name: string }>).map((e) => e.name)).toEqual(['reason']);
  return h.mm.submitDialog({ userId: h.users[user], dialogId: dialog.id, submission: { reason } });
}

describe('chat-ops: release cards', () => {
  it('a release started from chat posts ONE card in that channel; REST releases post in notifyChannel', async () => {
    const h = await start();
    const ops = h.mm.addChannel({ teamId: h.teamId, name: 'ops' });
    h.mm.addChannelMember(ops.id, h.bot.userId);
    h.mm.addChannelMember(ops.id, h.users.alice);
    await h.ring('canary', 1, { soak: 60 });
    await h.ring('production', 2, { soak: 60, groups: 2 });
    await h.settle();

    const started = await h.mm.runSlashCommand({ userId: h.users.alice, channelId: ops.id, text: `ring release --all-rings --image ${IMAGE} --version v2` });
    expect(started.failed).toBe(false);
    await runToEnd(h);
    const opsCards = h.cards(ops.id);
    expect(opsCards).toHaveLength(1);
    expect(h.cards()).toHaveLength(0);
    // Only the card and its thread replies were posted there.
    const opsPosts = h.mm.posts(ops.id);
    expect(opsPosts.filter((p) => p.root_id === '')).toHaveLength(1);
    expect(opsPosts.filter((p) => p.root_id === opsCards[0]!.id).length).toBeGreaterThan(4);
    expect(cardJson(h, opsCards[0]!.id)).toMatch(/Started by alice from chat/);
    expect(cardJson(h, opsCards[0]!.id)).toMatch(/"color":"good"/);

    // Over REST: the card goes to release/releases.
    const rest = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v3' });
    expect(rest.status).toBe(202);
    await runToEnd(h);
    expect(h.cards(ops.id)).toHaveLength(1);
    expect(h.cards()).toHaveLength(1);
    expect(cardJson(h)).toMatch(/Release of mattermost\/mattermost-enterprise-edition:v3/);
    expect(cardJson(h)).toMatch(/Started by \S+ over the API/);
  });

  it('shows rings in order with state, progress, active → target, soak countdown, who started it and a Grafana link', async () => {
    const h = await start({ grafanaDashboardUrl: 'https://grafana.example.com/d/elrond?orgId=1' });
    // Created out of order: the card lists them by priority.
    await h.ring('production', 3, { soak: 600, groups: 2 });
    await h.ring('canary', 1, { soak: 600 });
    await h.ring('beta', 2, { soak: 600 });
    await h.settle();
    const startedAt = h.clock.now();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2 --reason "monthly release"`);
    await h.settle();
    await h.advance(2000);

    const card = h.card()!;
    const attachment = (card.props as any).attachments[0];
    expect(attachment.title).toBe(`Release of ${IMAGE}:v2`);
    expect(attachment.text).toMatch(/^Started by alice from chat at 12:00 UTC — monthly release$/m);
    // Rings in release order, by name; the image is said once, in the title: the rings show versions alone.
    expect(fields(h).map((f) => f.title)).toEqual(['canary', 'beta', 'production']);
    const [canary, beta, production] = fields(h).map((f) => f.value);
    expect(canary).toBe('🔵 soaking until 12:10 UTC (10m left) · `v1` → `v2` · `▓▓▓▓▓▓▓▓▓▓` 2/2 · 1/1 groups · 0s in, ~10m left');
    expect(beta).toBe('⚪ waiting its turn · `v1` → `v2` · starts ~12:10 UTC, done ~12:25 UTC');
    expect(production).toBe('⚪ waiting its turn · `v1` → `v2` · starts ~12:25 UTC, done ~12:45 UTC');
    expect(JSON.stringify(fields(h))).not.toContain(IMAGE);
    expect(attachment.text).toMatch(/^0 of 3 rings done · done about 12:45 UTC \(in 45m\)$/m);

    const grafana = /\[Grafana\]\(([^)]+)\)/.exec(attachment.text)?.[1];
    expect(grafana).toBeDefined();
    const link = new URL(grafana!);
    expect(link.origin + link.pathname).toBe('https://grafana.example.com/d/elrond');
    expect(link.searchParams.get('orgId')).toBe('1');
    expect(Number(link.searchParams.get('from'))).toBeLessThanOrEqual(startedAt);
    expect(link.searchParams.get('to')).toBe('now');

    await runToEnd(h);
    const done = new URL(/\[Grafana\]\(([^)]+)\)/.exec((h.card()!.props as any).attachments[0].text)![1]!);
    expect(Number(done.searchParams.get('to'))).toBeGreaterThan(startedAt + 1800_000);
    expect(fields(h).every((f) => /^🟢 on `v2` · `▓▓▓▓▓▓▓▓▓▓` \d+\/\d+ · \d\/\d groups · took /.test(f.value))).toBe(true);
    expect(JSON.stringify(fields(h))).not.toMatch(RAW_STATE);
  });

  it('with --max-parallel-groups 3, a ring of 3 groups is one group\'s time on the card and in its "started" reply', async () => {
    const h = await start({ maxParallelGroups: 3 });
    await h.ring('canary', 1, { soak: 600 });
    await h.ring('wide', 2, { soak: 0, groups: 3 });
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    await h.advance(2000);
    // canary soaks until 12:10; wide's 3 groups (no history: 5 min each) roll at once, as the engine runs them.
    const wide = fields(h).find((f) => f.title === 'wide')!.value;
    expect(wide).toBe('⚪ waiting its turn · `v1` → `v2` · starts ~12:10 UTC, done ~12:15 UTC');
    expect((h.card()!.props as any).attachments[0].text).toMatch(/^0 of 2 rings done · done about 12:15 UTC \(in 15m\)$/m);

    await h.advance(600_000);
    await h.settle();
    await flush(h);
    expect(h.thread()).toContain('▶️ **wide** started: `v1` → `v2`, 3 groups, about 5m.');
  });

  it('has no Grafana link without grafanaDashboardUrl', async () => {
    const h = await start();
    await h.ring('canary', 1);
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await runToEnd(h);
    expect(cardJson(h)).not.toMatch(/Grafana/);
  });

  it('is patched in place at most once a second, and every transition is also a thread reply, in order', async () => {
    const h = await start();
    const canary = await h.ring('canary', 1, { soak: 600 });
    const production = await h.ring('production', 2, { soak: 60 });
    expect((await h.api('POST', `/ring/${production.id}/update`, { approvalRequired: true })).status).toBe(202);
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    const card = h.card()!;

    // Pause and resume every 500 ms: many events, far fewer edits.
    for (let i = 0; i < 8; i++) {
      await h.slash('alice', i % 2 === 0 ? 'ring release --pause' : 'ring release --resume');
      await h.advance(500);
    }
    await flush(h);
    const approved = await h.press('bob', /^Approve production/, { postId: card.id });
    expect(approved.submitted?.closed).toBe(true);
    await h.settle();
    await openDialogAndSubmit(h, 'alice', /^Force canary/, 'customers waiting');
    await runToEnd(h);
    expect((await h.getRing(canary.id)).State).toBe('stable');
    expect((await h.getRing(production.id)).State).toBe('stable');

    // Still one card: edited in place.
    expect(h.cards()).toHaveLength(1);
    const history = h.mm.postHistory(card.id);
    expect(history[0]!.via).toBe('create');
    expect(history.filter((v) => v.via === 'update')).toEqual([]);
    const edits = history.filter((v) => v.via === 'patch');
    expect(edits.length).toBeGreaterThan(3);
    for (let i = 1; i < edits.length; i++) expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(CARD_STATE_EDIT_INTERVAL_MS);
    // Versions are in time order and the last one shows the final state.
    for (let i = 1; i < history.length; i++) expect(history[i]!.at).toBeGreaterThanOrEqual(history[i - 1]!.at);
    expect(JSON.stringify(history.at(-1)!.props)).toMatch(/"color":"good"/);
    expect(JSON.stringify(h.mm.storedPost(card.id)!.props)).toBe(JSON.stringify(history.at(-1)!.props));

    // Every milestone of this rollout is one thread reply, in the order it happened, in words.
    const rolloutId = (card.props as { elrond_rollout: string }).elrond_rollout;
    const replies = h.thread();
    expect(replies).toEqual(await queuedReplies(h.server.store.db, rolloutId));
    expect(replies.filter((m) => m === '⏸️ alice paused the release: **production** wait until it is resumed.')).toHaveLength(4);
    expect(replies.filter((m) => m === '▶️ alice resumed the release: **production** may start again.')).toHaveLength(4);
    expect(replies.join('\n')).toMatch(/alice forced \*\*canary\*\*: customers waiting/);
    expect(replies.join('\n')).toMatch(/bob approved \*\*production\*\*/);
    expect(replies.join('\n')).not.toMatch(RAW_STATE);
  });

  it('a pinned card keeps its pin and reactions through a release: patched at once on state changes, at most every 10 s for progress', async () => {
    // Groups take 3 s each to roll: progress moves every few seconds.
    const h = await start({ provisionerStatusInterval: 1 }, { settleInstantly: false, provisioner: { rolloutDurationMs: 3000 } });
    await h.ring('canary', 1, { soak: 30, groups: 3 });
    await h.ring('production', 2, { soak: 30, groups: 6 });
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    const card = h.card()!;
    // People pin the card and react to it.
    const alice = h.mm.createToken(h.users.alice);
    const call = (path: string, body?: unknown) => fetch(`${h.mm.url}/api/v4${path}`, { method: 'POST', headers: { Authorization: `Bearer ${alice}` }, ...(body ? { body: JSON.stringify(body) } : {}) });
    expect((await call(`/posts/${card.id}/pin`)).status).toBe(200);
    expect((await call('/reactions', { user_id: h.users.alice, post_id: card.id, emoji_name: 'eyes' })).status).toBe(201);
    const startedAt = h.clock.now();
    // Time passes a second at a time, as it does for a real release.
    const allStable = async () => ((await h.api('GET', '/rings')).body as Array<{ State: string }>).every((r) => r.State === 'stable');
    for (let i = 0; i < 400 && !(await allStable()); i++) await h.advance(1000);
    await flush(h);

    expect(cardJson(h)).toMatch(/"color":"good"/);
    expect(h.mm.post(card.id)).toMatchObject({ is_pinned: true, has_reactions: true, props: expect.objectContaining({ from_bot: 'true' }) });
    const history = h.mm.postHistory(card.id);
    expect(history.filter((v) => v.via === 'update')).toEqual([]);
    const edits = history.filter((v) => v.via === 'patch');
    const afterPin = history.slice(history.findIndex((v) => v.via === 'pin') + 1);
    expect(afterPin.filter((v) => v.via === 'patch').length).toBeGreaterThan(3);
    for (const edit of afterPin) expect(edit).toMatchObject({ is_pinned: true, has_reactions: true });

    // Bounded: an edit per moment something other than progress happened, plus one per 10 s of progress.
    const rolloutId = (card.props as { elrond_rollout: string }).elrond_rollout;
    const events = (await allEvents(h)).filter((e) => e.rolloutId === rolloutId);
    const stateMoments = new Set(events.filter((e) => !e.kind.startsWith('group.')).map((e) => e.at)).size;
    const elapsed = h.clock.now() - startedAt;
    expect(events.filter((e) => e.kind.startsWith('group.')).length).toBeGreaterThan(10);
    expect(edits.length).toBeLessThanOrEqual(stateMoments + Math.ceil(elapsed / CARD_PROGRESS_EDIT_INTERVAL_MS) + 1);
    // An edit drawing only progress comes at least 10 s after the previous one.
    for (let i = 1; i < edits.length; i++) {
      const between = events.filter((e) => e.at > edits[i - 1]!.at && e.at <= edits[i]!.at);
      if (between.length > 0 && between.every((e) => e.kind.startsWith('group.'))) expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(CARD_PROGRESS_EDIT_INTERVAL_MS);
    }
  });

  it('a failure is narrated in the thread mentioning who started the release, and the card turns red', async () => {
    const h = await start();
    await h.ring('canary', 1, { soak: 60 });
    await h.ring('production', 2, { soak: 60 });
    await h.settle();
    h.provisioner.failNext('getGroup', 404);
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await runToEnd(h);
    // One failure reply (production, which never started, fails silently with it), naming the ring and the next step.
    const failures = h.thread().filter((m) => m.startsWith('❌'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^❌ \*\*canary\*\* failed: group canary-ig-0-1 failed: .*404.*\. @alice, next: Retry or Rollback on the card\.$/);
    expect(h.thread().at(-1)).toBe('🏁 The release of `mattermost/mattermost-enterprise-edition:v2` stopped after 0s: 0 rings on it; **canary** failed; **production** did not start.');
    // Only the failure mentions anyone: alice is notified once.
    expect(h.thread().filter((m) => m.includes('@'))).toEqual(failures);
    expect(h.mm.notifications(h.users.alice)).toHaveLength(1);
    expect(cardJson(h)).toMatch(/"color":"danger"/);
    expect(fields(h)[0]!.value).toMatch(/^🔴 failed: group canary-ig-0-1 failed: .*404/);
    expect(h.buttons()).toEqual(['Retry canary', 'Rollback']);
  });
});

describe('chat-ops: card buttons', () => {
  it('shows Approve, Force, Pause, Resume, Cancel and Rollback when they apply; Force and Rollback ask for a reason that is recorded', async () => {
    const h = await start();
    const canary = await h.ring('canary', 1, { soak: 600 });
    const production = await h.ring('production', 2, { soak: 600 });
    expect((await h.api('POST', `/ring/${production.id}/update`, { approvalRequired: true })).status).toBe(202);
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    await h.advance(2000);
    const card = h.card()!.id;
    // canary soaks; production waits (approval).
    expect(h.buttons()).toEqual(['Approve production', 'Force canary', 'Pause', 'Cancel']);

    const paused = await h.mm.clickButton({ userId: h.users.alice, postId: card, actionId: h.button(/^Pause$/) });
    expect(paused.ephemeralText).toMatch(/pause applied to production/);
    await h.advance(2000);
    expect((await h.getRing(production.id)).State).toBe('release-paused');
    expect(h.buttons()).toEqual(['Force canary', 'Resume', 'Cancel']);

    const resumed = await h.mm.clickButton({ userId: h.users.alice, postId: card, actionId: h.button(/^Resume$/) });
    expect(resumed.ephemeralText).toMatch(/resume applied to production/);
    await h.advance(2000);
    expect(h.buttons()).toEqual(['Approve production', 'Force canary', 'Pause', 'Cancel']);

    // Force asks for a reason; too short is refused in the dialog, and nothing happens.
    const click = await h.mm.clickButton({ userId: h.users.alice, postId: card, actionId: h.button(/^Force canary/) });
    expect(click.failed).toBe(false);
    const dialog = h.mm.dialogs().at(-1)!;
    // The dialog names what it acts on: the ring in its title, the ring and the release in its introduction.
    expect(dialog.dialog.title).toBe('Force canary');
    expect(dialog.dialog.introduction_text).toMatch(/ring \*\*canary\*\* in the release of mattermost\/mattermost-enterprise-edition:v2/);
    expect(dialog.warnings).toEqual([]);
    const tooShort = await h.mm.submitDialog({ userId: h.users.alice, dialogId: dialog.id, submission: { reason: 'x' } });
    expect(tooShort.errors?.reason).toMatch(/at least 3/);
    expect((await h.getRing(canary.id)).State).toBe('soaking-requested');
    const forced = await h.mm.submitDialog({ userId: h.users.alice, dialogId: dialog.id, submission: { reason: 'hotfix for outage' } });
    expect(forced.closed).toBe(true);
    await h.settle();
    const forceEvent = (await allEvents(h)).find((e) => e.kind === 'ring.forced')!;
    expect(forceEvent).toMatchObject({ actor: 'alice', source: 'chat', ringId: canary.id });
    expect(forceEvent.data.reason).toBe('hotfix for outage');
    expect((await h.getRing(canary.id)).State).toBe('stable');

    await h.advance(2000);
    expect(h.buttons()).toEqual(['Approve production', 'Force production', 'Pause', 'Cancel', 'Rollback']);
    expect((await h.press('bob', /^Approve production/, { postId: card })).submitted?.closed).toBe(true);
    await runToEnd(h);
    expect((await h.getRing(production.id)).State).toBe('stable');
    expect(h.buttons()).toEqual(['Rollback']);

    // Rollback asks for a reason too, naming the release and its rings; the rollback gets its own card in the same channel.
    const rolledBack = await openDialogAndSubmit(h, 'alice', /^Rollback$/, 'error rate up after v2', card);
    expect(rolledBack.closed).toBe(true);
    expect(h.mm.dialogs().at(-1)!.dialog).toMatchObject({ title: 'Roll back the release', introduction_text: expect.stringMatching(/the release of mattermost\/mattermost-enterprise-edition:v2 \(its rings: canary, production\)/) });
    await runToEnd(h);
    const rollbackEvents = (await allEvents(h)).filter((e) => e.kind === 'ring.state' && e.oldState === 'stable' && e.newState === 'release-rollback-requested');
    expect(rollbackEvents).toHaveLength(2);
    for (const event of rollbackEvents) {
      expect(event.message).toMatch(/error rate up after v2/);
      expect(event).toMatchObject({ actor: 'alice', source: 'chat' });
    }
    expect((await h.getRing(canary.id)).State).toBe('release-rollback-complete');
    const cards = h.cards();
    expect(cards).toHaveLength(2);
    expect(cardJson(h, cards[1]!.id)).toMatch(/Rollback to mattermost\/mattermost-enterprise-edition:v1/);
    expect(cardJson(h, cards[1]!.id)).toMatch(/error rate up after v2/);
    // Neither card offers anything now: the release card was redrawn when its rings moved on to the rollback.
    expect(h.buttons(cards[1]!.id)).toEqual([]);
    expect(h.buttons(cards[0]!.id)).toEqual([]);
    expect(cardJson(h, cards[0]!.id)).toMatch(/moved on to another release/);
  });

  it('Retry re-runs a failed ring; Cancel ends a pending release', async () => {
    const h = await start();
    const canary = await h.ring('canary', 1, { soak: 600 });
    const production = await h.ring('production', 2, { soak: 600 });
    await h.settle();
    h.provisioner.failNext('getGroup', 404);
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await runToEnd(h);
    expect((await h.getRing(canary.id)).State).toBe('release-failed');
    const card = h.card()!.id;

    const retried = await h.mm.clickButton({ userId: h.users.alice, postId: card, actionId: h.button(/^Retry canary/) });
    expect(retried.ephemeralText).toMatch(/canary will retry/);
    await h.settle();
    expect((await h.getRing(canary.id)).State).toBe('soaking-requested');
    await h.advance(2000);
    expect(h.buttons()).toEqual(['Force canary', 'Retry production', 'Rollback']);

    // A new release leaves production waiting; Cancel puts it back.
    await h.slash('alice', `ring release --ring ${production.id} --image ${IMAGE} --version v3`);
    await flush(h);
    const second = h.cards()[1]!.id;
    expect(h.buttons(second)).toEqual(['Force production', 'Pause', 'Cancel']);
    const cancelled = await h.press('alice', /^Cancel$/, { postId: second });
    expect(h.mm.dialogs().at(-1)!.dialog.introduction_text).toMatch(/Cancel the release of .*v3: rings that have not started it \(production\) will not/);
    expect(cancelled.submitted?.closed).toBe(true);
    await flush(h);
    expect((await h.getRing(production.id)).State).toBe('stable');
    const cancel = (await allEvents(h)).find((e) => /pending release cancelled by alice/.test(e.message))!;
    expect(cancel).toMatchObject({ actor: 'alice', source: 'chat', newState: 'stable' });
  });

  // KNOWN BUG (outside src/chat): moveRing (src/service/rings.ts) records the event with the ring's rollout id
  // AFTER the change, and a cancel sets rollout_id to null, so the cancel event belongs to no rollout: the card
  // is never edited (it keeps Pause/Cancel/Force and shows the ring pending) and the thread never hears of it.
  // Fix: in moveRing record `rolloutId: moved.rolloutId ?? ring.rolloutId`. Remove `.fails` once fixed.
  it('a cancelled release is narrated on its card and its buttons go away', async () => {
    const h = await start();
    await h.ring('production', 1, { soak: 600 });
    const later = await h.ring('later', 2, { soak: 600 });
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await flush(h);
    expect(h.buttons()).toEqual(['Force production', 'Pause', 'Cancel']);
    const cancelled = await h.press('alice', /^Cancel$/);
    expect(cancelled.submitted?.closed).toBe(true);
    await flush(h);
    expect((await h.getRing(later.id)).State).toBe('stable');
    expect(h.thread().join('\n')).toMatch(/🛑 alice cancelled the release: \*\*later\*\* will not start\./);
    expect(h.buttons()).not.toContain('Cancel');
    expect(JSON.stringify(h.card()!.props)).toMatch(/release cancelled/);
  });
});

describe('chat-ops: delivery when Mattermost fails', () => {
  /** Deliver everything still queued, in big steps (failed deliveries back off up to minutes). */
  async function drain(h: ChatHarness): Promise<void> {
    for (let i = 0; i < 300 && (await h.server.outbox.backlog()) > 0; i++) await h.advance(5000);
    expect(await h.server.outbox.backlog()).toBe(0);
  }

  /** The thread holds exactly one reply per milestone of the card's rollout, in order, none twice. */
  async function expectCompleteThread(h: ChatHarness, cardId: string): Promise<void> {
    const rolloutId = (h.mm.post(cardId)!.props as { elrond_rollout: string }).elrond_rollout;
    const replies = h.mm.thread(cardId).slice(1);
    const expected = await queuedReplies(h.server.store.db, rolloutId);
    expect(expected.length).toBeGreaterThan(5);
    expect(replies.map((p) => p.message)).toEqual(expected);
    const pendingIds = replies.map((p) => p.pending_post_id);
    expect(new Set(pendingIds).size).toBe(pendingIds.length);
    // Whatever Mattermost deduplicated was a retry of a post it already had, never a second post.
    for (const dedupe of h.mm.dedupes()) expect(h.mm.posts().filter((p) => p.pending_post_id === dedupe.pendingPostId)).toHaveLength(1);
  }

  function expectSpacedEdits(h: ChatHarness, cardId: string): void {
    const edits = h.mm.postHistory(cardId).filter((v) => v.via === 'patch');
    for (let i = 1; i < edits.length; i++) expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(CARD_STATE_EDIT_INTERVAL_MS);
  }

  it('with half of all requests failing (503), every reply and edit still arrives, once, in order', async () => {
    const h = await start();
    const canary = await h.ring('canary', 1, { soak: 60, groups: 2 });
    const production = await h.ring('production', 2, { soak: 60, groups: 3 });
    await h.settle();
    h.mm.setErrorRate(0.5, 503);
    const started = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    expect(started.status).toBe(202);
    for (let i = 0; i < 40; i++) await h.advance(3000);
    // Something failed and was retried.
    expect(h.mm.requests.filter((r) => r.status === 503).length).toBeGreaterThan(3);
    h.mm.setErrorRate(0);
    await runToEnd(h);
    await drain(h);
    expect((await h.getRing(canary.id)).State).toBe('stable');
    expect((await h.getRing(production.id)).State).toBe('stable');

    expect(h.cards()).toHaveLength(1);
    const card = h.card()!.id;
    await expectCompleteThread(h, card);
    expectSpacedEdits(h, card);
    expect(cardJson(h)).toMatch(/"color":"good"/);
    expect(fields(h).every((f) => f.value.startsWith('🟢 on `v2`'))).toBe(true);
  });

  it('Mattermost down from before the first card, then back: the card and every reply arrive', async () => {
    const h = await start();
    const canary = await h.ring('canary', 1, { soak: 60 });
    await h.ring('production', 2, { soak: 60 });
    await h.settle();
    h.mm.down();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await runToEnd(h).catch(() => undefined);
    for (let i = 0; i < 10; i++) await h.advance(5000);
    expect((await h.getRing(canary.id)).State).toBe('stable');
    expect(h.cards()).toHaveLength(0);
    expect(await h.server.outbox.backlog()).toBeGreaterThan(0);

    h.mm.down(false);
    await drain(h);
    expect(h.cards()).toHaveLength(1);
    const card = h.card()!.id;
    await expectCompleteThread(h, card);
    expect(cardJson(h)).toMatch(/"color":"good"/);
  });

  it('Mattermost dropping connections mid-release, then back: nothing lost, nothing duplicated', async () => {
    const h = await start();
    await h.ring('canary', 1, { soak: 600 });
    await h.ring('production', 2, { soak: 600, groups: 2 });
    await h.settle();
    await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
    await h.settle();
    await h.advance(2000);
    const card = h.card()!.id;
    const repliesBefore = h.mm.thread(card).length;

    h.mm.down(true, 'reset');
    await h.advance(600_000);
    await h.advance(600_000);
    await h.advance(5000);
    expect(h.mm.thread(card).length).toBe(repliesBefore);
    h.mm.down(false);
    await runToEnd(h);
    await drain(h);
    expect(h.cards()).toHaveLength(1);
    await expectCompleteThread(h, card);
    expectSpacedEdits(h, card);
    expect(cardJson(h)).toMatch(/"color":"good"/);
  });
});

describe('a release of many rings', () => {
  it('draws the rings that matter now, counts the rest in one line, and offers at most five Approve buttons', async () => {
    const h = await start();
    const rings = [];
    for (let i = 1; i <= 26; i++) rings.push(await h.ring(`ring-${String(i).padStart(2, '0')}`, i, { soak: 600 }));
    for (const ring of rings.slice(9, 16)) expect((await h.api('POST', `/ring/${ring.id}/update`, { approvalRequired: true })).status).toBe(202);
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await h.settle();
    await flush(h);
    const lines = fields(h);
    expect(lines).toHaveLength(21);
    // Release order; the soaking ring and the seven waiting for approval always have a line, then the next in line.
    expect(lines.slice(0, 20).map((f) => f.title.split(' ')[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map((i) => `ring-${String(i).padStart(2, '0')}`));
    expect(lines[0]!.value).toMatch(/^🔵 soaking until/);
    expect(lines[9]!.value).toMatch(/^🟡 needs approval from bob/);
    expect(lines[20]).toEqual({ title: '6 more rings', value: '⚪ 6 waiting their turn — `/elrond status` lists every ring', short: false });
    expect(h.buttons().filter((b) => b.startsWith('Approve'))).toEqual(['Approve ring-10', 'Approve ring-11', 'Approve ring-12', 'Approve ring-13', 'Approve ring-14']);
  });
});
