import { describe, expect, it } from 'vitest';
import { COMMANDS, GROUPS } from '../src/commands/index.js';
import { parseCommandLine, tokenize, type ParseResult } from '../src/commands/build-program.js';
import type { ElrondApi, ReleaseJson, RingJson } from '../src/commands/elrond-api.js';
import { RING_TABLE_HEADERS } from '../src/commands/format-ring-table.js';
import { formatTable } from '../src/commands/format-table.js';
import { renderOutput } from '../src/commands/render-output.js';
import { releaseMode } from '../src/commands/ring.js';
import { serverConfigFromInput } from '../src/commands/server.js';
import type { CommandInput, CommandOutput, CommandSpec } from '../src/commands/spec.js';
import { defaultServerConfig, envVarName, SERVER_SETTINGS, type ServerConfig } from '../src/config.js';
import { FakeGrafana } from './fakes/fake-grafana.js';
import { IMAGE, startHarness } from './helpers/harness.js';

/** Every command and flag of the original CLI (elrond-behaviour.md §3.1), plus Elrond's additions. */
const EXPECTED: Record<string, string[]> = {
  server: SERVER_SETTINGS.map((s) => s.flag),
  'schema migrate': ['database'],
  'ring create': ['name', 'priority', 'installation-group-name', 'installation-group-soak-time', 'installation-group-provisioner-group-id', 'soak-time', 'image', 'version', 'dry-run', 'server', 'api-token'],
  'ring update': ['ring', 'name', 'priority', 'soak-time', 'image', 'version', 'dry-run', 'server', 'api-token'],
  'ring release': ['ring', 'image', 'version', 'force', 'all-rings', 'pause', 'resume', 'cancel', 'rollback', 'reason', 'env-variable', 'dry-run', 'server', 'api-token'],
  'ring get-release': ['release', 'server', 'api-token'],
  'ring get': ['ring', 'server', 'api-token'],
  'ring list': ['page', 'per-page', 'include-deleted', 'table', 'server', 'api-token'],
  'ring delete': ['ring', 'server', 'api-token'],
  'ring installation-group register': ['ring', 'installation-group-name', 'provisioner-group-id', 'soak-time', 'dry-run', 'server', 'api-token'],
  'ring installation-group update': ['installation-group', 'name', 'provisioner-group-id', 'soak-time', 'dry-run', 'server', 'api-token'],
  'ring installation-group delete': ['installation-group', 'ring', 'server', 'api-token'],
  'webhook create': ['owner', 'url', 'secret', 'server', 'api-token'],
  'webhook get': ['webhook', 'server', 'api-token'],
  'webhook list': ['owner', 'page', 'per-page', 'include-deleted', 'table', 'server', 'api-token'],
  'webhook delete': ['webhook', 'server', 'api-token'],
  'security ring api-lock': ['ring', 'server', 'api-token'],
  'security ring api-unlock': ['ring', 'server', 'api-token'],
  events: ['ring', 'limit', 'table', 'server', 'api-token'],
  status: ['server', 'api-token'],
  history: ['ring', 'since', 'limit', 'output', 'server', 'api-token'],
  'freeze create': ['start', 'end', 'cron', 'duration', 'timezone', 'ring', 'reason', 'server', 'api-token'],
  'freeze now': ['reason', 'until', 'ring', 'server', 'api-token'],
  'freeze list': ['server', 'api-token'],
  'freeze delete': ['freeze', 'server', 'api-token'],
  'ring why': ['ring', 'server', 'api-token'],
  why: ['ring', 'server', 'api-token'],
  'ring approve': ['ring', 'server', 'api-token'],
  demo: ['listen', 'simulator'],
  // Elrond's: "release" is short for "ring release"; channels that follow releases.
  release: ['ring', 'image', 'version', 'force', 'all-rings', 'pause', 'resume', 'cancel', 'rollback', 'reason', 'env-variable', 'dry-run', 'server', 'api-token'],
  subscribe: ['ring', 'channel', 'server', 'api-token'],
  unsubscribe: ['channel', 'server', 'api-token'],
  subscriptions: ['server', 'api-token'],
  // Named API tokens with roles, on the database like schema migrate (issue 13).
  'token create': ['name', 'role', 'database'],
  'token list': ['database'],
  'token revoke': ['name', 'database'],
};

const DEFAULTS: Array<[string, string, unknown]> = [
  ['ring create', 'priority', 1],
  ['ring create', 'soak-time', 7200],
  ['ring create', 'installation-group-soak-time', 0],
  ['ring update', 'priority', 0],
  ['ring list', 'page', 0],
  ['ring list', 'per-page', 100],
  ['webhook list', 'per-page', 100],
  ['ring installation-group register', 'soak-time', 0],
  ['ring get', 'server', 'http://localhost:3018'],
  // No default listen any more: :3018 when an API token exists, 127.0.0.1:3018 when none does (server.ts chooseListen).
  ['server', 'database', 'sqlite://elrond.db'],
  ['server', 'poll', 30],
  ['server', 'provisioner-group-release-timeout', 3600],
  ['server', 'ring-supervisor', true],
  ['server', 'installationgroup-supervisor', true],
];

const spec = (path: string): CommandSpec => {
  const found = COMMANDS.find((c) => c.path.join(' ') === path);
  if (!found) throw new Error(`no command ${path}`);
  return found;
};

function parsed(result: ParseResult): { spec: CommandSpec; input: CommandInput } {
  if (!('spec' in result)) throw new Error(`expected a command, got ${JSON.stringify(result)}`);
  return result;
}

const NO_ENV = {};

/** An ElrondApi that records calls and answers from `answers` (undefined otherwise). */
function recordingApi(answers: Partial<Record<keyof ElrondApi, (...args: any[]) => unknown>> = {}) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const api = new Proxy({} as ElrondApi, {
    get: (_target, method: string) => async (...args: unknown[]) => {
      calls.push({ method, args });
      return answers[method as keyof ElrondApi]?.(...args);
    },
  });
  return { api, calls };
}

async function run(argv: string[], answers: Parameters<typeof recordingApi>[0] = {}): Promise<{ output: CommandOutput; calls: Array<{ method: string; args: unknown[] }> }> {
  const { spec: command, input } = parsed(parseCommandLine(argv, 'cli', NO_ENV));
  const { api, calls } = recordingApi(answers);
  return { output: await command.run({ api, now: () => 0 }, input), calls };
}

describe('the command grammar as data', () => {
  it('has no duplicate command paths', () => {
    const paths = COMMANDS.map((c) => c.path.join(' '));
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('has every command and flag of the original CLI', () => {
    for (const [path, flags] of Object.entries(EXPECTED)) {
      const names = spec(path).options.map((o) => o.name);
      expect(names, path).toEqual(expect.arrayContaining(flags));
      expect(new Set(names).size, `${path} has a duplicate flag`).toBe(names.length);
    }
    expect(COMMANDS.map((c) => c.path.join(' ')).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('keeps the original defaults', () => {
    for (const [path, flag, value] of DEFAULTS) {
      const required = spec(path).options.filter((o) => o.required).flatMap((o) => [`--${o.name}`, 'x']);
      const input = parsed(parseCommandLine([...path.split(' '), ...required], 'cli', NO_ENV)).input;
      expect(input[flag], `${path} --${flag}`).toEqual(value);
    }
  });

  it('builds the default server config from no flags, and each setting from its ELROND_* variable', () => {
    expect(serverConfigFromInput(parsed(parseCommandLine(['server'], 'cli', NO_ENV)).input)).toEqual(defaultServerConfig());
    const env = { [envVarName('poll')]: '5', [envVarName('ring-supervisor')]: 'false', [envVarName('grafana-token')]: 'a,b', [envVarName('listen')]: ':4000' };
    const config = serverConfigFromInput(parsed(parseCommandLine(['server', '--listen', ':5000'], 'cli', env)).input);
    expect(config).toMatchObject({ poll: 5, ringSupervisor: false, grafanaTokens: ['a', 'b'], listen: ':5000' });
    expect(serverConfigFromInput(parsed(parseCommandLine(['server', '--no-installationgroup-supervisor', '--grafana-token', 'x', '--grafana-token', 'y'], 'cli', NO_ENV)).input)).toMatchObject({
      installationgroupSupervisor: false,
      grafanaTokens: ['x', 'y'],
    });
  });

  it('marks server, demo, schema migrate and the token commands CLI-only', () => {
    expect(COMMANDS.filter((c) => c.cliOnly).map((c) => c.path.join(' ')).sort()).toEqual(['demo', 'schema migrate', 'server', 'token create', 'token list', 'token revoke']);
  });
});

describe('tokenize', () => {
  it('splits like a shell', () => {
    expect(tokenize('  ring   list --table ')).toEqual(['ring', 'list', '--table']);
    expect(tokenize(`ring release --reason "error rate up" --env-variable 'A:b c'`)).toEqual(['ring', 'release', '--reason', 'error rate up', '--env-variable', 'A:b c']);
    expect(tokenize(`a\\ b "say \\"hi\\"" 'it''s' ""`)).toEqual(['a b', 'say "hi"', 'its', '']);
    expect(tokenize(`'no \\escapes' "keeps \\n"`)).toEqual(['no \\escapes', 'keeps \\n']);
    expect(tokenize('--reason \u201Csmart quotes\u201D')).toEqual(['--reason', 'smart quotes']);
    expect(tokenize('')).toEqual([]);
  });

  it('rejects an unclosed quote', () => {
    expect(() => tokenize('ring release --reason "oops')).toThrow(/unclosed " quote/);
    expect(() => tokenize("ring release --reason 'oops")).toThrow(/unclosed ' quote/);
  });
});

describe('parseCommandLine', () => {
  it('parses a release with env variables split on the first colon', async () => {
    const { input } = parsed(parseCommandLine(['ring', 'release', '--ring', 'r1', '--image', 'img', '--version', '1.0', '--env-variable', 'A:b:c', '--env-variable', 'GONE:'], 'cli', NO_ENV));
    expect(input['env-variable']).toEqual(['A:b:c', 'GONE:']);
    const { calls } = await run(['ring', 'release', '--ring', 'r1', '--image', 'img', '--version', '1.0', '--env-variable', 'A:b:c', '--env-variable', 'GONE:']);
    expect(calls).toEqual([{ method: 'releaseRing', args: ['r1', { Image: 'img', Version: '1.0', Force: false, EnvVariables: { A: { value: 'b:c' }, GONE: { value: '' } } }] }]);
  });

  it('rejects a malformed env variable, naming it', () => {
    const result = parseCommandLine(['ring', 'release', '--ring', 'r', '--env-variable', 'NOCOLON'], 'cli', NO_ENV);
    expect('error' in result && result.error).toMatch(/--env-variable.*NOCOLON.*NAME:VALUE/s);
  });

  it('names an unknown flag and shows the usage', () => {
    const result = parseCommandLine(['ring', 'release', '--bogus'], 'cli', NO_ENV);
    expect('error' in result && result.error).toMatch(/unknown option '--bogus'[\s\S]*Usage: elrond ring release \[options\]/);
  });

  it('names a bad int and its value', () => {
    const result = parseCommandLine(['ring', 'create', '--priority', 'high'], 'cli', NO_ENV);
    expect('error' in result && result.error).toMatch(/--priority.*'high'.*whole number/);
  });

  it('requires required flags', () => {
    const result = parseCommandLine(['ring', 'get'], 'cli', NO_ENV);
    expect('error' in result && result.error).toMatch(/required option '--ring <id>'/);
  });

  it('errors clearly when a release names no ring', () => {
    const result = parseCommandLine(['ring', 'release', '--image', 'i', '--version', 'v'], 'cli', NO_ENV);
    expect('error' in result && result.error).toMatch(/--ring <id>.*--all-rings/);
    const rollback = parseCommandLine(['ring', 'release', '--rollback'], 'cli', NO_ENV);
    expect('error' in rollback && rollback.error).toMatch(/--rollback --ring/);
  });

  it('accepts cobra-style --flag=true/false for booleans', () => {
    const { input } = parsed(parseCommandLine(['ring', 'list', '--include-deleted=true', '--table=false'], 'cli', NO_ENV));
    expect(input).toMatchObject({ 'include-deleted': true, table: false });
  });

  it('reads --server and --api-token from the environment, flags first', () => {
    const env = { ELROND_SERVER: 'http://elrond:1', ELROND_API_TOKEN: 'tok' };
    expect(parsed(parseCommandLine(['ring', 'list'], 'cli', env)).input).toMatchObject({ server: 'http://elrond:1', 'api-token': 'tok' });
    expect(parsed(parseCommandLine(['ring', 'list', '--server', 'http://x:2'], 'cli', env)).input).toMatchObject({ server: 'http://x:2' });
  });

  it('returns help for --help, a bare group and no command at all', () => {
    for (const argv of [['--help'], [], ['ring'], ['ring', 'installation-group'], ['help', 'ring']]) {
      const result = parseCommandLine(argv, 'cli', NO_ENV);
      expect('help' in result && result.help, argv.join(' ')).toMatch(/Usage: elrond/);
    }
  });

  it('in chat mode, refuses CLI-only commands and has no --server', () => {
    const server = parseCommandLine(['server'], 'chat');
    expect('error' in server && server.error).toMatch(/"server" is CLI-only/);
    const migrate = parseCommandLine(['schema', 'migrate', '--database', 'x'], 'chat');
    expect('error' in migrate && migrate.error).toMatch(/CLI-only/);
    const remote = parseCommandLine(['ring', 'list', '--server', 'http://x'], 'chat');
    expect('error' in remote && remote.error).toMatch(/unknown option '--server'[\s\S]*Usage: \/elrond ring list/);
    const ok = parsed(parseCommandLine(tokenize('ring release --ring r --reason "bad canary" --rollback'), 'chat'));
    expect(ok.input).toMatchObject({ ring: 'r', reason: 'bad canary', rollback: true });
    expect(ok.input).not.toHaveProperty('server');
    const help = parseCommandLine(['--help'], 'chat');
    expect('help' in help && help.help).not.toMatch(/server \[options\]/);
  });

  it('ignores ELROND_* variables in chat mode', () => {
    const { input } = parsed(parseCommandLine(['events'], 'chat', { ELROND_SERVER: 'http://elsewhere' }));
    expect(input).not.toHaveProperty('server');
  });
});

describe('flags given before the command (the Go CLI\'s cobra persistent flags)', () => {
  const input = (argv: string[], mode: 'cli' | 'chat' = 'cli') => parsed(parseCommandLine(argv, mode, NO_ENV));
  const error = (argv: string[], mode: 'cli' | 'chat' = 'cli') => {
    const result = parseCommandLine(argv, mode, NO_ENV);
    return 'error' in result ? result.error : `no error: ${JSON.stringify(result)}`;
  };

  it('ring --server and --dry-run, webhook/security --server, security ring --ring and schema --database count as the command\'s', () => {
    expect(input(['ring', '--server', 'http://x:1', 'list'])).toMatchObject({ spec: { path: ['ring', 'list'] }, input: { server: 'http://x:1' } });
    expect(input(['ring', '--server=http://x:1', '--api-token', 't', '--dry-run', 'create', '--name', 'n']).input).toMatchObject({ server: 'http://x:1', 'api-token': 't', 'dry-run': true, name: 'n' });
    expect(input(['ring', '--dry-run=true', 'installation-group', '--server', 'http://x:2', 'register', '--ring', 'r', '--installation-group-name', 'g', '--provisioner-group-id', 'p']).input).toMatchObject({ 'dry-run': true, server: 'http://x:2' });
    expect(input(['ring', '--dry-run=false', 'update', '--ring', 'r']).input).toMatchObject({ 'dry-run': false });
    expect(input(['webhook', '--server', 'http://x:3', 'list']).input).toMatchObject({ server: 'http://x:3' });
    expect(input(['security', 'ring', '--ring', 'abc', 'api-lock'])).toMatchObject({ spec: { path: ['security', 'ring', 'api-lock'] }, input: { ring: 'abc' } });
    expect(input(['security', '--server', 'http://x:4', 'ring', '--ring', 'abc', 'api-unlock']).input).toMatchObject({ ring: 'abc', server: 'http://x:4' });
    expect(input(['schema', '--database', 'sqlite://x.db', 'migrate']).input).toEqual({ database: 'sqlite://x.db' });
    expect(input(['freeze', '--server', 'http://x:5', 'list']).input).toMatchObject({ server: 'http://x:5' });
  });

  it('the same flag after the command wins, as in cobra; environment variables still fill the rest', () => {
    expect(input(['ring', '--server', 'http://before:1', 'list', '--server', 'http://after:2']).input).toMatchObject({ server: 'http://after:2' });
    expect(parsed(parseCommandLine(['ring', 'list'], 'cli', { ELROND_SERVER: 'http://env:1' })).input).toMatchObject({ server: 'http://env:1' });
    expect(parsed(parseCommandLine(['ring', '--server', 'http://flag:1', 'list'], 'cli', { ELROND_SERVER: 'http://env:1' })).input).toMatchObject({ server: 'http://flag:1' });
  });

  it('refuses a group flag the command does not take (the Go CLI ignored it: "ring --dry-run delete" deleted), and keeps required flags required', () => {
    expect(error(['ring', '--dry-run', 'delete', '--ring', 'r'])).toMatch(/^error: option '--dry-run' does not apply to "ring delete"\nUsage: elrond ring delete \[options\]/);
    expect(error(['ring', '--dry-run', 'list'])).toMatch(/option '--dry-run' does not apply to "ring list"/);
    expect(error(['security', 'ring', 'api-lock'])).toMatch(/required option '--ring <id>' not specified/);
    expect(error(['ring', '--server'])).toMatch(/option '--server <url>' argument missing/);
    expect(error(['ring', '--bogus', 'list'])).toMatch(/unknown option '--bogus'/);
    // Group flags stop at the command: after it, only the command's own flags count.
    expect(error(['ring', 'list', '--dry-run'])).toMatch(/unknown option '--dry-run'[\s\S]*Usage: elrond ring list/);
  });

  it('in chat, --dry-run works before the command and --server does not exist', () => {
    expect(input(['ring', '--dry-run', 'create', '--name', 'n'], 'chat').input).toMatchObject({ 'dry-run': true, name: 'n' });
    expect(error(['ring', '--server', 'http://x', 'list'], 'chat')).toMatch(/unknown option '--server'/);
  });

  it('group help lists the flags and says they apply to the command that follows', () => {
    const help = parseCommandLine(['ring', '--help'], 'cli', NO_ENV);
    expect('help' in help && help.help).toMatch(/Usage: elrond ring \[options\] \[command\][\s\S]*--server <url>[\s\S]*--dry-run[\s\S]*apply to the command that follows[^\n]*: elrond ring --server <url> <command>/);
    const security = parseCommandLine(['security', 'ring', '--help'], 'cli', NO_ENV);
    expect('help' in security && security.help).toContain('elrond security ring --ring <id> <command>');
    const chat = parseCommandLine(['ring', '--help'], 'chat', NO_ENV);
    expect('help' in chat && chat.help).not.toContain('--server');
    expect('help' in chat && chat.help).toContain('/elrond ring --dry-run <command>');
  });

  it('every group flag is a flag of at least one command under the group, of the same kind; every group has a summary', () => {
    const groupPaths = new Set(COMMANDS.flatMap((c) => c.path.slice(0, -1).map((_, i) => c.path.slice(0, i + 1).join(' '))));
    expect(GROUPS.map((g) => g.path.join(' ')).sort()).toEqual([...groupPaths].sort());
    for (const group of GROUPS) {
      expect(group.summary, group.path.join(' ')).not.toBe('');
      const under = COMMANDS.filter((c) => c.path.length > group.path.length && group.path.every((w, i) => c.path[i] === w));
      for (const option of group.persistent ?? []) {
        const same = under.flatMap((c) => c.options.filter((o) => o.name === option.name));
        expect(same.length, `${group.path.join(' ')} --${option.name}`).toBeGreaterThan(0);
        for (const o of same) expect(o.kind, `${group.path.join(' ')} --${option.name}`).toBe(option.kind);
      }
    }
  });
});

describe('--grafana-token a,b (cobra StringSlice)', () => {
  it('splits on commas for --grafana-token only; --env-variable keeps its commas', () => {
    const server = parsed(parseCommandLine(['server', '--grafana-token', 'glsa_a,glsa_b', '--grafana-token', 'glsa_c', '--admins', 'x,y'], 'cli', NO_ENV)).input;
    expect(serverConfigFromInput(server)).toMatchObject({ grafanaTokens: ['glsa_a', 'glsa_b', 'glsa_c'], admins: ['x,y'] });
    expect(parsed(parseCommandLine(['ring', 'release', '--ring', 'r', '--env-variable', 'MM_LIST:a,b'], 'cli', NO_ENV)).input['env-variable']).toEqual(['MM_LIST:a,b']);
    const help = parseCommandLine(['server', '--help'], 'cli', NO_ENV);
    expect('help' in help && help.help).toMatch(/--grafana-token <value>[^\n]*\n?[^\n]*repeatable or comma-separated/);
  });

  it('a server started with --grafana-token org1,org2 annotates both orgs', async () => {
    const grafana = new FakeGrafana();
    grafana.addToken('glsa_one', 1);
    grafana.addToken('glsa_two', 2);
    const grafanaUrl = await grafana.start();
    const flags = serverConfigFromInput(parsed(parseCommandLine(['server', '--grafana-url', grafanaUrl, '--grafana-token', 'glsa_one,glsa_two'], 'cli', NO_ENV)).input);
    const config: Partial<ServerConfig> = { grafanaUrl: flags.grafanaUrl, grafanaTokens: flags.grafanaTokens };
    const h = await startHarness({ config });
    try {
      const ring = await h.ring('canary', 1, { soak: 0 });
      await h.settle();
      await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
      await h.settle();
      expect((await h.getRing(ring.id)).State).toBe('stable');
      expect(grafana.annotations(1).length).toBeGreaterThan(0);
      expect(grafana.annotations(2).length).toBe(grafana.annotations(1).length);
      expect(grafana.requests.every((r) => r.status === 200)).toBe(true);
    } finally {
      await h.close();
      await grafana.stop();
    }
  });
});

describe('ring release modes', () => {
  const mode = (argv: string) => releaseMode(parsed(parseCommandLine(['ring', 'release', ...argv.split(' ')], 'cli', NO_ENV)).input);

  it('keeps the original precedence: dry-run, pause, resume, cancel, rollback, all-rings, ring', () => {
    expect(mode('--ring r --all-rings --pause --resume --cancel --dry-run')).toBe('dry-run');
    expect(mode('--ring r --all-rings --pause --resume --cancel')).toBe('pause');
    expect(mode('--ring r --all-rings --resume --cancel')).toBe('resume');
    expect(mode('--ring r --all-rings --cancel')).toBe('cancel');
    expect(mode('--ring r --all-rings --rollback')).toBe('rollback-all');
    expect(mode('--ring r --rollback')).toBe('rollback');
    expect(mode('--ring r --all-rings')).toBe('all-rings');
    expect(mode('--ring r')).toBe('ring');
  });

  it('calls the matching API', async () => {
    const cases: Array<[string, string, unknown[]]> = [
      ['--pause', 'pauseReleases', []],
      ['--resume', 'resumeReleases', []],
      ['--cancel', 'cancelReleases', []],
      ['--rollback --ring r --reason why', 'rollbackRing', ['r', { reason: 'why' }]],
      ['--rollback --all-rings', 'rollbackAllRings', [{}]],
      ['--all-rings --image i --version v --force --reason monthly', 'releaseAllRings', [{ Image: 'i', Version: 'v', Force: true, EnvVariables: {}, reason: 'monthly' }]],
    ];
    for (const [argv, method, args] of cases) {
      const { calls } = await run(['ring', 'release', ...argv.split(' ')]);
      expect(calls, argv).toEqual([{ method, args }]);
    }
  });

  it('--dry-run prints the request and calls nothing', async () => {
    const { output, calls } = await run(['ring', 'release', '--ring', 'r', '--image', 'i', '--version', 'v', '--env-variable', 'K:V', '--dry-run']);
    expect(calls).toEqual([]);
    expect(output).toEqual({ kind: 'json', value: { Image: 'i', Version: 'v', Force: false, EnvVariables: { K: { value: 'V' } } } });
    for (const argv of [
      ['ring', 'create', '--name', 'n', '--dry-run'],
      ['ring', 'update', '--ring', 'r', '--priority', '3', '--dry-run'],
      ['ring', 'installation-group', 'register', '--ring', 'r', '--installation-group-name', 'g', '--provisioner-group-id', 'p', '--dry-run'],
      ['ring', 'installation-group', 'update', '--installation-group', 'g', '--soak-time', '60', '--dry-run'],
    ]) {
      const dry = await run(argv);
      expect(dry.calls, argv.join(' ')).toEqual([]);
      expect(dry.output.kind).toBe('json');
    }
  });

  it('ring create sends the original request shape (omitempty)', async () => {
    const { calls } = await run(['ring', 'create', '--name', 'canary', '--installation-group-name', 'ig', '--installation-group-provisioner-group-id', 'pg1']);
    expect(calls[0]?.args[0]).toEqual({ name: 'canary', priority: 1, soakTime: 7200, installationGroup: { name: 'ig', provisionerGroupID: 'pg1' } });
  });

  it('--soak-time 0 is sent as 0 (the Go CLI left it out, so the server made it 7200); on register too', async () => {
    const create = await run(['ring', 'create', '--name', 'canary', '--soak-time', '0']);
    expect(create.calls).toEqual([{ method: 'createRing', args: [{ name: 'canary', priority: 1, soakTime: 0, installationGroup: {} }] }]);
    const register = await run(['ring', 'installation-group', 'register', '--ring', 'r', '--installation-group-name', 'g', '--provisioner-group-id', 'p', '--soak-time', '0']);
    expect(register.calls).toEqual([{ method: 'registerGroup', args: ['r', { name: 'g', soakTime: 0, provisionerGroupID: 'p' }] }]);
  });
});

describe('help generated from the data', () => {
  const help = (argv: string[], mode: 'cli' | 'chat' = 'cli') => {
    const result = parseCommandLine([...argv, '--help'], mode, NO_ENV);
    if (!('help' in result)) throw new Error(JSON.stringify(result));
    return result.help;
  };

  it('ring release --help shows its options, defaults and examples', () => {
    const text = help(['ring', 'release']);
    expect(text).toContain('Usage: elrond ring release [options]');
    for (const flag of ['--ring <id>', '--image <image>', '--version <version>', '--force', '--all-rings', '--pause', '--resume', '--cancel', '--rollback', '--reason <text>', '--env-variable <NAME:VALUE>', '--dry-run', '--server <url>', '--api-token <token>']) {
      expect(text).toContain(flag);
    }
    expect(text).toContain('(default: "http://localhost:3018")');
    expect(text).toContain('Examples:\n  elrond ring release --ring <ring-id> --image mattermost/mattermost-enterprise-edition --version 10.5.1');
    expect(help(['ring', 'release'], 'chat')).toContain('  /elrond ring release --pause');
  });

  it('every command documents its summary, flags, defaults and examples', () => {
    for (const command of COMMANDS) {
      const text = help(command.path);
      expect(text, command.path.join(' ')).toContain(command.summary.slice(0, 30));
      for (const option of command.options) expect(text).toContain(`--${option.name}`);
      for (const option of command.options.filter((o) => typeof o.default === 'number' && o.default !== 0)) expect(text).toContain(`(default: ${String(option.default)})`);
      expect(command.examples.length, command.path.join(' ')).toBeGreaterThan(0);
      for (const example of command.examples) expect(text).toContain(`elrond ${example}`);
    }
  });

  it('schema migrate --help says the server migrates on start too (it does), not that it never does', () => {
    const text = help(['schema', 'migrate']).replace(/\s+/g, ' ');
    expect(text).toContain('without starting the server ("elrond server" also does it when it starts)');
    expect(text).not.toMatch(/never migrates/);
  });

  it('every example parses', () => {
    for (const command of COMMANDS) {
      for (const example of command.examples) {
        const result = parseCommandLine(tokenize(example.replace(/<[a-z-]+>/g, 'abc')), 'cli', NO_ENV);
        expect('spec' in result ? result.spec.path : result, example).toEqual(command.path);
      }
    }
  });
});

describe('output formatting', () => {
  const ring = (overrides: Partial<RingJson> = {}) =>
    ({
      ID: 'ring1',
      Name: 'canary',
      Priority: 1,
      SoakTime: 7200,
      State: 'soaking',
      ActiveReleaseID: 'rel1',
      DesiredReleaseID: 'rel2',
      ReleaseAt: 5_000_000,
      soakRemainingSeconds: 42,
      installationGroups: [
        { id: 'g1', name: 'ig-a', state: 'stable', soakTime: 60, provisionerGroupID: 'pga', releaseAt: 7 },
        { id: 'g2', name: 'ig-b', state: 'soaking', soakTime: 90, provisionerGroupID: 'pgb', releaseAt: 8 },
      ],
      ...overrides,
    }) as unknown as RingJson;
  const releases: Record<string, Partial<ReleaseJson>> = { rel1: { Image: 'mm', Version: '1.0', Force: false }, rel2: { Image: 'mm', Version: '1.1', Force: true } };

  it('ring list --table has the original headers, releases as image:version and one line per group', async () => {
    const { output, calls } = await run(['ring', 'list', '--table'], { listRings: () => [ring()], getRelease: (id: string) => releases[id] });
    expect(output.kind).toBe('table');
    if (output.kind !== 'table') return;
    expect(output.headers).toEqual(['ID', 'STATE', 'NAME', 'PRIORITY', 'INSTALLATION GROUPS', 'SOAK TIME', 'REMAINING SOAK TIME', 'ACTIVERELEASE', 'DESIREDRELEASE', 'FORCE', 'RELEASE AT']);
    expect(RING_TABLE_HEADERS).toEqual(output.headers);
    expect(output.rows[0]).toEqual([
      'ring1',
      'soaking',
      'canary',
      '1',
      'Name: ig-a, State: stable, Soaking: 60, Provisioner Group: pga, ReleaseAt: 7\nName: ig-b, State: soaking, Soaking: 90, Provisioner Group: pgb, ReleaseAt: 8',
      '7200',
      '42',
      'mm:1.0',
      'mm:1.1',
      'true',
      '5000000',
    ]);
    expect(calls.filter((c) => c.method === 'getRelease').map((c) => c.args[0])).toEqual(['rel1', 'rel2']);
    const rendered = renderOutput(output).split('\n');
    const groupWidth = 'Name: ig-b, State: soaking, Soaking: 90, Provisioner Group: pgb, ReleaseAt: 8'.length;
    expect(rendered[1]).toBe(
      `| ID    | STATE   | NAME   | PRIORITY | ${'INSTALLATION GROUPS'.padEnd(groupWidth)} | SOAK TIME | REMAINING SOAK TIME | ACTIVERELEASE | DESIREDRELEASE | FORCE | RELEASE AT |`,
    );
    expect(rendered[4]).toMatch(/^\| {7}\| {9}\| {8}\| {10}\| Name: ig-b, State: soaking/);
  });

  it('webhook list --table has ID, OWNER, URL', async () => {
    const { output } = await run(['webhook', 'list', '--table'], { listWebhooks: () => [{ ID: 'w1', OwnerID: 'me', URL: 'https://x' }] });
    expect(renderOutput(output)).toBe(formatTable(['ID', 'OWNER', 'URL'], [['w1', 'me', 'https://x']]));
    expect(renderOutput(output)).toContain('| ID | OWNER | URL       |');
  });

  it('prints pretty JSON with a 2-space indent, and nothing for empty answers', async () => {
    expect(renderOutput({ kind: 'json', value: { a: [1] } })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    const { output } = await run(['ring', 'delete', '--ring', 'r']);
    expect(renderOutput(output)).toBe('');
  });
});
