import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultServerConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { startServer, type RunningServer } from '../src/server.js';

/** The built binary (`npm test` runs tsc first). */
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/src/cli/main.js');
const IMAGE = 'mattermost/mattermost-enterprise-edition';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `elrond …` in a child process; ELROND_* from the test's own environment never leak in. */
function elrond(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ELROND_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const json = <T = any>(result: Result): T => JSON.parse(result.stdout) as T;

let dir: string;
let server: RunningServer;
let S: string[];

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npx tsc -p tsconfig.json" first`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'elrond-cli-'));
  server = await startServer(
    { ...defaultServerConfig(), database: `sqlite://${path.join(dir, 'e.db')}`, listen: '127.0.0.1:0', poll: 0 },
    { log: createLogger({ silent: true }), startLoops: false },
  );
  S = ['--server', server.url];
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('elrond CLI against a real server', () => {
  it('prints help for --help and for no command at all', async () => {
    const bare = await elrond([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/Usage: elrond \[options\] \[command\][\s\S]*ring[\s\S]*webhook/);
    const help = await elrond(['ring', 'release', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--env-variable <NAME:VALUE>');
    expect(help.stdout).toContain('Examples:');
  });

  it('ring create prints the ring JSON in creation-requested', async () => {
    const result = await elrond(['ring', 'create', '--name', 'canary', '--priority', '1', '--image', IMAGE, '--version', '10.5.0', ...S]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(json(result)).toMatchObject({ Name: 'canary', Priority: 1, SoakTime: 7200, State: 'creation-requested' });
    expect(result.stdout).toMatch(/^\{\n {2}"ID": /);
  });

  it('ring list --table shows the original headers and image:version', async () => {
    const result = await elrond(['ring', 'list', '--table', ...S]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[1]?.split('|').map((cell) => cell.trim()).filter(Boolean)).toEqual([
      'ID',
      'STATE',
      'NAME',
      'PRIORITY',
      'INSTALLATION GROUPS',
      'SOAK TIME',
      'REMAINING SOAK TIME',
      'ACTIVERELEASE',
      'DESIREDRELEASE',
      'FORCE',
      'RELEASE AT',
    ]);
    expect(result.stdout).toContain(`${IMAGE}:10.5.0`);
  });

  it('status prints every ring at a glance (one GET /api/status)', async () => {
    const rings = json<Array<{ Name: string }>>(await elrond(['ring', 'list', ...S]));
    expect(rings.length).toBeGreaterThan(0);
    const result = await elrond(['status', ...S]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[1]?.split('|').map((cell) => cell.trim()).filter(Boolean)).toEqual(['RING', 'PRIORITY', 'STATE', 'VERSION', 'GROUPS', 'SOAK LEFT', 'WAITING FOR / DOING']);
    for (const ring of rings) expect(result.stdout).toMatch(new RegExp(`\\| ${ring.Name} +\\| \\d+ +\\| [a-z-]+ +\\| [^|]*10\\.5\\.0`));
  });

  it('ring release sends image, version and env variables, and records who asked from the CLI', async () => {
    await server.supervisor.runUntilIdle(); // creation-requested → stable
    const [ring] = json<Array<{ ID: string }>>(await elrond(['ring', 'list', ...S]));
    const result = await elrond(['ring', 'release', '--ring', ring!.ID, '--image', IMAGE, '--version', '10.5.1', '--env-variable', 'MM_URL:https://x:8065', '--reason', 'monthly', ...S]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const released = json<{ State: string; DesiredReleaseID: string }>(result);
    expect(released.State).toBe('release-pending');
    const release = json(await elrond(['ring', 'get-release', '--release', released.DesiredReleaseID, ...S]));
    expect(release).toMatchObject({ Image: IMAGE, Version: '10.5.1', Force: false, EnvVariables: { MM_URL: { value: 'https://x:8065' } } });
    const events = json<Array<{ actor: string; source: string; newState: string | null }>>(await elrond(['events', '--ring', ring!.ID, '--limit', '5', ...S]));
    expect(events.find((e) => e.newState === 'release-pending')).toMatchObject({ actor: `${os.userInfo().username.replace(/[^\w.-]/g, '')} (unverified)`, source: 'cli' });
  });

  it('--dry-run prints the request JSON and sends nothing', async () => {
    const before = json<unknown[]>(await elrond(['events', '--limit', '1000', ...S])).length;
    const result = await elrond(['ring', 'create', '--name', 'dry', '--priority', '2', '--dry-run', ...S]);
    expect(result.code).toBe(0);
    expect(json(result)).toEqual({ name: 'dry', priority: 2, soakTime: 7200, installationGroup: {} });
    const release = await elrond(['ring', 'release', '--all-rings', '--image', IMAGE, '--version', '11.0.0', '--dry-run', ...S]);
    expect(json(release)).toEqual({ Image: IMAGE, Version: '11.0.0', Force: false, EnvVariables: {} });
    expect(json<unknown[]>(await elrond(['events', '--limit', '1000', ...S])).length).toBe(before);
    expect(json<Array<{ Name: string }>>(await elrond(['ring', 'list', ...S])).map((r) => r.Name)).not.toContain('dry');
  });

  it('an error response exits 1 with the status and the server\'s message', async () => {
    const result = await elrond(['ring', 'get', '--ring', 'aaaaaaaaaaaaaaaaaaaaaaaaaa', ...S]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('elrond: 404 ring aaaaaaaaaaaaaaaaaaaaaaaaaa not found: list rings with "elrond ring list"\n');
  });

  it('bad flags exit 2 with the message and the usage', async () => {
    const result = await elrond(['ring', 'release', '--ring', 'x', '--bogus', ...S]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--bogus'\nUsage: elrond ring release \[options\]/);
  });

  it('release is short for ring release; with no flags it prints the usage (the form is chat\'s), as ring release does', async () => {
    for (const args of [['release'], ['ring', 'release']]) {
      const bare = await elrond([...args, ...S]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/say which rings to release: --ring <id> for one ring or --all-rings/);
      expect(bare.stderr).toContain(`Usage: elrond ${args.join(' ')} [options]`);
    }
    const dry = await elrond(['release', '--all-rings', '--image', IMAGE, '--version', '10.6.0', '--dry-run', ...S]);
    expect(dry.code).toBe(0);
    expect(json(dry)).toMatchObject({ Image: IMAGE, Version: '10.6.0' });
  });

  it('subscribe without a Mattermost bot: the server says why it cannot; subscriptions prints a table', async () => {
    const noChannel = await elrond(['subscribe', ...S]);
    expect(noChannel.code).toBe(1);
    expect(noChannel.stderr).toMatch(/400 this Elrond has no Mattermost bot/);
    const list = await elrond(['subscriptions', ...S]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/\| CHANNEL \| RINGS \| BY \| SINCE \|/);
  });

  it('webhook create/list --table/get/delete', async () => {
    const created = json<{ ID: string; hasSecret: boolean }>(await elrond(['webhook', 'create', '--owner', 'team', '--url', 'https://hooks.example.com/e', '--secret', 's', ...S]));
    expect(created.hasSecret).toBe(true);
    const table = await elrond(['webhook', 'list', '--table', ...S]);
    expect(table.stdout).toMatch(/\| ID +\| OWNER \| URL +\|/);
    expect(table.stdout).toContain(created.ID);
    expect(json(await elrond(['webhook', 'get', '--webhook', created.ID, ...S]))).toMatchObject({ OwnerID: 'team' });
    expect(await elrond(['webhook', 'delete', '--webhook', created.ID, ...S])).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('elrond CLI: what the Go CLI accepted', () => {
  const ringJson = async (id: string) => (await (await fetch(`${server.url}/api/ring/${id}`)).json()) as { State: string; SoakTime: number; APISecurityLock: boolean; installationGroups?: Array<{ soakTime: number }> };

  it('--soak-time 0 is zero on ring create and installation-group register; a negative --priority is accepted', async () => {
    const created = json<{ ID: string; SoakTime: number; Priority: number }>(await elrond(['ring', 'create', '--name', 'no-soak', '--priority', '-2', '--soak-time', '0', ...S]));
    expect(created).toMatchObject({ SoakTime: 0, Priority: -2 });
    const registered = await elrond(['ring', 'installation-group', 'register', '--ring', created.ID, '--installation-group-name', 'no-soak-ig', '--provisioner-group-id', 'pgnosoak', '--soak-time', '0', ...S]);
    expect(registered.stderr).toBe('');
    expect(json(registered).installationGroups).toEqual([expect.objectContaining({ name: 'no-soak-ig', soakTime: 0 })]);
    expect(await ringJson(created.ID)).toMatchObject({ SoakTime: 0, installationGroups: [expect.objectContaining({ soakTime: 0 })] });
  });

  it('takes the Go CLI\'s persistent flags before the command: ring --server/--dry-run, security ring --ring, schema --database', async () => {
    const listed = await elrond(['ring', '--server', server.url, 'list']);
    expect(listed.stderr).toBe('');
    const rings = json<Array<{ ID: string; Name: string }>>(listed);
    expect(rings.length).toBeGreaterThan(0);

    const dry = await elrond(['ring', `--server=${server.url}`, '--dry-run', 'create', '--name', 'persistent-dry', '--priority', '4']);
    expect(json(dry)).toEqual({ name: 'persistent-dry', priority: 4, soakTime: 7200, installationGroup: {} });
    expect(json<Array<{ Name: string }>>(await elrond(['ring', 'list', ...S])).map((r) => r.Name)).not.toContain('persistent-dry');

    const id = rings[0]!.ID;
    expect(await elrond(['security', '--server', server.url, 'ring', '--ring', id, 'api-lock'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await ringJson(id)).APISecurityLock).toBe(true);
    expect((await elrond(['security', 'ring', '--ring', id, 'api-unlock', ...S])).code).toBe(0);
    expect((await ringJson(id)).APISecurityLock).toBe(false);

    // The Go CLI silently ignored --dry-run on commands without one (and deleted); here it is refused.
    const refused = await elrond(['ring', '--dry-run', 'delete', '--ring', id, ...S]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: option '--dry-run' does not apply to "ring delete"\nUsage: elrond ring delete \[options\]/);
    expect((await ringJson(id)).State).not.toBe('deletion-requested');

    const database = `sqlite://${path.join(dir, 'persistent.db')}`;
    const migrated = await elrond(['schema', '--database', database, 'migrate']);
    expect(migrated.stdout).toMatch(/^applied migration 0001_initial_schema\n[\s\S]*persistent\.db/);
  });
});

describe('elrond CLI: connection and authentication', () => {
  it('an unreachable server prints one line and exits 1', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await elrond(['ring', 'list', '--server', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`elrond: cannot reach the Elrond server at http://127.0.0.1:${port} (ECONNREFUSED): is "elrond server" running? (--server)\n`);
  });

  it('sends --api-token (or ELROND_API_TOKEN) as a bearer token, with the CLI headers', async () => {
    const requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
    const stub = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.headers.authorization !== 'Bearer s3cret') {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'missing or wrong API token' }));
          return;
        }
        res.writeHead(202, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ID: 'r', State: 'release-pending' }));
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    try {
      const denied = await elrond(['ring', 'release', '--ring', 'r1', '--image', 'i', '--version', 'v', '--server', url]);
      expect(denied).toMatchObject({ code: 1, stderr: 'elrond: 401 missing or wrong API token\n' });
      const flag = await elrond(['ring', 'release', '--ring', 'r1', '--image', 'i', '--version', 'v', '--env-variable', 'K:V', '--api-token', 's3cret', '--server', url]);
      expect(flag.code).toBe(0);
      const env = await elrond(['ring', 'release', '--ring', 'r1', '--force', '--server', url], { ELROND_API_TOKEN: 's3cret' });
      expect(env.code).toBe(0);
      const [, sent, fromEnv] = requests;
      expect(sent).toMatchObject({ method: 'POST', url: '/api/ring/r1/release' });
      expect(JSON.parse(sent!.body)).toEqual({ Image: 'i', Version: 'v', Force: false, EnvVariables: { K: { value: 'V' } } });
      expect(sent!.headers).toMatchObject({ authorization: 'Bearer s3cret', 'x-elrond-source': 'cli', 'x-elrond-actor': os.userInfo().username });
      expect(fromEnv!.headers.authorization).toBe('Bearer s3cret');
      expect(JSON.parse(fromEnv!.body)).toEqual({ Image: '', Version: '', Force: true, EnvVariables: {} });
      expect(requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await new Promise((resolve) => stub.close(resolve));
    }
  });

  it('a server started with --api-token rejects the CLI without it', async () => {
    const guarded = await startServer(
      { ...defaultServerConfig(), database: `sqlite://${path.join(dir, 'guarded.db')}`, listen: '127.0.0.1:0', poll: 0, apiToken: 'tok' },
      { log: createLogger({ silent: true }), startLoops: false },
    );
    try {
      const denied = await elrond(['ring', 'list', '--server', guarded.url]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/^elrond: 401 /);
      expect(await elrond(['ring', 'list', '--server', guarded.url, '--api-token', 'tok'])).toMatchObject({ code: 0, stdout: '[]\n' });
    } finally {
      await guarded.close();
    }
  });
});

describe('elrond schema migrate and server', () => {
  it('migrates a new SQLite file, then finds it up to date', async () => {
    const database = `sqlite://${path.join(dir, 'migrate.db')}`;
    const first = await elrond(['schema', 'migrate', '--database', database]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied migration 0001_initial_schema\n/);
    const second = await elrond(['schema', 'migrate'], { ELROND_DATABASE: database });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^schema is up to date/);
    expect(second.stdout).not.toContain('applied');
  });

  it('fails with the reason for a bad database URL', async () => {
    const result = await elrond(['schema', 'migrate', '--database', 'mysql://db/elrond']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^elrond: unsupported database URL "mysql:\/\/db\/elrond"/);
    expect(result.stderr.split('\n')).toHaveLength(2);
  });

  it('elrond server logs its URL and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'server', '--database', `sqlite://${path.join(dir, 'served.db')}`, '--listen', '127.0.0.1:0', '--poll', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${stdout}`)), 15_000);
      child.stdout.on('data', () => {
        const match = /elrond server listening on (http:\/\/\S+)/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    expect(await elrond(['ring', 'list', '--server', url])).toMatchObject({ code: 0, stdout: '[]\n' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
