import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';

/**
 * Property-based: whatever Mattermost (or someone pretending to be it) sends to /mattermost/command, /action
 * and /dialog, Elrond answers HTTP 200 with a well-formed JSON reply, never crashes, and a refused or failed
 * request writes nothing.
 */

/** ELROND_FUZZ_SCALE=10 runs ten times as many cases (for a deeper search; the default keeps the file fast). */
const SCALE = Math.max(1, Number(process.env.ELROND_FUZZ_SCALE ?? 1));
const runs = (n: number) => ({ numRuns: n * SCALE });

let h: ChatHarness;
let card: string;
let ringIds: string[];
let approveContext: Record<string, unknown>;
let contexts: Array<Record<string, unknown>>;
let dialogState: string;

beforeAll(async () => {
  h = await startChatHarness();
  const canary = await h.ring('canary', 1, { soak: 600 });
  const production = await h.ring('production', 2, { soak: 600 });
  ringIds = [canary.id, production.id];
  await h.slash('alice', `ring update --ring ${production.id} --approval-required true`);
  await h.settle();
  await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2`);
  await h.settle();
  await h.advance(2000);
  card = h.card()!.id;
  contexts = h.buttons().map((label) => h.storedAction(new RegExp(`^${label}$`)).integration.context);
  approveContext = h.storedAction(/^Approve production/).integration.context;
  // A genuine force dialog, opened for alice.
  await h.mm.clickButton({ userId: h.users.alice, postId: card, actionId: h.button(/^Force canary/) });
  dialogState = h.mm.dialogs().at(-1)!.dialog.state as string;
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** Counts of everything a request could write. */
async function writes(): Promise<string> {
  const db = h.server.store.db;
  const count = async (table: 'rings' | 'events' | 'outbox' | 'rollouts' | 'releases' | 'webhooks' | 'installation_groups') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rings = await db.selectFrom('rings').select(['id', 'state', 'approved_by', 'force_requested_by', 'delete_at', 'desired_release_id']).orderBy('id').execute();
  return JSON.stringify({ rings, events: await count('events'), outbox: await count('outbox'), rollouts: await count('rollouts'), releases: await count('releases'), webhooks: await count('webhooks'), groups: await count('installation_groups') });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function expectJsonReply(response: { status: number; contentType: string; text: string; body: unknown }): Record<string, unknown> {
  expect(response.status).toBe(200);
  expect(response.contentType).toBe('application/json');
  expect(isObject(response.body), response.text.slice(0, 200)).toBe(true);
  return response.body as Record<string, unknown>;
}

// ---- slash command texts --------------------------------------------------------------------------

const WORDS = ['ring', 'list', 'release', 'create', 'update', 'get', 'delete', 'get-release', 'installation-group', 'register', 'status', 'history', 'events', 'help', 'webhook', 'security', 'lock', 'unlock', 'server', 'schema', 'migrate', 'rollback'];
const FLAGS = ['--ring', '--limit', '--all-rings', '--image', '--version', '--help', '-h', '--pause', '--resume', '--cancel', '--rollback', '--reason', '--env-variable', '--dry-run', '--name', '--priority', '--soak-time', '--approval-required', '--table', '--per-page', '--page', '--owner', '--url', '--secret', '--webhook', '--force', '--server', '--api-token', '--no-force', '--limit=3', '--force=false', '--', '-'];

const value = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.fullUnicodeString({ maxLength: 20 }),
  fc.integer().map(String),
  fc.constantFrom('0', '-1', '99999999999999', '1e3', 'true', 'maybe', '', IMAGE, 'v2', 'A:b', 'A:', ':', 'https://hooks.example.com/x'),
  fc.constantFrom('canary', 'production'),
  // The real rings' ids (read when the case runs: the rings exist only after setup).
  fc.nat().map((i) => ringIds[i % ringIds.length] ?? 'none'),
  fc.string({ maxLength: 12 }).map((s) => `"${s.replace(/["\\]/g, '')}"`),
  fc.string({ maxLength: 12 }).map((s) => `'${s.replace(/'/g, '')}'`),
  fc.fullUnicodeString({ maxLength: 12 }).map((s) => `\u201C${s}\u201D`),
  fc.constantFrom('"unclosed', "'unclosed", 'back\\', '\\"', '"a\\"b"', '\u201Cunclosed'),
);

const structured = fc
  .tuple(fc.array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 3 }), fc.array(fc.tuple(fc.constantFrom(...FLAGS), fc.option(value, { nil: undefined })), { maxLength: 5 }))
  .map(([words, flags]) => [...words, ...flags.flatMap(([flag, v]) => (v === undefined ? [flag] : [flag, v]))].join(' '));

const huge = fc.oneof(
  fc.integer({ min: 5_000, max: 20_000 }).map((n) => `ring create --name ${'x'.repeat(n)}`),
  fc.integer({ min: 2_000, max: 16_383 }).map((n) => `history --ring ${'🚀'.repeat(n)}`),
  fc.integer({ min: 100, max: 3_000 }).map((n) => `ring release ${'--env-variable A:b '.repeat(n)}`),
);

const slashText = fc.oneof(
  { weight: 5, arbitrary: structured },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 2, arbitrary: fc.fullUnicodeString({ maxLength: 60 }) },
  { weight: 1, arbitrary: huge },
);

function commandForm(user: 'alice' | 'carol', text: string): string {
  return new URLSearchParams({
    token: h.mm.commands(h.teamId)[0]!.token,
    team_id: h.teamId,
    team_domain: 'release',
    channel_id: h.channelId,
    channel_name: 'releases',
    user_id: h.users[user],
    user_name: user,
    command: '/elrond',
    text,
    trigger_id: 'trigger',
    response_url: `${h.mm.url}/hooks/commands/none`,
  }).toString();
}

function expectCommandReply(response: Awaited<ReturnType<ChatHarness['chatPost']>>): string {
  const body = expectJsonReply(response);
  expect(body.response_type).toBe('ephemeral');
  expect(typeof body.text).toBe('string');
  expect((body.text as string).length).toBeGreaterThan(0);
  expect((body.text as string).length).toBeLessThan(16_383);
  return body.text as string;
}

// ---- action and dialog bodies ----------------------------------------------------------------------

/** A genuine context with one field replaced by something else (never the same value). */
const mutatedContext = fc
  .tuple(fc.integer({ min: 0, max: 100 }), fc.constantFrom('action', 'rollout', 'ring', 'post', 'exp', 'sig'), fc.jsonValue({ maxDepth: 2 }))
  .map(([i, key, replacement]) => {
    const base = contexts[i % contexts.length]!;
    return { ...base, [key]: replacement };
  })
  .filter((c) => !contexts.some((known) => JSON.stringify(known) === JSON.stringify(c)));

const userId = () => fc.oneof(fc.constantFrom(h.users.carol, '', 'nosuchusernosuchuser123456'), fc.string({ maxLength: 30 }));

describe('chat-ops fuzz: button and dialog bodies', () => {
  it('random action bodies: always 200 + well-formed JSON, and nothing is written', async () => {
    const before = await writes();
    const genuine = fc.constantFrom(...contexts);
    const body = fc.record(
      {
        user_id: fc.oneof(userId(), fc.jsonValue({ maxDepth: 1 })),
        user_name: fc.constantFrom('alice', 'bob', 'admin', ''),
        channel_id: fc.oneof(fc.constant(h.channelId), fc.string()),
        post_id: fc.oneof(fc.constant(card), fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 1 })),
        trigger_id: fc.oneof(fc.constant(h.mm.issueTriggerId(h.users.carol, h.channelId)), fc.string()),
        type: fc.constantFrom('button', 'select', ''),
        context: fc.oneof(
          // A genuine button pressed by someone who may not use it.
          genuine,
          mutatedContext,
          fc.jsonValue({ maxDepth: 3 }),
          fc.object({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        // Genuine contexts only for users who may not act (carol, unknown); bob may approve.
        const reply = expectJsonReply(await h.chatPost('action', b as Record<string, unknown>));
        for (const key of Object.keys(reply)) expect(['ephemeral_text', 'update', 'skip_slack_parsing']).toContain(key);
        if ('ephemeral_text' in reply) expect(typeof reply.ephemeral_text).toBe('string');
        expect(String(reply.ephemeral_text ?? '')).not.toMatch(/internal error/);
      }),
      runs(60),
    );
    expect(await writes()).toBe(before);
  });

  it('forged contexts even from the approver and the admin: refused, nothing written', async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(mutatedContext, fc.constantFrom('alice', 'bob'), async (context, user) => {
        const reply = expectJsonReply(await h.chatPost('action', { user_id: h.users[user as 'alice' | 'bob'], post_id: card, channel_id: h.channelId, context }));
        expect(reply.ephemeral_text).toMatch(/⛔.*Nothing was changed/);
      }),
      runs(30),
    );
    expect(await writes()).toBe(before);
    // The genuine context still works afterwards (Approve opens its dialog for the user its trigger names).
    const ok = expectJsonReply(await h.chatPost('action', { user_id: h.users.bob, post_id: card, channel_id: h.channelId, context: approveContext, trigger_id: h.mm.issueTriggerId(h.users.bob, h.channelId) }));
    expect(ok.ephemeral_text).toBeUndefined();
    expect(h.mm.dialogs().at(-1)!.dialog.callback_id).toBe('approve');
  });

  it('random dialog submissions: always 200 + well-formed JSON, and nothing is written', async () => {
    const before = await writes();
    const parsed = JSON.parse(dialogState) as Record<string, unknown>;
    const state = fc.oneof(
      fc.constant(dialogState),
      fc.tuple(fc.constantFrom('action', 'rollout', 'ring', 'post', 'exp', 'sig'), fc.jsonValue({ maxDepth: 1 })).map(([k, v]) => JSON.stringify({ ...parsed, [k]: v })),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc.string(),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const body = fc.record(
      {
        type: fc.constantFrom('dialog_submission', ''),
        callback_id: fc.oneof(fc.constantFrom('force', 'rollback', 'approve', ''), fc.string()),
        state,
        // alice is the only user the genuine state is bound to: she is left out so nothing may apply.
        user_id: fc.oneof(fc.constantFrom(h.users.bob, h.users.carol, ''), fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 1 })),
        channel_id: fc.oneof(fc.constant(h.channelId), fc.string()),
        team_id: fc.oneof(fc.constant(h.teamId), fc.string()),
        submission: fc.oneof(fc.record({ reason: fc.oneof(fc.fullUnicodeString({ maxLength: 40 }), fc.jsonValue({ maxDepth: 1 })) }), fc.jsonValue({ maxDepth: 2 })),
        cancelled: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 0 })),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const reply = expectJsonReply(await h.chatPost('dialog', b as Record<string, unknown>));
        for (const key of Object.keys(reply)) expect(['error', 'errors']).toContain(key);
        if ('error' in reply) {
          expect(typeof reply.error).toBe('string');
          expect(reply.error).not.toMatch(/internal error/);
        }
        if ('errors' in reply) expect(isObject(reply.errors)).toBe(true);
      }),
      runs(60),
    );
    expect(await writes()).toBe(before);
  });
});

// Last: an admin's random commands may change rings (create, delete, release), which the tests above rely on.
describe('chat-ops fuzz: slash commands', () => {
  it('random texts from someone who may only look: always 200 + an ephemeral JSON reply, and nothing is written', async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(slashText, async (text) => {
        const reply = expectCommandReply(await h.chatPost('command', commandForm('carol', text)));
        if (reply.startsWith('⚠️ Elrond hit an internal error')) throw new Error(`internal error for ${JSON.stringify(text.slice(0, 200))}`);
      }),
      runs(70),
    );
    expect(await writes()).toBe(before);
  });

  it('random texts from an admin: always 200 + an ephemeral JSON reply; a refused or failed command writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(slashText, async (text) => {
        const before = await writes();
        const reply = expectCommandReply(await h.chatPost('command', commandForm('alice', text)));
        if (reply.startsWith('⚠️ Elrond hit an internal error')) throw new Error(`internal error for ${JSON.stringify(text.slice(0, 200))}`);
        if (reply.startsWith('⚠️') || reply.startsWith('```\nUsage')) expect(await writes(), text.slice(0, 200)).toBe(before);
      }),
      runs(70),
    );
  });

  it('a command text at Mattermost\'s message limit (16383 runes of emoji) still gets a JSON reply', async () => {
    const reply = expectCommandReply(await h.chatPost('command', commandForm('carol', `history --ring ${'🚀'.repeat(16_368)}`)));
    expect(reply).toMatch(/⚠️|Nothing to show/);
  });

  it('a body Elrond cannot read (malformed, or over the size limit) is still a 200 JSON reply that does nothing', async () => {
    const before = await writes();
    const huge = await h.chatPost('command', `${commandForm('alice', 'ring create --name x')}&pad=${'x'.repeat(2_000_000)}`);
    expectJsonReply(huge);
    const broken = await h.chatPost('action', '{"context": ', { 'Content-Type': 'application/json' });
    expectJsonReply(broken);
    const brokenDialog = await h.chatPost('dialog', 'null', { 'Content-Type': 'application/json' });
    expectJsonReply(brokenDialog);
    expect(await writes()).toBe(before);
  });
});
