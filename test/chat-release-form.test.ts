import { describe, it, expect, afterEach } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import { parseCommandLine } from '../src/commands/build-program.js';

let h: ChatHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function withRings(): Promise<{ chat: ChatHarness; canary: { id: string }; beta: { id: string }; production: { id: string } }> {
  const chat = (h = await startChatHarness());
  const canary = await chat.ring('canary', 1, { soak: 60 });
  const beta = await chat.ring('beta', 2, { soak: 60 });
  const production = await chat.ring('production', 3, { soak: 60 });
  await chat.settle();
  return { chat, canary, beta, production };
}

/** Open the form as `user` with `text` and return the dialog Mattermost opened. */
async function openForm(chat: ChatHarness, user: 'alice' | 'carol', text = 'release') {
  const before = chat.mm.dialogs().length;
  const reply = await chat.slash(user, text);
  expect(reply.failed).toBe(false);
  // Acknowledged silently: the form is the answer.
  expect(reply.ephemeral).toBeUndefined();
  expect(chat.mm.dialogs()).toHaveLength(before + 1);
  return chat.mm.dialogs().at(-1)!;
}

const states = async (chat: ChatHarness) => ((await chat.api('GET', '/rings')).body as Array<{ Name: string; State: string }>).map((r) => `${r.Name}:${r.State}`);

describe('the release form', () => {
  it('opens from `/elrond release` and from `ring release` with no flags, for that user, filled in from the last release', async () => {
    const { chat } = await withRings();
    const dialog = await openForm(chat, 'alice');
    expect(dialog.userId).toBe(chat.users.alice);
    expect(dialog.url).toMatch(/\/mattermost\/dialog$/);
    // What Mattermost's Dialog.IsValid checks (titles, lengths, types) holds.
    expect(dialog.warnings).toEqual([]);
    const elements = dialog.dialog.elements as Array<{ name: string; type: string; default?: string; optional?: boolean; help_text?: string }>;
    expect(elements.map((e) => [e.name, e.type])).toEqual([
      ['image', 'text'],
      ['version', 'text'],
      ['rings', 'text'],
      ['env', 'textarea'],
      ['reason', 'text'],
      ['force', 'bool'],
      ['plan', 'bool'],
    ]);
    const byName = Object.fromEntries(elements.map((e) => [e.name, e]));
    expect(byName.image!.default).toBe(IMAGE);
    expect(byName.version!.help_text).toBe('The Docker tag to release. The last release was v1.');
    expect(byName.rings!.default).toBe('all');
    expect(byName.rings!.help_text).toBe('"all", or ring names separated by commas; in release order: canary, beta, production');
    expect(byName.plan!.default).toBe('true');
    expect(byName.force!.optional).toBe(true);
    // ring release, bare, opens it too; with a flag it is the command as before.
    await openForm(chat, 'alice', 'ring release');
    expect((await chat.slash('alice', 'ring release --force')).ephemeral).toMatch(/say which rings to release/);
    // On the CLI the command without flags prints its usage, as before.
    for (const argv of [['release'], ['ring', 'release']]) {
      const parsed = parseCommandLine(argv, 'cli', {});
      expect('error' in parsed && parsed.error).toMatch(/say which rings to release: --ring <id> for one ring or --all-rings[\s\S]*Usage: elrond (ring )?release \[options\]/);
    }
    expect(await states(chat)).toEqual(['canary:stable', 'beta:stable', 'production:stable']);
  });

  it('answers field by field the way Mattermost dialogs expect, and changes nothing', async () => {
    const { chat } = await withRings();
    const dialog = await openForm(chat, 'alice');
    const events = (await chat.events()).length;
    // The web app itself refuses an empty required field (nothing is sent).
    const empty = await chat.mm.fillAndSubmitDialog({ dialogId: dialog.id, changes: {} });
    expect(empty).toMatchObject({ sent: false, clientErrors: { version: 'This field is required.' } });
    const bad = await chat.mm.fillAndSubmitDialog({
      dialogId: dialog.id,
      changes: { image: 'Not An Image', version: '10.6.0 beta', rings: 'canary, gamma', env: 'MM_X=1\nnot a line\n' },
    });
    expect(bad.closed).toBe(false);
    expect(bad.errors).toEqual({
      image: 'The image must be a docker image name like mattermost/mattermost-enterprise-edition.',
      version: 'The version must be a docker tag like 10.5.1.',
      rings: 'No ring named "gamma". The rings are: canary, beta, production.',
      env: 'Line 2 is not NAME=VALUE (or NAME= to delete NAME).',
    });
    const badName = await chat.mm.fillAndSubmitDialog({ dialogId: dialog.id, changes: { version: '10.6.0', env: '1BAD=x' } });
    expect(badName.errors).toEqual({ env: expect.stringMatching(/environment variable name "1BAD" is not valid/) });
    expect((await chat.events()).length).toBe(events);
    expect(await states(chat)).toEqual(['canary:stable', 'beta:stable', 'production:stable']);
  });

  it('with "show the plan first" (the default), shows the plan of the rings named, with a Start button that starts them', async () => {
    const { chat, production } = await withRings();
    const dialog = await openForm(chat, 'alice');
    const submitted = await chat.mm.fillAndSubmitDialog({ dialogId: dialog.id, changes: { version: '10.6.0', rings: 'production canary', env: 'MM_FEATUREFLAGS_X=true\nMM_OLD=', reason: 'monthly release' } });
    expect(submitted).toMatchObject({ closed: true, submission: { plan: true, force: false } });
    // Nothing has started: the plan came back to alice alone, through the command's response_url.
    expect(await states(chat)).toEqual(['canary:stable', 'beta:stable', 'production:stable']);
    const plan = chat.mm.ephemerals(chat.users.alice).at(-1)!;
    expect(plan.source).toBe('response_url');
    expect(plan.message).toMatch(/^Plan: mattermost\/mattermost-enterprise-edition:10\.6\.0 — nothing has been changed\./);
    expect(plan.message).toMatch(/\| 1 \| canary \(p1\)/);
    expect(plan.message).toMatch(/\| 2 \| production \(p3\)/);
    expect(plan.message).not.toMatch(/beta/);
    // Shown as Mattermost renders it (the reply is escaped Markdown: src/model/inert-text.ts).
    expect(plan.message.replace(/\\([\\`*_[\]<>|])/g, '$1')).toMatch(/Env: \+MM_FEATUREFLAGS_X=true/);
    const start = await chat.mm.clickEphemeralButton({ userId: chat.users.alice, ephemeralId: plan.id, actionId: 'start' });
    expect(start.ephemeralText).toMatch(/Release started for 2 ring/);
    await chat.settle();
    expect(await states(chat)).toEqual(['canary:soaking-requested', 'beta:stable', 'production:release-pending']);
    // One rollout for both rings: one card, its first reply names them in order, with the reason.
    expect(chat.cards()).toHaveLength(1);
    expect(chat.thread()[0]).toBe('🚀 alice started the release of `mattermost/mattermost-enterprise-edition:10.6.0` to 2 rings: **canary** → **production**. The plan says done about 12:12 UTC (in 12m) — monthly release.');
    const release = (await chat.getRing(production.id)).DesiredReleaseID as string;
    expect((await chat.api('GET', `/release/${release}`)).body.EnvVariables).toEqual({ MM_FEATUREFLAGS_X: { value: 'true' }, MM_OLD: { value: '' } });
  });

  it('without the plan, starts at once as the person who submitted it (their permissions apply)', async () => {
    const { chat } = await withRings();
    // carol may fill it in, but not release.
    const carols = await openForm(chat, 'carol');
    const refused = await chat.mm.fillAndSubmitDialog({ dialogId: carols.id, changes: { version: '10.6.0', plan: false } });
    expect(refused).toMatchObject({ closed: false, error: expect.stringMatching(/^@carol may not release: releasers are @dave, or ask an Elrond admin \(@alice\)$/) });
    expect(await states(chat)).toEqual(['canary:stable', 'beta:stable', 'production:stable']);

    const alices = await openForm(chat, 'alice');
    const started = await chat.mm.fillAndSubmitDialog({ dialogId: alices.id, changes: { version: '10.6.0', rings: 'all', plan: false } });
    expect(started.closed).toBe(true);
    expect(chat.mm.ephemerals(chat.users.alice).at(-1)!.message).toBe('🚀 Release of mattermost/mattermost-enterprise-edition:10.6.0 started for canary, beta, production; its card follows in this channel.');
    await chat.settle();
    expect((await states(chat))[0]).toBe('canary:soaking-requested');
    for (let i = 0; i < 20 && (await chat.advanceToNextDeadline()); i++);
    expect(await states(chat)).toEqual(['canary:stable', 'beta:stable', 'production:stable']);
    // The same again: nothing left to release, said in the form.
    const again = await openForm(chat, 'alice');
    const nothing = await chat.mm.fillAndSubmitDialog({ dialogId: again.id, changes: { version: '10.6.0', rings: 'canary', plan: false } });
    expect(nothing.error).toBe('Nothing to release: canary is already on mattermost/mattermost-enterprise-edition:10.6.0.');
  });

  it('a form is bound to the user it opened for and expires', async () => {
    const { chat } = await withRings();
    const dialog = await openForm(chat, 'alice');
    const stolen = await chat.mm.fillAndSubmitDialog({ userId: chat.users.carol, dialogId: dialog.id, changes: { version: '10.6.0', plan: false } });
    expect(stolen.error).toBe('This form was opened for someone else. Nothing was changed.');
    chat.clock.advance(31 * 60_000);
    const late = await chat.mm.fillAndSubmitDialog({ dialogId: dialog.id, changes: { version: '10.6.0', plan: false } });
    expect(late.error).toBe('This form has expired: run /elrond release again. Nothing was changed.');
    expect(await states(chat)).toEqual(['canary:stable', 'beta:stable', 'production:stable']);
  });
});
