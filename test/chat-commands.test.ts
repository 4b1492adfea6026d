import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';
import { COMMANDS } from '../src/commands/index.js';

let h: ChatHarness;
beforeAll(async () => {
  h = await startChatHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Table rows of a Markdown table (without header and separator). */
const tableRows = (text: string | undefined) => (text ?? '').split('\n').filter((l) => l.startsWith('|')).slice(2);

function commandForm(overrides: Record<string, string> = {}): string {
  const token = h.mm.commands(h.teamId)[0]!.token;
  return new URLSearchParams({
    token,
    team_id: h.teamId,
    team_domain: 'release',
    channel_id: h.channelId,
    channel_name: 'releases',
    user_id: h.users.alice,
    user_name: 'alice',
    command: '/elrond',
    text: 'ring create --name sneaky --priority 9',
    trigger_id: 'x',
    response_url: `${h.mm.url}/hooks/commands/none`,
    ...overrides,
  }).toString();
}

async function ringNames(): Promise<string[]> {
  return ((await h.api('GET', '/rings')).body as Array<{ Name: string }>).map((r) => r.Name).sort();
}

describe('chat-ops: slash command authentication', () => {
  it('accepts the registered token from "Authorization: Token …" or, failing a header, from the form field', async () => {
    const token = h.mm.commands(h.teamId)[0]!.token;
    const byHeader = await h.chatPost('command', commandForm({ token: '', text: 'status' }), { Authorization: `Token ${token}` });
    expect(byHeader.status).toBe(200);
    expect(byHeader.body.response_type).toBe('ephemeral');
    const lowerCase = await h.chatPost('command', commandForm({ token: '', text: 'status' }), { Authorization: `token ${token}` });
    expect(lowerCase.status).toBe(200);
    const byForm = await h.chatPost('command', commandForm({ text: 'status' }));
    expect(byForm.status).toBe(200);
    // The reply is JSON with exactly the content type Mattermost parses as JSON.
    expect(byForm.contentType).toBe('application/json');
  });

  it('refuses a wrong, missing or other-team token with 401, and nothing happens', async () => {
    const before = await ringNames();
    const eventsBefore = (await h.events()).length;
    const token = h.mm.commands(h.teamId)[0]!.token;
    const other = h.mm.addTeam({ name: `other-${Date.now()}` });
    const attempts: Array<{ form: string; headers?: Record<string, string> }> = [
      { form: commandForm({ token: 'wrong' }) },
      { form: commandForm({ token: `${token}x` }) },
      { form: commandForm({ token: token.slice(0, -1) }) },
      { form: commandForm({ token: '' }) },
      // A wrong header is not rescued by a right form field.
      { form: commandForm(), headers: { Authorization: 'Token wrong' } },
      // The right token for the wrong (unregistered) team.
      { form: commandForm({ team_id: other.id }) },
      { form: commandForm({ team_id: '' }) },
    ];
    for (const attempt of attempts) {
      const response = await h.chatPost('command', attempt.form, attempt.headers);
      expect(response.status).toBe(401);
      expect(response.body.error).toMatch(/token/);
    }
    // Through the fake: a command registered with another token (e.g. by hand, not by Elrond).
    const viaMattermost = await h.mm.runSlashCommand({ userId: h.users.alice, channelId: h.channelId, text: 'ring create --name sneaky --priority 9', token: 'abcdefghijklmnopqrstuvwxyz' });
    expect(viaMattermost.status).toBe(401);
    expect(viaMattermost.failed).toBe(true);
    expect(await ringNames()).toEqual(before);
    expect((await h.events()).length).toBe(eventsBefore);
  });
});

describe('chat-ops: the /elrond grammar', () => {
  it('runs the CLI grammar with quoted arguments (straight and curly quotes) and replies ephemerally', async () => {
    const postsBefore = h.mm.posts(h.channelId).length;
    const created = await h.slash('alice', 'ring create --name "canary ring" --priority 1 --soak-time 60');
    expect(created.failed).toBe(false);
    expect(created.status).toBe(200);
    expect(created.response?.response_type).toBe('ephemeral');
    expect(created.ephemeral).toMatch(/canary ring/);
    const curly = await h.slash('alice', 'ring create --name \u201Cblue ring\u201D --priority 2');
    expect(curly.ephemeral).toMatch(/blue ring/);
    const single = await h.slash('alice', "ring create --name 'it''s' --priority 3");
    expect(single.ephemeral).toMatch(/"Name": "its"/);
    // Ephemeral: nothing was posted in the channel.
    expect(h.mm.posts(h.channelId).length).toBe(postsBefore);
    expect(await ringNames()).toEqual(expect.arrayContaining(['blue ring', 'canary ring', 'its']));
    const events = await h.events();
    expect(events.find((e) => e.kind === 'ring.created' || /created/.test(e.message))).toBeDefined();
    const stored = (await h.api('GET', '/events?limit=5')).body as Array<{ actor: string; source: string }>;
    expect(stored.some((e) => e.actor === 'alice' && e.source === 'chat')).toBe(true);
  });

  it('answers "server" and "schema migrate" as CLI-only', async () => {
    for (const text of ['server', 'server --listen :1', 'schema migrate']) {
      const reply = await h.slash('alice', text);
      expect(reply.failed).toBe(false);
      expect(reply.ephemeral).toMatch(/CLI-only/);
    }
  });

  it('/elrond, /elrond help and --help on every command show help', async () => {
    for (const text of ['', 'help', '--help']) {
      const reply = await h.slash('carol', text);
      expect(reply.failed).toBe(false);
      expect(reply.ephemeral).toMatch(/Usage: \/elrond/);
      expect(reply.ephemeral).toMatch(/status/);
      expect(reply.ephemeral).toMatch(/history/);
    }
    const chatCommands = COMMANDS.filter((spec) => !spec.cliOnly);
    expect(chatCommands.length).toBeGreaterThan(10);
    for (const spec of chatCommands) {
      const path = spec.path.join(' ');
      for (const text of [`${path} --help`, `help ${path}`]) {
        const reply = await h.slash('carol', text);
        expect(reply.failed, text).toBe(false);
        expect(reply.ephemeral, text).toContain(`Usage: /elrond ${path}`);
        // Chat has no --server/--api-token.
        expect(reply.ephemeral, text).not.toMatch(/--api-token|--server/);
      }
    }
  });

  it('lists are Markdown tables: ring list, status, history [--ring] [--limit], events, webhook list', async () => {
    const rings = (await h.api('GET', '/rings')).body as Array<{ ID: string; Name: string }>;
    const canary = rings.find((r) => r.Name === 'canary ring')!;

    const list = await h.slash('carol', 'ring list');
    expect(list.ephemeral).toMatch(/^\| RING \| ID \|/);
    expect(list.ephemeral).toMatch(/\| canary ring \|/);

    const status = await h.slash('carol', 'status');
    expect(status.ephemeral).toMatch(/^\| RING \| PRIORITY \| STATE \|/);
    expect(tableRows(status.ephemeral)).toHaveLength(rings.length);

    const history = await h.slash('carol', 'history');
    expect(history.ephemeral).toMatch(/^\| AT \| .*\|\n\|---\|/);
    expect(tableRows(history.ephemeral).some((row) => /alice/.test(row) && /chat/.test(row))).toBe(true);

    const limited = await h.slash('carol', 'history --limit 2');
    expect(tableRows(limited.ephemeral)).toHaveLength(2);
    const forRing = await h.slash('carol', `history --ring ${canary.ID} --limit 50`);
    const rows = tableRows(forRing.ephemeral);
    expect(rows.length).toBeGreaterThan(0);
    // The ring column shows the ring's name or id, depending on what the event recorded.
    for (const row of rows) expect(row.includes(canary.ID) || row.includes('| canary ring |')).toBe(true);
    expect(rows.some((row) => row.includes('blue ring'))).toBe(false);

    const events = await h.slash('carol', 'events --limit 3');
    expect(events.ephemeral).toMatch(/^\| AT \| ACTOR \| KIND \|/);
    expect(tableRows(events.ephemeral)).toHaveLength(3);

    await h.slash('alice', 'webhook create --owner release-team --url https://hooks.example.com/elrond');
    const webhooks = await h.slash('carol', 'webhook list');
    expect(webhooks.ephemeral).toMatch(/^\| ID \| OWNER \| URL \|/);
    // Shown as text, not a link (the one chat rule puts a zero-width joiner before `://`).
    expect(webhooks.ephemeral).toMatch(/https\u200D:\/\/hooks\.example\.com\/elrond/);
  });

  it('a typo, an unknown flag or a bad value gets an ephemeral reply naming it and the usage, never a non-200', async () => {
    const cases: Array<[string, RegExp]> = [
      ['ring lsit', /unknown command 'lsit'/],
      ['stauts', /unknown command 'stauts'/],
      ['history --frob', /unknown option '--frob'/],
      ['history --limit abc', /'abc' is invalid/],
      ['history --limit 0', /--limit must be 1 or more/],
      ['ring update --ring x --approval-required maybe', /'maybe' is invalid.*must be true or false/s],
      ['ring release --force', /say which rings to release/],
      ['ring get', /required option '--ring <id>'/],
      ['ring release --ring x --env-variable NOCOLON', /NOCOLON/],
      ['ring create --name "unclosed', /unclosed " quote/],
    ];
    for (const [text, expected] of cases) {
      const reply = await h.slash('alice', text);
      expect(reply.status, text).toBe(200);
      expect(reply.failed, text).toBe(false);
      expect(reply.response?.response_type, text).toBe('ephemeral');
      expect(reply.ephemeral, text).toMatch(expected);
      if (!/unclosed/.test(text)) expect(reply.ephemeral, text).toMatch(/Usage: \/elrond/);
    }
  });

  it('errors from the service (unknown ring, not allowed) are ephemeral replies too', async () => {
    const missing = await h.slash('alice', 'ring get --ring doesnotexist');
    expect(missing.status).toBe(200);
    expect(missing.ephemeral).toMatch(/⚠️.*not found|⚠️.*no ring/i);

    const rings = (await h.api('GET', '/rings')).body as Array<{ ID: string; Name: string; State: string }>;
    const canary = rings.find((r) => r.Name === 'canary ring')!;
    const eventsBefore = (await h.events()).length;
    // carol is not an admin: she may look but not release.
    const refused = await h.slash('carol', `ring release --ring ${canary.ID} --image ${IMAGE} --version v9`);
    expect(refused.status).toBe(200);
    expect(refused.ephemeral).toMatch(/@carol may not release/);
    expect((await h.getRing(canary.ID)).State).toBe(canary.State);
    expect((await h.events()).length).toBe(eventsBefore);
    const deleteRefused = await h.slash('carol', `ring delete --ring ${canary.ID}`);
    expect(deleteRefused.ephemeral).toMatch(/may not change rings/);
    expect((await h.getRing(canary.ID)).DeleteAt).toBe(0);
  });

  it('a --dry-run release from chat shows the request and changes nothing', async () => {
    const eventsBefore = (await h.events()).length;
    const reply = await h.slash('alice', `ring release --all-rings --image ${IMAGE} --version v2 --reason "monthly release" --dry-run`);
    expect(reply.ephemeral).toMatch(/```json/);
    expect(reply.ephemeral).toMatch(/monthly release/);
    expect((await h.events()).length).toBe(eventsBefore);
    expect(h.cards()).toEqual([]);
  });

  it('--soak-time 0 is zero on ring create and installation-group register', async () => {
    const created = await h.slash('alice', 'ring create --name "zero soak" --priority 7 --soak-time 0');
    expect(created.ephemeral).toMatch(/"SoakTime": 0\b/);
    const ring = ((await h.api('GET', '/rings?per_page=-1')).body as Array<{ ID: string; Name: string; SoakTime: number }>).find((r) => r.Name === 'zero soak')!;
    expect(ring.SoakTime).toBe(0);
    const registered = await h.slash('alice', `ring installation-group register --ring ${ring.ID} --installation-group-name zero-soak-ig --provisioner-group-id pgzerosoak --soak-time 0`);
    expect(registered.ephemeral).toMatch(/zero-soak-ig/);
    expect((await h.getRing(ring.ID)).installationGroups).toEqual([expect.objectContaining({ name: 'zero-soak-ig', soakTime: 0 })]);
  });

  it('takes --dry-run before the command, as the Go CLI did ("ring --dry-run create"), and refuses it where it does not apply', async () => {
    const eventsBefore = (await h.events()).length;
    const dry = await h.slash('alice', 'ring --dry-run create --name "never created" --priority 8');
    expect(dry.ephemeral).toMatch(/```json[\s\S]*"name": "never created"/);
    const refused = await h.slash('alice', 'ring --dry-run delete --ring abc');
    expect(refused.status).toBe(200);
    expect(refused.ephemeral).toMatch(/option '--dry-run' does not apply to "ring delete"/);
    expect((await h.events()).length).toBe(eventsBefore);
    expect(((await h.api('GET', '/rings?per_page=-1')).body as Array<{ Name: string }>).map((r) => r.Name)).not.toContain('never created');
  });
});
