import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { RAW_STATE } from './helpers/thread-replies.js';

/**
 * A scripted release of 3 rings × 2 groups, started from the release form in a channel, against the fake Mattermost:
 * beta waits for an approval (carol may not give it, bob does), a production group fails and alice retries it. What
 * the channel sees — the ephemeral replies each person got, the card's thread, the card at the end, and who was
 * notified — is compared with test/golden/release-thread.md, which the README shows as "What the channel sees".
 * Run with UPDATE_GOLDEN=1 to rewrite it after a deliberate change, and read the diff.
 */
const GOLDEN = new URL('./golden/release-thread.md', import.meta.url);

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const time = (ms: number) => new Date(ms).toISOString().slice(11, 16);
/** Ids change from run to run; nothing else does (the clock is the test's). */
const stable = (text: string) => text.replace(/\b[a-z0-9]{26}\b/g, '<id>').replace(/\u200B/g, '').replace(/http:\/\/127\.0\.0\.1:\d+/g, '<public-url>');
const quote = (text: string) => text.split('\n').map((line) => `> ${line}`.trimEnd()).join('\n');

interface Attachment {
  title?: string;
  text?: string;
  color?: string;
  fields?: Array<{ title: string; value: string }>;
  actions?: Array<{ name: string }>;
}

function renderCard(props: unknown): string {
  const attachment = ((props as { attachments?: Attachment[] }).attachments ?? [])[0] ?? {};
  const lines = [`**${attachment.title ?? ''}** (colour: ${attachment.color ?? ''})`, '', attachment.text ?? '', ''];
  for (const field of attachment.fields ?? []) lines.push(`- **${field.title}** — ${field.value}`);
  const buttons = (attachment.actions ?? []).map((a) => `[${a.name}]`).join(' ');
  if (buttons) lines.push('', `Buttons: ${buttons}`);
  return lines.join('\n');
}

function renderEphemeral(props: unknown): string {
  const attachments = (props as { attachments?: Attachment[] }).attachments ?? [];
  return attachments.map((a) => [a.text ?? '', (a.actions ?? []).map((b) => `[${b.name}]`).join(' ')].filter(Boolean).join('\n')).join('\n');
}

async function script(chat: ChatHarness): Promise<string> {
  const { mm, users } = chat;
  const names: Record<string, string> = Object.fromEntries(Object.entries(users).map(([name, id]) => [id, name]));
  const steps: string[] = [];
  const step = (text: string) => steps.push(`- ${time(chat.clock.now())} ${text}`);

  await chat.ring('canary', 1, { soak: 600, groups: 2, installations: 4 });
  const beta = await chat.ring('beta', 2, { soak: 600, groups: 2, installations: 4 });
  const production = await chat.ring('production', 3, { soak: 600, groups: 2, installations: 4 });
  await chat.api('POST', `/ring/${beta.id}/update`, { approvalRequired: true });
  await chat.settle();
  const ephemeralsBefore = mm.ephemerals().length;
  /** Let time run from deadline to deadline (group status polls, soaks) until `done`, or nothing is due. */
  const until = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 2000 && !(await done()); i++) if (!(await chat.advanceToNextDeadline())) break;
  };
  const state = async (ring: { id: string }) => ((await chat.getRing(ring.id)) as { State: string }).State;

  step('alice runs `/elrond release`: the release form opens (image filled in from the last release)');
  const opened = await chat.slash('alice', 'release');
  expect(opened.ephemeral).toBeUndefined();
  const form = mm.dialogs().at(-1)!;
  expect(form.warnings).toEqual([]);
  step('alice fills in version `10.6.0` and reason "monthly release", leaves "Show the plan first" ticked, and submits');
  const submitted = await mm.fillAndSubmitDialog({ dialogId: form.id, changes: { version: '10.6.0', reason: 'monthly release' } });
  expect(submitted.closed).toBe(true);
  step('alice clicks **Start** under the plan');
  const plan = mm.ephemerals(users.alice).at(-1)!;
  const start = await mm.clickEphemeralButton({ userId: users.alice, ephemeralId: plan.id, actionId: 'start' });
  expect(start.failed).toBe(false);
  await chat.settle();
  const card = chat.card()!;

  await until(async () => false);
  step('carol clicks **Approve beta**');
  expect((await mm.clickButton({ userId: users.carol, postId: card.id, actionId: chat.button(/^Approve beta/) })).failed).toBe(false);
  step('bob clicks **Approve beta** and confirms in the dialog it opens');
  expect((await chat.press('bob', /^Approve beta/, { postId: card.id })).submitted?.closed).toBe(true);
  await chat.settle();
  await until(async () => (await state(beta)) === 'soaking-requested');
  // The first group of production will not be found on the provisioner.
  chat.provisioner.failNext('getGroup', 404);
  await until(async () => (await state(production)) === 'release-failed');
  await chat.advance(1_000);
  step('alice clicks **Retry production**');
  expect((await mm.clickButton({ userId: users.alice, postId: card.id, actionId: chat.button(/^Retry production/) })).failed).toBe(false);
  await chat.settle();
  await until(async () => false);
  for (let i = 0; i < 20 && (await chat.server.outbox.backlog()) > 0; i++) await chat.advance(1_000);

  const thread = mm.thread(card.id).slice(1);
  const ephemerals = mm.ephemerals().slice(ephemeralsBefore);
  const notified = mm.notifications().map((n) => {
    const post = mm.post(n.postId)!;
    return `- ${time(n.at)} **${names[n.userId] ?? n.userId}** (${n.reason}): ${post.message.split('\n')[0]}`;
  });

  return stable(
    [
      '<!-- Written by test/chat-golden-transcript.test.ts (UPDATE_GOLDEN=1 to rewrite). -->',
      '',
      'Three rings of two groups each (4 installations per group), 10-minute soaks: canary, beta (needs an approver) and',
      'production. alice is an admin, bob an approver, carol neither. Times are UTC.',
      '',
      '**What people did**',
      '',
      ...steps,
      '',
      '**What each of them saw, just for them** (ephemeral replies)',
      '',
      ...ephemerals.flatMap((e) => [`${time(e.create_at)}, to **${names[e.user_id]}**:`, '', quote([e.message, renderEphemeral(e.props)].filter(Boolean).join('\n')), '']),
      '**The release card\'s thread**',
      '',
      ...thread.map((p) => `- ${time(p.create_at)} ${p.message}`),
      '',
      '**The release card, at the end**',
      '',
      quote(renderCard(mm.post(card.id)!.props)),
      '',
      '**Who was notified** (Mattermost notifies only on `@mentions` in new posts)',
      '',
      ...notified,
      '',
    ].join('\n'),
  );
}

describe('what the channel sees', () => {
  it('a release of 3 rings × 2 groups, with an approval, a failed group and a retry, reads as the checked-in transcript', async () => {
    // Groups take 42 s to roll on the provisioner, as real ones take a while.
    h = await startChatHarness({}, { settleInstantly: false, provisioner: { rolloutDurationMs: 42_000 } });
    const transcript = await script(h);
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, transcript);
    expect(transcript).toBe(readFileSync(GOLDEN, 'utf8'));

    // What the transcript must show, whatever its wording.
    const thread = h.mm.thread(h.card()!.id).slice(1).map((p) => p.message);
    expect(thread.join('\n')).not.toMatch(RAW_STATE);
    // alice is notified by the failure and once by the end; bob by the approval; nobody else, and nobody by the card.
    const notified = h.mm.notifications().map((n) => [n.userId, [...h!.mm.post(n.postId)!.message][0]]);
    expect(notified).toEqual([
      [h.users.bob, '✋'],
      [h.users.alice, '❌'],
      [h.users.alice, '🎉'],
    ]);
    expect(h.mm.outOfChannelMentions()).toEqual([]);
  }, 120_000);

  it('the README shows the transcript under "What the channel sees"', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## What the channel sees'));
    expect(section).toContain(readFileSync(GOLDEN, 'utf8').replace(/^<!--.*-->\n\n/, ''));
  });
});
