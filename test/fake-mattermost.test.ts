import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mm from '@mattermost/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeMattermost } from './fakes/fake-mattermost.js';

const { Client4 } = mm;
type Client = InstanceType<typeof Client4>;
type PostArg = Parameters<Client['updatePost']>[0];
type CommandArg = Parameters<Client['addCommand']>[0];

// ---- a tiny bot --------------------------------------------------------------------------------

interface BotRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}
interface BotReply {
  status?: number;
  contentType?: string;
  body?: string;
}
type BotHandler = (r: BotRequest) => BotReply | Promise<BotReply>;

async function startBot(handler: BotHandler): Promise<{ url: string; requests: BotRequest[]; close: () => Promise<void> }> {
  const requests: BotRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: BotRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      Promise.resolve(handler(r)).then(
        (reply) => {
          res.writeHead(reply.status ?? 200, { 'Content-Type': reply.contentType ?? 'application/json' });
          res.end(reply.body ?? '');
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const json = (v: unknown): BotReply => ({ body: JSON.stringify(v) });

// ---- fixture -----------------------------------------------------------------------------------

let clock = 1_700_000_000_000;
let fake: FakeMattermost;
let url: string;
let bot: { userId: string; token: string };
let alice: { id: string; username: string };
let admin: { id: string; username: string };
let team: { id: string; name: string };
let town: { id: string; name: string };
let botClient: Client;

function client(token: string): Client {
  const c = new Client4();
  c.setUrl(url);
  c.setToken(token);
  c.setIncludeCookies(false);
  return c;
}

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = new FakeMattermost({ now: () => clock, seed: 42 });
  url = await fake.start();
  team = fake.addTeam({ name: 'eng' });
  town = fake.addChannel({ teamId: team.id, name: 'town-square' });
  bot = fake.addBot({ username: 'elrond' });
  alice = fake.addUser({ username: 'alice' });
  admin = fake.addUser({ username: 'root', isAdmin: true });
  fake.addChannelMember(town.id, bot.userId);
  fake.addChannelMember(town.id, alice.id);
  botClient = client(bot.token);
});

afterEach(async () => {
  await fake.stop();
});

const card = (integrationUrl: string) => ({
  attachments: [
    {
      text: 'Release r1',
      actions: [
        { id: 'approve', name: 'Approve', type: 'button', integration: { url: integrationUrl, context: { action: 'approve', sig: 'secret-sig' } } },
        { name: 'Reject', type: 'button', integration: { url: integrationUrl, context: { action: 'reject', sig: 'secret-sig' } } },
        {
          id: 'ring', name: 'Ring', type: 'select', options: [{ text: 'A', value: 'a' }],
          integration: { url: integrationUrl, context: { action: 'ring', sig: 'secret-sig' } },
        },
      ],
    },
  ],
});

// ---- REST ----------------------------------------------------------------------------------------

describe('FakeMattermost REST with Client4', () => {
  it('answers JSON that Client4 parses (exact content type)', async () => {
    const me = await botClient.getMe();
    expect(typeof me).toBe('object');
    expect(me.username).toBe('elrond');
    expect(me.is_bot).toBe(true);
    const raw = await fetch(`${url}/api/v4/users/me`, { headers: { Authorization: `Token ${bot.token}` } });
    expect(raw.headers.get('content-type')).toBe('application/json');
    const byQuery = await fetch(`${url}/api/v4/users/me?access_token=${bot.token}`);
    expect(byQuery.status).toBe(200);
    const lower = await fetch(`${url}/api/v4/users/me`, { headers: { Authorization: `bearer ${bot.token}` } });
    expect(lower.status).toBe(200);
    expect((await botClient.getTeamByName('eng')).id).toBe(team.id);
    expect((await botClient.getChannelByNameAndTeamName('eng', 'town-square')).id).toBe(town.id);
    expect((await botClient.getUserByUsername('alice')).id).toBe(alice.id);
  });

  it('rejects bad tokens with 401 and the AppError shape', async () => {
    await expect(client('nope').getMe()).rejects.toMatchObject({ status_code: 401, server_error_id: 'api.context.session_expired.app_error' });
    const res = await fetch(`${url}/api/v4/users/me`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['detailed_error', 'id', 'message', 'request_id', 'status_code']);
  });

  it('strips integrations on create and get, keeps them server-side, generates action ids', async () => {
    const created = await botClient.createPost({ channel_id: town.id, message: 'card', props: card('http://bot/actions') });
    expect(created.type).toBe('slack_attachment');
    expect(JSON.stringify(created)).not.toContain('integration');
    expect(JSON.stringify(created)).not.toContain('secret-sig');
    const actions = (created.props.attachments as Array<{ actions: Array<{ id: string }> }>)[0]?.actions ?? [];
    expect(actions[0]?.id).toBe('approve');
    expect(actions[1]?.id).toMatch(/^[a-z0-9]{26}$/);
    expect(created.props.from_bot).toBe('true');
    const got = await botClient.getPost(created.id);
    expect(JSON.stringify(got)).not.toContain('integration');
    expect(JSON.stringify(fake.storedPost(created.id))).toContain('secret-sig');
    expect(JSON.stringify(fake.post(created.id))).not.toContain('secret-sig');
  });

  it('refuses posts by non-members (403) and joins via REST', async () => {
    const ops = fake.addChannel({ teamId: team.id, name: 'ops' });
    await expect(botClient.createPost({ channel_id: ops.id, message: 'hi' })).rejects.toMatchObject({ status_code: 403 });
    await botClient.addToChannel(bot.userId, ops.id);
    const p = await botClient.createPost({ channel_id: ops.id, message: 'hi' });
    expect(p.channel_id).toBe(ops.id);
    const secret = fake.addChannel({ teamId: team.id, name: 'secret', type: 'P' });
    await expect(botClient.addToChannel(bot.userId, secret.id)).rejects.toMatchObject({ status_code: 403 });
  });

  it('enforces author-only edits, full replace vs patch, and keeps history', async () => {
    const p = await botClient.createPost({ channel_id: town.id, message: 'v1', props: card('http://bot/a') });
    const aliceClient = client(fake.createToken(alice.id));
    await expect(aliceClient.patchPost({ id: p.id, message: 'hacked' })).rejects.toMatchObject({ status_code: 403 });
    await expect(aliceClient.updatePost({ ...p, message: 'hacked' })).rejects.toMatchObject({ status_code: 403 });
    // api4 masks a post it cannot find as a 403 edit_post.
    await expect(botClient.updatePost({ ...p, id: 'x'.repeat(26) })).rejects.toMatchObject({ status_code: 403, server_error_id: 'api.context.permissions.app_error' });
    const mismatch = await fetch(`${url}/api/v4/posts/${p.id}`, { method: 'PUT', headers: { Authorization: `Bearer ${bot.token}` }, body: JSON.stringify({ id: 'other', message: 'x' }) });
    expect(mismatch.status).toBe(400);

    clock += 1000;
    const patched = await botClient.patchPost({ id: p.id, message: 'v2' });
    expect(patched.message).toBe('v2');
    expect(patched.type).toBe('slack_attachment');
    expect(patched.edit_at).toBe(clock);
    expect(patched.update_at).toBe(clock);

    clock += 1000;
    // Mattermost v11 keeps the identity props (from_bot…) through an update; everything else is replaced.
    const replaced = await botClient.updatePost({ id: p.id } as PostArg);
    expect(replaced.message).toBe('');
    expect(replaced.props).toEqual({ from_bot: 'true' });
    expect(replaced.type).toBe('');
    expect(fake.postHistory(p.id).map((v) => [v.via, v.message])).toEqual([['create', 'v1'], ['patch', 'v2'], ['update', '']]);

    await botClient.deletePost(p.id);
    await expect(botClient.getPost(p.id)).rejects.toMatchObject({ status_code: 404 });
    await expect(botClient.patchPost({ id: p.id, message: 'gone' })).rejects.toMatchObject({ status_code: 403 });
  });

  it('update takes is_pinned and has_reactions from the request (App.UpdatePost); patch keeps them (App.PatchPost)', async () => {
    const p = await botClient.createPost({ channel_id: town.id, message: 'card', props: { attachments: [{ text: 'x' }] } });
    const aliceClient = client(fake.createToken(alice.id));
    await aliceClient.pinPost(p.id);
    await aliceClient.addReaction(alice.id, p.id, 'rocket');
    expect(fake.post(p.id)).toMatchObject({ is_pinned: true, has_reactions: true });

    clock += 1000;
    const patched = await botClient.patchPost({ id: p.id, props: { attachments: [{ text: 'y' }] } });
    expect(patched).toMatchObject({ is_pinned: true, has_reactions: true, edit_at: clock, message: 'card' });
    expect(patched.props).toEqual({ attachments: [{ text: 'y' }], from_bot: 'true' });
    // Same content again: an edit-history row, but edit_at does not move.
    clock += 1000;
    expect((await botClient.patchPost({ id: p.id, props: { attachments: [{ text: 'y' }] } })).edit_at).toBe(clock - 1000);

    const updated = await botClient.updatePost({ id: p.id, channel_id: town.id, message: 'card', props: { attachments: [{ text: 'z' }] } } as unknown as PostArg);
    expect(updated).toMatchObject({ is_pinned: false, has_reactions: false });
    expect(fake.postHistory(p.id).map((v) => [v.via, v.is_pinned])).toEqual([['create', false], ['pin', true], ['patch', true], ['patch', true], ['update', false]]);
  });

  it('editing needs channel membership: post:all lets a bot create posts in any channel but not edit them', async () => {
    const ops = fake.addChannel({ teamId: team.id, name: 'ops', type: 'P' });
    await expect(botClient.createPost({ channel_id: ops.id, message: 'card' })).rejects.toMatchObject({ status_code: 403 });
    fake.grantSystemRole(bot.userId, 'system_post_all');
    const created = await botClient.createPost({ channel_id: ops.id, message: 'card' });
    await expect(botClient.patchPost({ id: created.id, message: 'edited' })).rejects.toMatchObject({ status_code: 403, detailed_error: 'edit_post' });
    await expect(botClient.getChannelMember(ops.id, bot.userId)).rejects.toMatchObject({ status_code: 403 });
    fake.addChannelMember(ops.id, bot.userId);
    expect((await botClient.getChannelMember(ops.id, bot.userId)).user_id).toBe(bot.userId);
    expect((await botClient.patchPost({ id: created.id, message: 'edited' })).message).toBe('edited');
    // A public channel the bot is not in: it may read it, and is told it is not a member.
    const pub = fake.addChannel({ teamId: team.id, name: 'pub' });
    fake.addTeamMember(team.id, bot.userId);
    await expect(botClient.getChannelMember(pub.id, bot.userId)).rejects.toMatchObject({ status_code: 404 });
    // A direct message between two people: the bot is no member, cannot post there without post:all, nor edit.
    const carol = fake.addUser({ username: 'carol' });
    const dm = fake.addDirectChannel(alice.id, carol.id);
    expect(fake.channel(dm.id)).toMatchObject({ type: 'D', team_id: '' });
    const inDm = await botClient.createPost({ channel_id: dm.id, message: 'hi' });
    await expect(botClient.patchPost({ id: inDm.id, message: 'edit' })).rejects.toMatchObject({ status_code: 403 });
  });

  it('dedupes creates by pending_post_id within 30 s', async () => {
    const first = await botClient.createPost({ channel_id: town.id, message: 'once', pending_post_id: `${bot.userId}:1` });
    const again = await botClient.createPost({ channel_id: town.id, message: 'once', pending_post_id: `${bot.userId}:1` });
    expect(again.id).toBe(first.id);
    expect(fake.posts(town.id)).toHaveLength(1);
    expect(fake.dedupes()).toEqual([{ pendingPostId: `${bot.userId}:1`, userId: bot.userId, postId: first.id, at: clock }]);
    clock += 30_001;
    const later = await botClient.createPost({ channel_id: town.id, message: 'once', pending_post_id: `${bot.userId}:1` });
    expect(later.id).not.toBe(first.id);
  });

  it('threads replies under a root', async () => {
    const root = await botClient.createPost({ channel_id: town.id, message: 'root' });
    await botClient.createPost({ channel_id: town.id, message: 'r1', root_id: root.id });
    const list = await botClient.getPostThread(root.id);
    expect(list.order).toHaveLength(2);
    expect(fake.thread(root.id).map((p) => p.message)).toEqual(['root', 'r1']);
  });

  it('lists a channel\'s posts changed since a moment, replies included, or its newest page', async () => {
    const old = await botClient.createPost({ channel_id: town.id, message: 'old' });
    clock += 1_000;
    const since = clock - 1;
    const root = await botClient.createPost({ channel_id: town.id, message: 'new root' });
    await botClient.createPost({ channel_id: town.id, message: 'new reply', root_id: root.id });
    const changed = await botClient.getPostsSince(town.id, since, false);
    expect(changed.order.map((id) => changed.posts[id]!.message).sort()).toEqual(['new reply', 'new root']);
    const newest = await botClient.getPosts(town.id, 0, 2);
    expect(newest.order).toHaveLength(2);
    expect(newest.order).not.toContain(old.id);
  });

  it('registers commands with a server token, validates triggers, edits, regenerates and deletes', async () => {
    fake.addTeamMember(team.id, bot.userId, { admin: true });
    const base = { team_id: team.id, trigger: 'Elrond', method: 'P', url: 'http://bot/slash', token: 'client-chosen', auto_complete: true } as unknown as CommandArg;
    const cmd = await botClient.addCommand(base);
    expect(cmd.token).toMatch(/^[a-z0-9]{26}$/);
    expect(cmd.token).not.toBe('client-chosen');
    expect(cmd.trigger).toBe('elrond');
    expect(cmd.creator_id).toBe(bot.userId);
    const bad = async (over: Record<string, unknown>): Promise<unknown> => botClient.addCommand({ ...base, ...over } as CommandArg);
    await expect(bad({})).rejects.toMatchObject({ status_code: 400, server_error_id: 'api.command.duplicate_trigger.app_error' });
    await expect(bad({ trigger: '/slash' })).rejects.toMatchObject({ status_code: 400 });
    await expect(bad({ trigger: 'two words' })).rejects.toMatchObject({ status_code: 400 });
    await expect(bad({ trigger: '' })).rejects.toMatchObject({ status_code: 400 });
    await expect(bad({ trigger: 'x'.repeat(129) })).rejects.toMatchObject({ status_code: 400 });
    await expect(bad({ trigger: 'echo' })).rejects.toMatchObject({ status_code: 400 });
    await expect(bad({ trigger: 'other', url: 'ftp://bot' })).rejects.toMatchObject({ status_code: 400 });

    const listed = await botClient.getCustomTeamCommands(team.id);
    expect(listed.map((c) => c.id)).toEqual([cmd.id]);
    const edited = await botClient.editCommand({ ...cmd, token: 'zzz', url: 'http://bot/slash2' });
    expect(edited.token).toBe(cmd.token);
    expect(edited.url).toBe('http://bot/slash2');
    const { token } = await botClient.regenCommandToken(cmd.id);
    expect(token).not.toBe(cmd.token);
    expect(fake.commands(team.id)[0]?.token).toBe(token);
    await botClient.deleteCommand(cmd.id);
    expect(fake.commands(team.id)).toEqual([]);
  });

  it('slash-command permissions as MakeDefaultRoles gives them: team members none, team admins everyone\'s', async () => {
    const base = { team_id: team.id, method: 'P', url: 'http://bot/slash', auto_complete: true } as unknown as CommandArg;
    // A plain team member may neither add nor list custom commands.
    fake.addTeamMember(team.id, bot.userId);
    await expect(botClient.addCommand({ ...base, trigger: 'mine' })).rejects.toMatchObject({ status_code: 403, detailed_error: 'manage_own_slash_commands' });
    await expect(botClient.getCustomTeamCommands(team.id)).rejects.toMatchObject({ status_code: 403 });
    await expect(fetch(`${url}/api/v4/commands?custom_only=true`, { headers: { Authorization: `Bearer ${bot.token}` } }).then((r) => r.status)).resolves.toBe(400);

    // A team admin's command, then a scheme letting members manage their own: the bot sees only its own.
    fake.addTeamMember(team.id, admin.id, { admin: true });
    const adminClient = client(fake.createToken(admin.id));
    const theirs = await adminClient.addCommand({ ...base, trigger: 'theirs' });
    fake.grantRolePermissions('team_user', ['manage_own_slash_commands']);
    const mine = await botClient.addCommand({ ...base, trigger: 'mine' });
    expect((await botClient.getCustomTeamCommands(team.id)).map((c) => c.trigger)).toEqual(['mine']);
    await expect(botClient.addCommand({ ...base, trigger: 'theirs' })).rejects.toMatchObject({ server_error_id: 'api.command.duplicate_trigger.app_error' });
    await expect(botClient.regenCommandToken(theirs.id)).rejects.toMatchObject({ status_code: 403, detailed_error: 'manage_others_slash_commands' });
    await expect(botClient.editCommand({ ...theirs, url: 'http://bot/steal' })).rejects.toMatchObject({ status_code: 403 });
    // The team admin sees and manages both: regenerates the bot's token, deletes its command.
    expect((await adminClient.getCustomTeamCommands(team.id)).map((c) => c.trigger).sort()).toEqual(['mine', 'theirs']);
    const { token } = await adminClient.regenCommandToken(mine.id);
    expect(fake.commands(team.id).find((c) => c.id === mine.id)?.token).toBe(token);
    await adminClient.deleteCommand(mine.id);
    expect((await botClient.getCustomTeamCommands(team.id))).toEqual([]);
  });

  it('creates bots and tokens (admin), refuses ephemeral posts to non-admins', async () => {
    const adminClient = client(fake.createToken(admin.id));
    const created = await adminClient.createBot({ username: 'helper', display_name: 'Helper' });
    expect(created.owner_id).toBe(admin.id);
    const tok = await adminClient.createUserAccessToken(created.user_id, 'ci');
    expect((await client(tok.token ?? '').getMe()).username).toBe('helper');
    await expect(botClient.createBot({ username: 'nope' })).rejects.toMatchObject({ status_code: 403 });
    await expect(botClient.createPostEphemeral(alice.id, { channel_id: town.id, message: 'psst' })).rejects.toMatchObject({ status_code: 403 });
    await adminClient.createPostEphemeral(alice.id, { channel_id: town.id, message: 'psst' });
    expect(fake.ephemerals(alice.id).map((e) => e.message)).toEqual(['psst']);
  });

  it('injects faults: failNext, down, error rate with an end time', async () => {
    fake.failNext(1, 502);
    await expect(botClient.getMe()).rejects.toMatchObject({ status_code: 502 });
    await expect(botClient.getMe()).resolves.toMatchObject({ username: 'elrond' });
    fake.down(true);
    await expect(botClient.getMe()).rejects.toMatchObject({ status_code: 503 });
    fake.down(false);
    fake.setErrorRate(1, 500, clock + 10);
    await expect(botClient.getMe()).rejects.toMatchObject({ status_code: 500 });
    clock += 10;
    await expect(botClient.getMe()).resolves.toMatchObject({ username: 'elrond' });
    expect(fake.requests.filter((r) => r.path === '/api/v4/users/me').map((r) => r.status)).toEqual([502, 200, 503, 500, 200]);
  });
});

// ---- drivers -------------------------------------------------------------------------------------

describe('FakeMattermost drivers against a real bot', () => {
  let botServer: Awaited<ReturnType<typeof startBot>>;

  beforeEach(async () => {
    botServer = await startBot(async (r) => {
      if (r.path === '/slash') {
        const form = new URLSearchParams(r.body);
        const text = form.get('text') ?? '';
        if (text === 'status') return json({ text: 'Status: ok' });
        if (text === 'announce') return json({ response_type: 'in_channel', text: 'Release started', attachments: card(`${botServer.url}/action`).attachments });
        if (text === 'quiet') return json({});
        if (text === 'plain') return { contentType: 'text/plain', body: 'plain words' };
        if (text === 'charset') return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ text: 'utf8 json' }) };
        if (text === 'empty-json') return { body: '' };
        if (text === 'fail') return { status: 500, body: 'boom' };
        if (text === 'plan') return json({ text: 'the plan', attachments: [{ actions: [{ id: 'start', name: 'Start', type: 'button', integration: { url: `${botServer.url}/action`, context: { sig: 'secret-sig', payload: { z: 1, a: 2 }, action: 'start' } } }] }] });
        if (text === 'dialog') {
          const res = await fetch(`${url}/api/v4/actions/dialogs/open`, {
            method: 'POST',
            body: JSON.stringify({ trigger_id: form.get('trigger_id'), url: `${botServer.url}/dialog`, dialog: { callback_id: 'cb', title: 'Release', state: 'st', notify_on_cancel: true, elements: [{ name: 'version', type: 'text', display_name: 'Version' }] } }),
          });
          return json({ text: `open:${res.status}` });
        }
        return json({ text: `unknown ${text}` });
      }
      if (r.path === '/action') {
        const body = JSON.parse(r.body) as { context: { action: string; selected_option?: string } };
        if (body.context.action === 'approve') {
          return json({ update: { message: 'Approved', props: { attachments: [{ text: 'done', actions: [{ id: 'undo', name: 'Undo', integration: { url: `${botServer.url}/action`, context: { action: 'undo', sig: 'new-sig' } } }] }] } }, ephemeral_text: 'You approved r1' });
        }
        if (body.context.action === 'ring') return json({ ephemeral_text: `ring ${body.context.selected_option ?? ''}` });
        if (body.context.action === 'clear') return json({ update: { props: {} } });
        if (body.context.action === 'keep') return json({ update: { message: 'kept props', props: null } });
        if (body.context.action === 'start') return json({ ephemeral_text: 'started' });
        return { status: 403, body: '' };
      }
      if (r.path === '/dialog') {
        const sub = JSON.parse(r.body) as { submission: Record<string, string>; cancelled: boolean };
        if (sub.cancelled) return { body: '' };
        if (!sub.submission.version) return json({ errors: { version: 'required' } });
        if (sub.submission.version === 'next') return json({ type: 'form', form: { callback_id: 'cb2', title: 'Step 2', elements: [] } });
        return json({});
      }
      return { status: 404 };
    });
    fake.addCommand({ teamId: team.id, trigger: 'elrond', url: `${botServer.url}/slash`, creatorId: bot.userId });
  });

  afterEach(async () => {
    await botServer.close();
  });

  it('sends the B.3 form with a Token header and records an ephemeral reply', async () => {
    const res = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'status @alice ~town-square' });
    expect(res.failed).toBe(false);
    expect(res.ephemeral).toBe('unknown status @alice ~town-square');
    const cmdToken = fake.commands(team.id)[0]?.token ?? '';
    const req = botServer.requests[0];
    expect(req?.headers.authorization).toBe(`Token ${cmdToken}`);
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(req?.body);
    expect(form.get('command')).toBe('/elrond');
    expect(form.get('token')).toBe(cmdToken);
    expect(form.get('team_domain')).toBe('eng');
    expect(form.get('user_name')).toBe('alice');
    expect(form.get('trigger_id')).toBe(res.triggerId);
    expect(form.get('response_url')).toBe(res.responseUrl);
    expect(form.getAll('user_mentions_ids')).toEqual([alice.id]);
    expect(form.getAll('channel_mentions')).toEqual(['town-square']);

    const status = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'status' });
    expect(status.ephemeral).toBe('Status: ok');
    expect(fake.ephemerals(alice.id).map((e) => e.message)).toContain('Status: ok');
    expect(fake.posts(town.id)).toEqual([]);
  });

  it('posts in_channel replies as the invoking user with from_webhook', async () => {
    const res = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: '/elrond announce' });
    expect(res.post?.user_id).toBe(alice.id);
    expect(res.post?.props.from_webhook).toBe('true');
    expect(res.post?.type).toBe('slack_attachment');
    expect(JSON.stringify(res.post)).not.toContain('integration');
    expect(fake.posts(town.id)).toHaveLength(1);
  });

  it('applies content-type, {} and failure rules', async () => {
    const quiet = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'quiet' });
    expect(quiet).toMatchObject({ failed: false, status: 200 });
    expect(quiet.ephemeral).toBeUndefined();
    expect((await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'plain' })).ephemeral).toBe('plain words');
    expect((await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'charset' })).ephemeral).toBe('utf8 json');
    expect(await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'empty-json' })).toMatchObject({ failed: true, status: 200 });
    expect(await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'fail' })).toMatchObject({ failed: true, status: 500 });
    expect(fake.ephemerals(alice.id).map((e) => e.message)).toEqual(['plain words', 'utf8 json']);
  });

  it('honours response_url up to 5 uses', async () => {
    const res = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'quiet' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(res.responseUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ response_type: i === 0 ? 'in_channel' : 'ephemeral', text: `late ${i}` }) });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 400]);
    expect(fake.posts(town.id).map((p) => [p.user_id, p.message])).toEqual([[alice.id, 'late 0']]);
    expect(fake.ephemerals(alice.id).filter((e) => e.source === 'response_url')).toHaveLength(4);
  });

  it('clicks a button with the stored context and applies update + ephemeral_text', async () => {
    const p = await botClient.createPost({ channel_id: town.id, message: 'Release r1', props: card(`${botServer.url}/action`) });
    const res = await fake.clickButton({ userId: alice.id, postId: p.id, actionId: 'approve' });
    expect(res).toMatchObject({ failed: false, status: 200, ephemeralText: 'You approved r1' });
    const sent = JSON.parse(botServer.requests.at(-1)?.body ?? '{}') as Record<string, unknown>;
    expect(sent).toMatchObject({ user_id: alice.id, user_name: 'alice', channel_id: town.id, team_id: team.id, team_domain: 'eng', post_id: p.id, trigger_id: res.triggerId, type: 'button', data_source: '', context: { action: 'approve', sig: 'secret-sig' } });
    expect(botServer.requests.at(-1)?.headers.authorization).toBeUndefined();
    const after = await botClient.getPost(p.id);
    expect(after.message).toBe('Approved');
    expect(after.props.from_bot).toBe('true');
    expect(JSON.stringify(after)).not.toContain('new-sig');
    expect(JSON.stringify(fake.storedPost(p.id))).toContain('new-sig');
    expect(fake.ephemerals(alice.id).map((e) => e.message)).toEqual(['You approved r1']);
    expect(fake.postHistory(p.id).map((v) => v.via)).toEqual(['create', 'action']);

    const rejected = await fake.clickButton({ userId: alice.id, postId: p.id, actionId: 'undo' });
    expect(rejected).toMatchObject({ failed: true, status: 403, sent: true });

    // The update replaced the buttons: a click on one that is gone is refused by Mattermost, the bot never hears of it.
    const sentBefore = botServer.requests.length;
    const gone = await fake.clickButton({ userId: alice.id, postId: p.id, actionId: 'approve' });
    expect(gone).toMatchObject({ failed: true, sent: false, status: 404, errorId: 'api.post.do_action.action_id.app_error' });
    await expect(client(fake.createToken(alice.id)).doPostAction(p.id, 'approve')).rejects.toMatchObject({ status_code: 404 });
    await expect(client(fake.createToken(alice.id)).doPostAction(p.id, 'not-alnum')).rejects.toMatchObject({ status_code: 404 });
    expect(botServer.requests.length).toBe(sentBefore);
  });

  it('sends an action context back as Go re-marshals its map: keys sorted at every level, HTML characters escaped', async () => {
    const context = { zeta: 1, alpha: { b: [3, { y: true, x: null }], a: 'x<y&z' }, mid: 1.5e-7, big: 1764072000000 };
    const p = await botClient.createPost({ channel_id: town.id, message: 'x', props: { attachments: [{ actions: [{ id: 'go', name: 'Go', type: 'button', integration: { url: `${botServer.url}/action`, context: { ...context, action: 'keep' } } }] }] } });
    await fake.clickButton({ userId: alice.id, postId: p.id, actionId: 'go' });
    const raw = botServer.requests.at(-1)!.body;
    expect(raw).toContain('"context":{"action":"keep","alpha":{"a":"x\\u003cy\\u0026z","b":[3,{"x":null,"y":true}]},"big":1764072000000,"mid":1.5e-7,"zeta":1}');
    expect(raw.indexOf('"user_id"')).toBeLessThan(raw.indexOf('"post_id"'));
    // The stored post keeps the context the same way.
    const stored = fake.storedPost(p.id)!.props.attachments as Array<{ actions: Array<{ integration: { context: object } }> }>;
    expect(Object.keys(stored[0]!.actions[0]!.integration.context)).toEqual(['action', 'alpha', 'big', 'mid', 'zeta']);
  });

  it('a button on an ephemeral reply is clicked through its cookie (AddPostActionCookies), the context re-marshalled', async () => {
    const res = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'plan' });
    expect(res.ephemeral).toBe('the plan');
    const ephemeral = fake.ephemerals(alice.id).at(-1)!;
    const action = (ephemeral.props.attachments as Array<{ actions: Array<Record<string, unknown>> }>)[0]!.actions[0]!;
    expect(action.id).toBe('start');
    expect(action.integration).toBeUndefined();
    expect(typeof action.cookie).toBe('string');
    expect(String(action.cookie)).not.toContain('secret-sig');

    const clicked = await fake.clickEphemeralButton({ userId: alice.id, ephemeralId: ephemeral.id, actionId: 'start' });
    expect(clicked).toMatchObject({ failed: false, ephemeralText: 'started' });
    const sent = JSON.parse(botServer.requests.at(-1)!.body) as { post_id: string; channel_id: string; context: Record<string, unknown> };
    expect(sent.post_id).toBe(ephemeral.id);
    expect(sent.channel_id).toBe(town.id);
    expect(Object.keys(sent.context)).toEqual(['action', 'payload', 'sig']);
    expect(Object.keys(sent.context.payload as object)).toEqual(['a', 'z']);

    // A tampered cookie does not open; the post id must match the cookie's.
    const tampered = `${String(action.cookie).slice(0, -4)}AAAA`;
    expect(await fake.clickButton({ userId: alice.id, postId: ephemeral.id, actionId: 'start', cookie: tampered })).toMatchObject({ failed: true, sent: false, status: 400 });
    expect(await fake.clickButton({ userId: alice.id, postId: 'otherpostotherpostotherpo1', actionId: 'start', cookie: String(action.cookie) })).toMatchObject({ failed: true, sent: false, status: 400 });
  });

  it('adds selected_option for selects; null props keep, {} clears except retained keys', async () => {
    const p = await botClient.createPost({ channel_id: town.id, message: 'x', props: card(`${botServer.url}/action`) });
    const sel = await fake.clickButton({ userId: alice.id, postId: p.id, actionId: 'ring', selectedOption: 'a' });
    expect(sel.ephemeralText).toBe('ring a');
    expect((JSON.parse(botServer.requests.at(-1)?.body ?? '{}') as { context: unknown }).context).toEqual({ action: 'ring', sig: 'secret-sig', selected_option: 'a' });

    const slash = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'announce' });
    const postId = slash.post?.id ?? '';
    const stored = fake.storedPost(postId);
    const attachments = stored?.props.attachments as Array<{ actions: Array<{ integration: { context: Record<string, string> } }> }>;
    const first = attachments[0]?.actions[0];
    if (first) first.integration.context.action = 'keep';
    const second = attachments[0]?.actions[1];
    if (second) second.integration.context.action = 'clear';
    // Re-store via the bot-free path: the in_channel post belongs to alice, so patch as alice.
    await client(fake.createToken(alice.id)).patchPost({ id: postId, props: { ...stored?.props, attachments } });
    const keep = await fake.clickButton({ userId: alice.id, postId, actionId: 'approve' });
    expect(keep.updatedPost?.message).toBe('kept props');
    expect(keep.updatedPost?.props.from_webhook).toBe('true');
    expect(keep.updatedPost?.props.attachments).toBeDefined();
    const rejectId = (fake.post(postId)?.props.attachments as Array<{ actions: Array<{ id: string }> }>)[0]?.actions[1]?.id ?? '';
    const cleared = await fake.clickButton({ userId: alice.id, postId, actionId: rejectId });
    expect(cleared.updatedPost?.message).toBe('');
    expect(cleared.updatedPost?.props).toEqual({ from_webhook: 'true' });
  });

  it('opens dialogs with a fresh trigger id, refuses expired/unknown ones, and submits', async () => {
    const opened = await fake.runSlashCommand({ userId: alice.id, channelId: town.id, text: 'dialog' });
    expect(opened.ephemeral).toBe('open:200');
    const [dialog] = fake.dialogs();
    expect(dialog).toMatchObject({ userId: alice.id, channelId: town.id, teamId: team.id, url: `${botServer.url}/dialog`, triggerId: opened.triggerId, warnings: [] });

    const open = (triggerId: string, dialogUrl = `${botServer.url}/dialog`): Promise<Response> =>
      fetch(`${url}/api/v4/actions/dialogs/open`, { method: 'POST', body: JSON.stringify({ trigger_id: triggerId, url: dialogUrl, dialog: { callback_id: 'cb', title: 't', elements: [] } }) });
    clock += 3001;
    const expired = await open(opened.triggerId);
    expect(expired.status).toBe(400);
    expect(expired.headers.get('content-type')).toBe('application/json');
    fake.triggerExpiryMs = 30_000;
    expect((await open(opened.triggerId)).status).toBe(200);
    // An invalid dialog (Dialog.IsValid) is opened anyway; Mattermost only logs a warning.
    const long = await fetch(`${url}/api/v4/actions/dialogs/open`, { method: 'POST', body: JSON.stringify({ trigger_id: opened.triggerId, url: `${botServer.url}/dialog`, dialog: { callback_id: 'cb', title: 'A title longer than 24 bytes', elements: [{ name: 'r', type: 'textarea', display_name: 'Reason', min_length: 5, max_length: 3 }] } }) });
    expect(long.status).toBe(200);
    expect(fake.dialogs().at(-1)!.warnings).toEqual([expect.stringMatching(/invalid dialog title/), expect.stringMatching(/"r" field is not valid: min length should be less/)]);
    expect((await open('bogus')).status).toBe(400);
    expect((await open(fake.issueTriggerId(alice.id, town.id), '')).status).toBe(400);

    const id = dialog?.id ?? '';
    const invalid = await fake.submitDialog({ dialogId: id, submission: {} });
    expect(invalid).toMatchObject({ closed: false, errors: { version: 'required' }, failed: false });
    const sent = JSON.parse(botServer.requests.at(-1)?.body ?? '{}') as Record<string, unknown>;
    expect(sent).toEqual({ type: 'dialog_submission', callback_id: 'cb', state: 'st', user_id: alice.id, channel_id: town.id, team_id: team.id, submission: {}, cancelled: false });
    expect(await fake.submitDialog({ dialogId: id, submission: { version: 'next' } })).toMatchObject({ closed: false, form: { callback_id: 'cb2' } });
    expect(await fake.submitDialog({ dialogId: id, submission: { version: '1.2.3' } })).toMatchObject({ closed: true, failed: false });
    expect(await fake.submitDialog({ dialogId: id, submission: {}, cancelled: true })).toMatchObject({ closed: true, sent: false });
  });

  it('drives commands and actions end to end through Client4 (executeCommand, doPostAction)', async () => {
    const aliceClient = client(fake.createToken(alice.id));
    const resp = await aliceClient.executeCommand('/elrond status', { channel_id: town.id, team_id: team.id });
    expect(resp.text).toBe('Status: ok');
    const p = await botClient.createPost({ channel_id: town.id, message: 'x', props: card(`${botServer.url}/action`) });
    const act = await aliceClient.doPostAction(p.id, 'approve');
    expect(act).toMatchObject({ status: 'OK' });
    expect(fake.post(p.id)?.message).toBe('Approved');
  });
});
