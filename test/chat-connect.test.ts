import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { defaultServerConfig, type ServerConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { ManualClock } from '../src/model/clock.js';
import { FakeMattermost } from './fakes/fake-mattermost.js';
import { tempDatabase } from './helpers/temp-database.js';
import { CommandTokens } from '../src/chat/command-tokens.js';
import { createMattermostApi, type MattermostApi } from '../src/chat/mattermost-client.js';
import { registerSlashCommands } from '../src/chat/register-slash-command.js';
import { COMMAND_REFRESH_INTERVAL_MS } from '../src/chat/command-tokens.js';

/** One Elrond server started by hand (own SQLite file, captured log lines) against a shared fake Mattermost. */
interface Started {
  server: RunningServer;
  lines: Array<{ level: number; msg: string }>;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));

async function startElrond(config: Partial<ServerConfig>): Promise<Started> {
  const dir = mkdtempSync(path.join(tmpdir(), 'elrond-chat-connect-'));
  const lines: Started['lines'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const server = await startServer(
    // No provisioner is needed: these tests never release. alice is the chat admin (without one, chat only reads).
    { ...defaultServerConfig(), admins: ['alice'], database: `sqlite://${path.join(dir, 'elrond.db')}`, listen: '127.0.0.1:0', poll: 0, provisionerServer: 'http://127.0.0.1:9', ...config },
    { clock, log, startLoops: false, random: () => 0.5, awaitRegistration: true },
  );
  let closed = false;
  const started: Started = {
    server,
    lines,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cleanups.push(() => started.close());
  return started;
}

async function startMattermost() {
  const mm = new FakeMattermost({ now: () => clock.now() });
  const url = await mm.start();
  cleanups.push(() => mm.stop());
  const team = mm.addTeam({ name: 'release' });
  const other = mm.addTeam({ name: 'other' });
  const channel = mm.addChannel({ teamId: team.id, name: 'releases' });
  const otherChannel = mm.addChannel({ teamId: other.id, name: 'town-square' });
  const bot = mm.addBot({ username: 'elrond-bot' });
  mm.addChannelMember(channel.id, bot.userId);
  mm.addChannelMember(otherChannel.id, bot.userId);
  // Team admins may register slash commands (a plain team member may not, as in MakeDefaultRoles).
  mm.addTeamMember(team.id, bot.userId, { admin: true });
  mm.addTeamMember(other.id, bot.userId, { admin: true });
  const alice = mm.addUser({ username: 'alice' }).id;
  mm.addChannelMember(channel.id, alice);
  mm.addChannelMember(otherChannel.id, alice);
  return { mm, url, team, other, channel, otherChannel, bot, alice };
}

/** A team admin of `release` with a REST token: the person who regenerates or deletes commands in the UI. */
function teamAdmin(mm: FakeMattermost, teamId: string): (method: string, path: string) => Promise<Response> {
  const admin = mm.addUser({ username: 'teamadmin' });
  mm.addTeamMember(teamId, admin.id, { admin: true });
  const token = mm.createToken(admin.id);
  return (method, path) => fetch(`${mm.url}/api/v4${path}`, { method, headers: { Authorization: `Bearer ${token}` } });
}

const listed = (mm: FakeMattermost) => mm.requests.filter((r) => r.method === 'GET' && r.path === '/api/v4/commands').length;

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const errors = (lines: Started['lines']) => lines.filter((l) => l.level >= 50);

async function restWorks(server: RunningServer): Promise<void> {
  const response = await fetch(`${server.url}/api/rings`);
  expect(response.status).toBe(200);
  const created = await fetch(`${server.url}/api/rings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'canary', priority: 1 }) });
  expect(created.status).toBe(202);
}

describe('chat-ops: connecting to Mattermost', () => {
  it('checks the token and registers /elrond in each team, pointing at <public-url>/mattermost/command', async () => {
    const { mm, url, team, other, bot } = await startMattermost();
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release', other.id], publicUrl: 'https://elrond.example.com/' });

    // The token was checked first (GET /users/me with the bot token), before any command call.
    const calls = mm.requests.map((r) => `${r.method} ${r.path}`);
    const me = calls.indexOf('GET /api/v4/users/me');
    expect(me).toBeGreaterThanOrEqual(0);
    expect(calls.findIndex((c) => c.includes('/commands'))).toBeGreaterThan(me);

    for (const teamId of [team.id, other.id]) {
      const commands = mm.commands(teamId);
      expect(commands).toHaveLength(1);
      const command = commands[0]!;
      expect(command).toMatchObject({
        trigger: 'elrond',
        method: 'P',
        url: 'https://elrond.example.com/mattermost/command',
        auto_complete: true,
        creator_id: bot.userId,
      });
      expect(command.auto_complete_desc).toMatch(/\S/);
      expect(command.auto_complete_hint).toMatch(/status/);
      expect(command.description).toMatch(/\S/);
      expect(command.display_name).toBe('Elrond');
    }
    // Each team has its own command token.
    expect(mm.commands(team.id)[0]!.token).not.toBe(mm.commands(other.id)[0]!.token);
    expect(errors(elrond.lines)).toEqual([]);
  });

  it('replicas starting together: the one whose add Mattermost refuses as a duplicate uses the command the other added', async () => {
    const { mm, url, team, bot } = await startMattermost();
    const temp = await tempDatabase('sqlite');
    cleanups.push(() => temp.cleanup());
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const tokens = new CommandTokens(temp.store.db, [], () => clock.now());
    const winner = createMattermostApi({ url, token: bot.token });
    const api = createMattermostApi({ url, token: bot.token });
    // The race, made deterministic: after this replica found no command, the other one adds it first.
    const raced: MattermostApi = {
      ...api,
      addCommand: async (teamId, command) => {
        await winner.addCommand(teamId, { ...command, url: 'http://other-replica/mattermost/command' });
        return api.addCommand(teamId, command);
      },
    };
    const result = await registerSlashCommands({ api: raced, teams: ['release'], publicUrl: 'http://this-replica', tokens, log });
    expect(result).toBeDefined();
    const commands = mm.commands(team.id);
    expect(commands).toHaveLength(1);
    expect(mm.requests.filter((r) => r.method === 'POST' && r.path === '/api/v4/commands').map((r) => r.status)).toEqual([201, 400]);
    expect(await tokens.verify(team.id, commands[0]!.token)).toBe(true);
    expect(errors(lines)).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain('another replica just registered /elrond in team');
  });

  it('restarting never duplicates /elrond: a second server updates the command the first one registered', async () => {
    const { mm, url, team, channel, bot, alice } = await startMattermost();
    const first = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release'] });
    const before = mm.commands(team.id);
    expect(before).toHaveLength(1);
    expect(before[0]!.url).toBe(`${first.server.url}/mattermost/command`);
    await first.close();

    const second = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release'] });
    expect(second.server.url).not.toBe(first.server.url);
    const after = mm.commands(team.id);
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(before[0]!.id);
    expect(after[0]!.token).toBe(before[0]!.token);
    expect(after[0]!.url).toBe(`${second.server.url}/mattermost/command`);
    expect(mm.requests.filter((r) => r.method === 'POST' && r.path === '/api/v4/commands')).toHaveLength(1);
    expect(mm.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/api/v4/commands/'))).toHaveLength(1);

    // And the restarted server answers the command (the token is the one kept by Mattermost).
    const reply = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'status' });
    expect(reply.failed).toBe(false);
    expect(reply.ephemeral).toMatch(/Nothing to show/);
    expect(errors(second.lines)).toEqual([]);
  });

  it('a regenerated /elrond token works at once: the mismatch re-reads the team\'s commands (at most every 30 s)', async () => {
    const { mm, url, team, channel, bot, alice } = await startMattermost();
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release'] });
    const asAdmin = teamAdmin(mm, team.id);
    const command = mm.commands(team.id)[0]!;
    clock.advance(COMMAND_REFRESH_INTERVAL_MS);
    expect((await asAdmin('PUT', `/commands/${command.id}/regen_token`)).status).toBe(200);
    expect(mm.commands(team.id)[0]!.token).not.toBe(command.token);

    const before = listed(mm);
    const reply = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'status' });
    expect(reply.failed).toBe(false);
    expect(reply.ephemeral).toMatch(/Nothing to show/);
    expect(listed(mm)).toBe(before + 1);
    // The old token is refused; wrong tokens do not make Elrond ask Mattermost more than once per 30 s.
    for (let i = 0; i < 5; i++) {
      const stale = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'status', token: command.token });
      expect(stale.status).toBe(401);
    }
    expect(listed(mm)).toBe(before + 1);
    clock.advance(COMMAND_REFRESH_INTERVAL_MS);
    await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'status', token: command.token });
    expect(listed(mm)).toBe(before + 2);
    expect(errors(elrond.lines)).toEqual([]);
  });

  it('a deleted /elrond: one re-added by hand is adopted on its first use; with none, the next unknown token registers it again', async () => {
    const { mm, url, team, channel, bot, alice } = await startMattermost();
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release'] });
    const asAdmin = teamAdmin(mm, team.id);
    const command = mm.commands(team.id)[0]!;
    expect((await asAdmin('DELETE', `/commands/${command.id}`)).status).toBe(200);
    expect(mm.commands(team.id)).toEqual([]);

    // An admin re-adds /elrond by hand, pointing at Elrond: it has a new token, which works on first use.
    mm.addCommand({ teamId: team.id, trigger: 'elrond', url: command.url, creatorId: mm.addUser({ username: 'someone' }).id });
    clock.advance(COMMAND_REFRESH_INTERVAL_MS);
    const byHand = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'status' });
    expect(byHand.failed).toBe(false);

    // Deleted again, and nothing re-added: a request with a token Elrond does not know (a replay, a probe) is
    // refused, and the command is registered again, pointing here, with a token that works.
    const handMade = mm.commands(team.id)[0]!;
    expect((await asAdmin('DELETE', `/commands/${handMade.id}`)).status).toBe(200);
    clock.advance(COMMAND_REFRESH_INTERVAL_MS);
    const unknown = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'status', url: command.url, token: 'unknowntokenunknowntoken00' });
    expect(unknown.status).toBe(401);
    const again = mm.commands(team.id);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ trigger: 'elrond', url: `${elrond.server.url}/mattermost/command`, creator_id: bot.userId });
    const reply = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'status' });
    expect(reply.failed).toBe(false);
    expect(elrond.lines.map((l) => l.msg)).toContain(`/elrond was missing in team ${team.id} (deleted?): registered it again`);
  });

  it('two deployments in one team do not steal each other\'s /elrond; --slash-command-trigger gives the second its own', async () => {
    const { mm, url, team, channel, alice } = await startMattermost();
    const production = mm.addBot({ username: 'elrond-prod' });
    const staging = mm.addBot({ username: 'elrond-staging' });
    for (const bot of [production, staging]) mm.addTeamMember(team.id, bot.userId, { admin: true });
    const prod = await startElrond({ mattermostUrl: url, mattermostToken: production.token, mattermostTeams: ['release'] });
    expect(mm.commands(team.id).map((c) => [c.trigger, c.url])).toEqual([['elrond', `${prod.server.url}/mattermost/command`]]);

    // The staging deployment, started with the default trigger, finds /elrond pointing elsewhere and leaves it alone.
    const clash = await startElrond({ mattermostUrl: url, mattermostToken: staging.token, mattermostTeams: ['release'] });
    const refusal = errors(clash.lines);
    expect(refusal).toHaveLength(1);
    expect(refusal[0]!.msg).toMatch(/\/elrond in team "release" belongs to someone else \(it points at http:\/\/127\.0\.0\.1:\d+\/mattermost\/command, not at this deployment's .*--slash-command-trigger \(e\.g\. elrond-staging\)/);
    expect(mm.commands(team.id).map((c) => [c.trigger, c.url])).toEqual([['elrond', `${prod.server.url}/mattermost/command`]]);
    expect(mm.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/api/v4/commands/'))).toHaveLength(0);
    const toProd = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'ring create --name canary --priority 1' });
    expect(toProd.failed).toBe(false);

    // With its own trigger both work, each reaching its own server.
    const second = await startElrond({ mattermostUrl: url, mattermostToken: staging.token, mattermostTeams: ['release'], slashCommandTrigger: 'elrond-staging' });
    expect(errors(second.lines)).toEqual([]);
    expect(mm.commands(team.id).map((c) => c.trigger).sort()).toEqual(['elrond', 'elrond-staging']);
    const toStaging = await mm.runSlashCommand({ userId: alice, channelId: channel.id, trigger: 'elrond-staging', text: 'ring list' });
    expect(toStaging.failed).toBe(false);
    expect(toStaging.ephemeral).not.toMatch(/canary/);
    expect((await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'ring list' })).ephemeral).toMatch(/canary/);
  });

  it('a bot that may manage only its own commands cannot see another /elrond: the log says so and how to fix it', async () => {
    const { mm, url, team, channel, bot, alice } = await startMattermost();
    // Someone registered /elrond by hand (for another server); the bot is a plain member whose role may manage its own commands.
    const admin = mm.addUser({ username: 'teamadmin' });
    mm.addTeamMember(team.id, admin.id, { admin: true });
    mm.addCommand({ teamId: team.id, trigger: 'elrond', url: 'https://elsewhere.example.com/hook', creatorId: admin.id });
    mm.addTeamMember(team.id, bot.userId, { admin: false });
    mm.grantRolePermissions('team_user', ['manage_own_slash_commands']);
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release'] });
    const lines = errors(elrond.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/already has a \/elrond command the bot cannot see: without manage_others_slash_commands \(team admins have it\).*Make the bot a team admin.*--slash-command-trigger/);
    expect(mm.commands(team.id).map((c) => c.url)).toEqual(['https://elsewhere.example.com/hook']);
    void channel;
    void alice;
  });

  it('a bot that may not manage slash commands at all: one log line naming the role it needs', async () => {
    const { mm, url, team, bot } = await startMattermost();
    mm.addTeamMember(team.id, bot.userId, { admin: false });
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release'] });
    const lines = errors(elrond.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/the bot may not manage slash commands in team "release" \(403 .*\): make it a team admin there.*--slash-command-token/);
  });

  it('refuses to start with a --slash-command-trigger Mattermost would refuse', async () => {
    await expect(startElrond({ slashCommandTrigger: 'two words' })).rejects.toThrow(/--slash-command-trigger "two words" is not a valid trigger/);
  });

  it('a wrong bot token is one clear log line; chat-ops are off and the REST API keeps working', async () => {
    const { mm, url, team } = await startMattermost();
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: 'wrongtokenwrongtokenwrongt', mattermostTeams: ['release'] });
    const lines = errors(elrond.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/bot token/);
    expect(lines[0]!.msg).toMatch(/401/);
    expect(lines[0]!.msg).toMatch(/--mattermost-token/);
    expect(mm.commands(team.id)).toEqual([]);
    await restWorks(elrond.server);
  });

  it('an unreachable Mattermost is one clear log line and the REST API keeps working', async () => {
    const elrond = await startElrond({ mattermostUrl: `http://127.0.0.1:${await closedPort()}`, mattermostToken: 'sometoken', mattermostTeams: ['release'] });
    const lines = errors(elrond.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/ECONNREFUSED/);
    expect(lines[0]!.msg).toMatch(/--mattermost-url/);
    expect(lines[0]!.msg).not.toMatch(/sometoken/);
    await restWorks(elrond.server);
  });

  it('Mattermost answering 5xx at start is one clear log line, not a crash', async () => {
    const { mm, url, bot } = await startMattermost();
    mm.down();
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['release'] });
    const lines = errors(elrond.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/503/);
    await restWorks(elrond.server);
  });

  it('an unknown team is one log line naming it; the other teams are still registered', async () => {
    const { mm, url, team, bot } = await startMattermost();
    const elrond = await startElrond({ mattermostUrl: url, mattermostToken: bot.token, mattermostTeams: ['no-such-team', 'release'] });
    const lines = errors(elrond.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/no-such-team/);
    expect(mm.commands(team.id)).toHaveLength(1);
  });

  it('--slash-command-token accepts a command registered by hand (no bot token needed)', async () => {
    const { mm, team, channel, alice } = await startMattermost();
    const handToken = 'handmadetoken0000000000000';
    const elrond = await startElrond({ slashCommandTokens: [handToken] });
    const url = `${elrond.server.url}/mattermost/command`;
    mm.addCommand({ teamId: team.id, trigger: 'elrond', url });

    const ok = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'ring create --name canary --priority 1', token: handToken });
    expect(ok.failed).toBe(false);
    expect(ok.ephemeral).toMatch(/canary/);
    const rings = (await (await fetch(`${elrond.server.url}/api/rings`)).json()) as Array<{ Name: string }>;
    expect(rings.map((r) => r.Name)).toEqual(['canary']);
    // Recorded as alice, from chat (no bot token: the name comes from Mattermost's request).
    const events = (await (await fetch(`${elrond.server.url}/api/events`)).json()) as Array<{ actor: string; source: string }>;
    expect(events[0]).toMatchObject({ actor: 'alice', source: 'chat' });

    // The token Mattermost generated for the hand-registered command is not the configured one: refused.
    const refused = await mm.runSlashCommand({ userId: alice, channelId: channel.id, text: 'ring create --name other --priority 2' });
    expect(refused.status).toBe(401);
    expect(refused.failed).toBe(true);
    const after = (await (await fetch(`${elrond.server.url}/api/rings`)).json()) as Array<{ Name: string }>;
    expect(after.map((r) => r.Name)).toEqual(['canary']);
  });
});
