import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { ELROND_BIN, startServerProcess, stopAllServerProcesses, waitFor, freePort, type ServerProcess } from './helpers/processes.js';
import { tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { createApiToken } from '../src/store/api-tokens.js';
import { chooseListen } from '../src/server.js';
import { REDACTED } from '../src/model/redact.js';

/**
 * Issue 13's first attack, replayed against real `elrond server` processes on 127.0.0.1: an open default, forged
 * actor and source headers, a text/plain cross-site POST, role escalation with a viewer's or a releaser's token,
 * a revoked token. Each is refused with a message that says why and what to do, and the database is the same
 * before and after (compared row by row).
 */

const IMAGE = 'mattermost/mattermost-enterprise-edition';
/** The server works only through the API here: no supervisor moves a ring while a test compares rows. */
const QUIET = ['--provisioner-server', 'sim://?rollout=1s&installations=2', '--no-ring-supervisor', '--no-installationgroup-supervisor', '--poll', '0'];

/** Every table a refused request could touch, as JSON (last_used_at is bookkeeping of a valid token, left out). */
async function snapshot(db: TempDatabase): Promise<string> {
  const tables = ['rings', 'installation_groups', 'ring_installation_groups', 'releases', 'rollouts', 'events', 'freezes', 'webhooks', 'subscriptions', 'outbox'] as const;
  const rows: Record<string, unknown> = {};
  for (const table of tables) rows[table] = (await sql`select * from ${sql.table(table)}`.execute(db.store.db)).rows;
  rows.api_tokens = (await sql`select name, role, token_hash, create_at from api_tokens order by name`.execute(db.store.db)).rows;
  return JSON.stringify(rows);
}

/** One raw request: any method, headers and body text, so tests can send what a browser or an attacker would. */
async function send(server: ServerProcess, method: string, path: string, options: { token?: string; headers?: Record<string, string>; body?: string } = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}), ...options.headers },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a page)
  }
  return { status: response.status, body, headers: response.headers };
}

const json = (token: string | undefined, body: unknown, headers: Record<string, string> = {}) => ({ ...(token ? { token } : {}), headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** `elrond <args>` as a user would run it; resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ELROND_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('secure by default: where Elrond listens', () => {
  it('without a token it listens on 127.0.0.1 only; with one on every interface, as before', () => {
    expect(chooseListen({ listen: '', insecureNoAuth: false }, false)).toEqual({ listen: '127.0.0.1:3018', open: true });
    expect(chooseListen({ listen: '', insecureNoAuth: false }, true)).toEqual({ listen: ':3018', open: false });
    expect(chooseListen({ listen: '[::1]:4000', insecureNoAuth: false }, false)).toEqual({ listen: '[::1]:4000', open: true });
  });

  it('an explicit --listen beyond this machine without a token refuses to start, naming --api-token and --insecure-no-auth, and writes nothing', async () => {
    const db = await tempDatabase('sqlite');
    try {
      const before = await snapshot(db);
      const port = await freePort();
      const refused = await cli(['server', '--database', db.url, '--listen', `0.0.0.0:${port}`, ...QUIET]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/--listen 0\.0\.0\.0:\d+ reaches beyond this machine/);
      expect(refused.stderr).toContain('--api-token');
      expect(refused.stderr).toContain('--insecure-no-auth');
      expect(await snapshot(db)).toBe(before);
      // The same with a stored token: it starts, and the API is guarded.
      await createApiToken(db.store.db, { name: 'ops', role: 'admin', now: 1 });
      const guarded = await startServerProcess({ name: 'guarded', flags: ['--database', db.url, ...QUIET], port });
      expect((await send(guarded, 'GET', '/api/rings')).status).toBe(401);
      await guarded.stop();
    } finally {
      await db.cleanup();
    }
  });

  it('--insecure-no-auth starts an open API beyond 127.0.0.1 and says so in its log', async () => {
    const db = await tempDatabase('sqlite');
    try {
      const port = await freePort();
      const child = spawn(process.execPath, [ELROND_BIN, 'server', '--database', db.url, '--listen', `0.0.0.0:${port}`, '--insecure-no-auth', '--machine-readable-logs', ...QUIET], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      try {
        await waitFor('the server to listen', () => output.includes('elrond is listening'), { timeoutMs: 20_000 });
        expect(output).toMatch(/"level":40[^\n]*--insecure-no-auth: no API token[^\n]*every REST caller who can reach the port is an admin/);
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    } finally {
      await db.cleanup();
    }
  });
});

describe('attacks on a guarded server', () => {
  let db: TempDatabase;
  let server: ServerProcess;
  const BOOT = 'bootstrap-admin-secret';
  const tokens: Record<'admin' | 'releaser' | 'viewer', string> = { admin: '', releaser: '', viewer: '' };
  let ringId = '';
  let releaseId = '';

  beforeAll(async () => {
    db = await tempDatabase('sqlite');
    // The first token through the CLI as an operator would make it: printed once, on the first line.
    const created = await cli(['token', 'create', '--name', 'ops-admin', '--role', 'admin', '--database', db.url]);
    expect(created.code, created.stderr).toBe(0);
    tokens.admin = created.stdout.split('\n')[0]!;
    expect(created.stdout).toContain('created token ops-admin with the admin role');
    tokens.releaser = await createApiToken(db.store.db, { name: 'ci-deployer', role: 'releaser', now: 1 });
    tokens.viewer = await createApiToken(db.store.db, { name: 'dashboard', role: 'viewer', now: 1 });
    // The ring and its release are made by a server whose supervisor runs; the server under attack runs none, so
    // nothing moves while a test compares rows.
    const setup = await startServerProcess({ name: 'setup', flags: ['--database', db.url, '--provisioner-server', 'sim://?rollout=1s&installations=2', '--poll', '1'] });
    const ring = await send(setup, 'POST', '/api/rings', json(tokens.admin, { name: 'prod', priority: 1, soakTime: 0, image: IMAGE, version: 'v1', approvalRequired: false }));
    expect(ring.status, JSON.stringify(ring.body)).toBe(202);
    ringId = ring.body.ID;
    const stable = () => waitFor('ring prod to be stable', async () => (await send(setup, 'GET', `/api/ring/${ringId}`, { token: tokens.admin })).body.State === 'stable', { timeoutMs: 20_000 });
    await stable();
    const released = await send(setup, 'POST', `/api/ring/${ringId}/release`, json(tokens.admin, { version: 'v2', EnvVariables: { MM_SQLSETTINGS_DATASOURCE: { value: 'postgres://mm:hunter2@db:5432/mm' }, MM_LOG_LEVEL: { value: 'debug' } } }));
    expect(released.status, JSON.stringify(released.body)).toBe(202);
    releaseId = released.body.DesiredReleaseID;
    await stable();
    await setup.stop();
    server = await startServerProcess({ name: 'guarded', flags: ['--database', db.url, '--api-token', BOOT, '--metrics-token', 'scrape-me', ...QUIET] });
  }, 60_000);

  afterAll(async () => {
    await stopAllServerProcesses();
    await db?.cleanup();
  });

  it('a request without a token, or with a wrong one, is refused (401) and changes nothing', async () => {
    const before = await snapshot(db);
    for (const token of [undefined, 'guess', `${tokens.admin}x`]) {
      const answer = await send(server, 'POST', '/api/rings/release', json(token, { image: IMAGE, version: 'evil', force: true }));
      expect(answer.status).toBe(401);
      expect(answer.body.error).toMatch(/missing, wrong or revoked API token: send "Authorization: Bearer <token>"/);
    }
    expect(await snapshot(db)).toBe(before);
  });

  it('the token decides the actor: X-Elrond-Actor is ignored and X-Elrond-Source cannot claim chat', async () => {
    const freeze = await send(server, 'POST', '/api/freezes', json(tokens.admin, { start: '+1h', end: '+2h', reason: 'maintenance' }, { 'X-Elrond-Actor': 'alice', 'X-Elrond-Source': 'chat' }));
    expect(freeze.status).toBe(201);
    const events = await send(server, 'GET', '/api/events?limit=1', { token: tokens.viewer });
    expect(events.body.map((e: { actor: string; source: string }) => ({ actor: e.actor, source: e.source }))).toEqual([{ actor: 'ops-admin', source: 'api' }]);
    const lifted = await send(server, 'DELETE', `/api/freeze/${freeze.body.id}`, { token: BOOT, headers: { 'X-Elrond-Actor': 'alice', 'X-Elrond-Source': 'cli' } });
    expect(lifted.status).toBe(200);
    const last = await send(server, 'GET', '/api/events?limit=1', { token: tokens.viewer });
    // The shared --api-token names nobody: it is recorded as itself; "cli" may still say where from.
    expect(last.body.map((e: { actor: string; source: string }) => ({ actor: e.actor, source: e.source }))).toEqual([{ actor: 'api-token', source: 'cli' }]);
  });

  it('a text/plain or form POST from a foreign Origin (CSRF) is refused with 415 before anything runs', async () => {
    const before = await snapshot(db);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await send(server, 'POST', '/api/rings/release', { token: tokens.admin, headers: { 'Content-Type': type, Origin: 'http://evil.invalid' }, body: JSON.stringify({ image: IMAGE, version: 'evil', force: true }) });
      expect(answer.status, type).toBe(415);
      expect(answer.body.error).toMatch(/^POST \/api\/rings\/release needs "Content-Type: application\/json"/);
    }
    const none = await send(server, 'POST', '/api/rings/release/pause', { token: tokens.admin });
    expect(none.status).toBe(415);
    expect(await snapshot(db)).toBe(before);
    // DELETE is exempt (browsers preflight it); a JSON null body still works for bodyless POSTs.
    expect((await send(server, 'POST', '/api/rings/release/pause', { token: tokens.admin, headers: { 'Content-Type': 'application/json' }, body: 'null' })).status).toBe(200);
    expect((await send(server, 'POST', '/api/rings/release/resume', { token: tokens.admin, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: 'null' })).status).toBe(200);
  });

  it('a viewer or releaser token cannot do more than its role: each refusal names the role needed, and nothing changes', async () => {
    const before = await snapshot(db);
    const attempts: Array<{ token: string; method: string; path: string; body?: unknown; needs: string }> = [
      { token: tokens.viewer, method: 'POST', path: '/api/rings/release', body: { image: IMAGE, version: 'evil' }, needs: 'releaser' },
      { token: tokens.releaser, method: 'POST', path: '/api/rings/release', body: { image: IMAGE, version: 'evil', force: true }, needs: 'admin' },
      { token: tokens.releaser, method: 'POST', path: `/api/ring/${ringId}/update`, body: { approvalRequired: false }, needs: 'admin' },
      { token: tokens.releaser, method: 'POST', path: `/api/ring/${ringId}/approve`, body: null, needs: 'approver' },
      { token: tokens.releaser, method: 'POST', path: `/api/security/ring/${ringId}/api/unlock`, body: null, needs: 'admin' },
      { token: tokens.releaser, method: 'DELETE', path: `/api/ring/${ringId}`, needs: 'admin' },
      { token: tokens.releaser, method: 'POST', path: '/api/webhooks', body: { OwnerID: 'x', URL: 'http://127.0.0.1:9/hook' }, needs: 'admin' },
      { token: tokens.viewer, method: 'POST', path: '/api/rings/rollback', body: { reason: 'x' }, needs: 'admin' },
    ];
    for (const attempt of attempts) {
      const answer = await send(server, attempt.method, attempt.path, attempt.body === undefined ? { token: attempt.token } : json(attempt.token, attempt.body));
      expect(answer.status, `${attempt.method} ${attempt.path}`).toBe(403);
      expect(answer.body.error, `${attempt.method} ${attempt.path}`).toContain(`use a token with the ${attempt.needs} role`);
    }
    expect(await snapshot(db)).toBe(before);
  });

  it('the CLI sends its token and JSON on every POST, even bodyless ones, and is recorded as the token\'s holder from the CLI', async () => {
    const paused = await cli(['ring', 'release', '--pause', '--server', server.url, '--api-token', tokens.admin]);
    expect(paused.code, paused.stderr).toBe(0);
    const resumed = await cli(['ring', 'release', '--resume', '--server', server.url, '--api-token', tokens.admin]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const pulled = await cli(['freeze', 'now', '--reason', 'smoke', '--server', server.url, '--api-token', tokens.viewer]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const events = await send(server, 'GET', '/api/events?limit=1', { token: tokens.viewer });
    expect(events.body.map((e: { actor: string; source: string }) => ({ actor: e.actor, source: e.source }))).toEqual([{ actor: 'dashboard', source: 'cli' }]);
    expect((await send(server, 'DELETE', `/api/freeze/${JSON.parse(pulled.stdout).id}`, { token: tokens.admin })).status).toBe(200);
    const before = await snapshot(db);
    const refused = await cli(['ring', 'release', '--pause', '--server', server.url, '--api-token', tokens.viewer]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403 @dashboard may not pause: this API token has the viewer role; use a token with the releaser role/);
    expect(await snapshot(db)).toBe(before);
  });

  it('anyone authenticated may pull the stop-the-line freeze; only an admin lifts it', async () => {
    const pulled = await send(server, 'POST', '/api/freezes/now', json(tokens.viewer, { reason: 'error rate up' }));
    expect(pulled.status).toBe(201);
    const before = await snapshot(db);
    const lift = await send(server, 'DELETE', `/api/freeze/${pulled.body.id}`, { token: tokens.releaser });
    expect(lift.status).toBe(403);
    expect(lift.body.error).toMatch(/@ci-deployer may not lift freeze windows: .*admin role/);
    expect(await snapshot(db)).toBe(before);
    expect((await send(server, 'DELETE', `/api/freeze/${pulled.body.id}`, { token: tokens.admin })).status).toBe(200);
  });

  it('a revoked token stops working within seconds, and its last requests change nothing', async () => {
    const token = await createApiToken(db.store.db, { name: 'leaked', role: 'releaser', now: 1 });
    await waitFor('the new token to be accepted', async () => (await send(server, 'GET', '/api/rings', { token })).status === 200, { timeoutMs: 5000 });
    const signedIn = await send(server, 'POST', '/login', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
    const session = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await send(server, 'GET', '/', { headers: { Cookie: session } })).status).toBe(200);
    const revoked = await cli(['token', 'revoke', '--name', 'leaked', '--database', db.url]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const before = await snapshot(db);
    // Servers re-read the stored tokens every 2 s (TOKEN_CACHE_MS).
    await waitFor('the revoked token to be refused', async () => (await send(server, 'GET', '/api/rings', { token })).status === 401, { timeoutMs: 5000, everyMs: 200 });
    const answer = await send(server, 'POST', '/api/rings/release', json(token, { image: IMAGE, version: 'evil' }));
    expect(answer.status).toBe(401);
    expect(await snapshot(db)).toBe(before);
    // Its status page sessions end with it, and it signs in no more.
    expect((await send(server, 'GET', '/', { headers: { Cookie: session } })).status).toBe(303);
    expect((await send(server, 'POST', '/login', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` })).status).toBe(401);
  });

  it('token list shows names, roles and use, never a token', async () => {
    const listed = await cli(['token', 'list', '--database', db.url]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/\| ops-admin +\| admin +\| \d{4}-\d\d-\d\dT[^|]+\| \d{4}-\d\d-\d\dT/);
    expect(listed.stdout).toMatch(/\| dashboard +\| viewer /);
    for (const token of Object.values(tokens)) expect(listed.stdout).not.toContain(token);
  });

  it('a release\'s secret env values are shown to admins only', async () => {
    const asViewer = await send(server, 'GET', `/api/release/${releaseId}`, { token: tokens.viewer });
    expect(asViewer.body.EnvVariables).toEqual({ MM_SQLSETTINGS_DATASOURCE: { value: REDACTED }, MM_LOG_LEVEL: { value: 'debug' } });
    const asAdmin = await send(server, 'GET', `/api/release/${releaseId}`, { token: tokens.admin });
    expect(asAdmin.body.EnvVariables.MM_SQLSETTINGS_DATASOURCE).toEqual({ value: 'postgres://mm:hunter2@db:5432/mm' });
  });

  it('/metrics needs the --metrics-token', async () => {
    const open = await send(server, 'GET', '/metrics');
    expect(open.status).toBe(401);
    expect(open.body.error).toContain('--metrics-token');
    expect((await send(server, 'GET', '/metrics', { token: tokens.admin })).status).toBe(401);
    const scraped = await send(server, 'GET', '/metrics', { token: 'scrape-me' });
    expect(scraped.status).toBe(200);
    expect(String(scraped.body)).toContain('elrond_http_requests_total');
  });

  it('the status page signs in with a stored token of any role', async () => {
    expect((await send(server, 'GET', '/')).status).toBe(303);
    const signIn = await send(server, 'POST', '/login', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(tokens.viewer)}&next=%2F` });
    expect(signIn.status).toBe(303);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^elrond_session=\d+\./);
    const page = await send(server, 'GET', '/', { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('prod');
  });
});

describe('an open server (127.0.0.1, no token)', () => {
  it('X-Elrond-Actor is recorded as an unverified label, and source chat is recorded as api', async () => {
    const db = await tempDatabase('sqlite');
    try {
      const server = await startServerProcess({ name: 'open', flags: ['--database', db.url, ...QUIET] });
      const created = await send(server, 'POST', '/api/rings', json(undefined, { name: 'r1', priority: 1 }, { 'X-Elrond-Actor': 'admin-alice', 'X-Elrond-Source': 'chat' }));
      expect(created.status).toBe(202);
      const events = await send(server, 'GET', '/api/events?limit=1');
      expect(events.body.map((e: { actor: string; source: string }) => ({ actor: e.actor, source: e.source }))).toEqual([{ actor: 'admin-alice (unverified)', source: 'api' }]);
      // Still no CSRF: a text/plain POST is refused even here.
      const before = await snapshot(db);
      expect((await send(server, 'POST', '/api/rings', { headers: { 'Content-Type': 'text/plain', Origin: 'http://evil.invalid' }, body: JSON.stringify({ name: 'r2', priority: 2 }) })).status).toBe(415);
      expect(await snapshot(db)).toBe(before);
      await server.stop();
    } finally {
      await db.cleanup();
    }
  });
});
