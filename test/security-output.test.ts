/**
 * Issue 13 items 7 and 8 against a real `elrond server` process and the real `elrond` CLI: secrets never leave
 * (plans, events and history, webhook lists, log lines), a redacted value read back is refused, and what the
 * CLI prints cannot drive a terminal or a spreadsheet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { startServerProcess, stopAllServerProcesses, waitFor, ELROND_BIN, type ServerProcess } from './helpers/processes.js';
import { tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { DEFAULT_DIALECT, IMAGE } from './helpers/harness.js';
import { FakeProvisioner } from './fakes/fake-provisioner.js';
import { WebhookTarget } from './fakes/webhook-target.js';

const MARKER = '••••••';
let database: TempDatabase;
let provisioner: FakeProvisioner;
let server: ServerProcess;
let failing: WebhookTarget;
let ringId: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `elrond` CLI against the server; ELROND_* from the test's environment never leak in. */
function cli(args: string[]): Promise<Result> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ELROND_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [ELROND_BIN, ...args, '--server', server.url], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function snapshot() {
  const db = database.store.db;
  const all = (table: 'rings' | 'releases' | 'rollouts' | 'webhooks' | 'installation_groups') => db.selectFrom(table).selectAll().orderBy('id').execute();
  const count = async (table: 'events' | 'outbox') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { rings: await all('rings'), releases: await all('releases'), rollouts: await all('rollouts'), webhooks: await all('webhooks'), groups: await all('installation_groups'), events: await count('events'), outbox: await count('outbox') };
}

beforeAll(async () => {
  database = await tempDatabase(DEFAULT_DIALECT);
  provisioner = new FakeProvisioner({ settleInstantly: true });
  const provisionerUrl = await provisioner.start();
  failing = new WebhookTarget({ kind: 'ok', status: 500 });
  await failing.start();
  server = await startServerProcess({
    name: 'elrond',
    flags: ['--database', database.url, '--poll', '1', '--provisioner-server', provisionerUrl, '--provisioner-status-interval', '1', '--webhook-allow-private'],
  });
  const created = await server.api('POST', '/rings', { name: 'canary', priority: 1, soakTime: 0, image: IMAGE, version: 'v1' });
  ringId = created.body.ID;
  await waitFor('canary stable', async () => (await server.api('GET', `/ring/${ringId}`)).body.State === 'stable', { timeoutMs: 15_000 });
  const group = provisioner.createGroup({ Name: 'canary-pg', Image: IMAGE, Version: 'v1', MaxRolling: 1, MattermostEnv: { MM_SQLSETTINGS_DATASOURCE: { value: 'postgres://mmuser:oldpw999@db:5432/mm' } } });
  expect((await server.api('POST', `/ring/${ringId}/installationgroup`, { name: 'canary-ig', soakTime: 0, provisionerGroupID: group.ID })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await stopAllServerProcesses();
  await failing?.stop();
  await provisioner?.stop();
  await database?.cleanup();
});

describe('secrets never leave', () => {
  it('webhook URLs are shown without userinfo and query values (REST, CLI, events), and a failing delivery logs no full URL', async () => {
    const url = `http://alice:s3cr3tpw@127.0.0.1:${new URL(failing.url).port}/hook?token=t0ken123`;
    const created = await server.api('POST', '/webhooks', { OwnerID: 'team', URL: url, Secret: 'signing-secret' });
    expect(created.status).toBe(202);
    const shown = `http://${MARKER}@127.0.0.1:${new URL(failing.url).port}/hook?token=${MARKER}`;
    expect(created.body.URL).toBe(shown);
    expect((await server.api('GET', '/webhooks')).body.map((w: { URL: string }) => w.URL)).toEqual([shown]);
    expect((await server.api('GET', `/webhook/${created.body.ID}`)).body.URL).toBe(shown);
    const table = await cli(['webhook', 'list', '--table']);
    expect(table.stdout).toContain(shown);
    expect((await cli(['webhook', 'list'])).stdout).toContain(shown);
    const events = (await server.api('GET', '/events?limit=100')).body as Array<{ kind: string; message: string }>;
    expect(events.find((e) => e.kind === 'webhook.created')!.message).toBe(`webhook ${created.body.ID} for ${shown} created (owner team)`);

    // A state change goes to the failing target; its failures are logged with the redacted URL only.
    expect((await server.api('POST', `/ring/${ringId}/update`, { soakTime: 1 })).status).toBe(202);
    expect((await server.api('POST', '/rings', { name: 'second', priority: 2, soakTime: 0, image: IMAGE, version: 'v1' })).status).toBe(202);
    await waitFor('a failed delivery in the log', () => server.logs().some((line) => line.msg === 'delivery failed; will retry'), { timeoutMs: 15_000 });
    const failure = server.logs().find((line) => line.msg === 'delivery failed; will retry')!;
    expect(failure.error).toBe(`webhook ${created.body.ID} (${shown}) answered 500`);
    expect(failing.requests.length).toBeGreaterThan(0);
    expect(server.output()).not.toMatch(/s3cr3tpw|t0ken123|signing-secret/);
  });

  it('plans hide secret-named values (MM_SQLSETTINGS_DATASOURCE) and values carrying URL credentials, in JSON and in the CLI', async () => {
    const env = {
      MM_SQLSETTINGS_DATASOURCE: { value: 'postgres://mmuser:newpw123@db:5432/mm?sslmode=disable' },
      MM_CUSTOM_REPLICA: { value: 'postgres://reader:replicapw@replica:5432/mm' },
      MM_FEATUREFLAGS_X: { value: 'on' },
    };
    const plan = await server.api('POST', `/ring/${ringId}/release/plan`, { version: 'v2', EnvVariables: env });
    expect(plan.status).toBe(200);
    expect(plan.body.release.envVariables).toEqual({ MM_SQLSETTINGS_DATASOURCE: MARKER, MM_CUSTOM_REPLICA: MARKER, MM_FEATUREFLAGS_X: 'on' });
    expect(plan.body.rings[0].env.added).toEqual({ MM_SQLSETTINGS_DATASOURCE: MARKER, MM_CUSTOM_REPLICA: MARKER, MM_FEATUREFLAGS_X: 'on' });
    const printed = await cli(['ring', 'release', '--ring', ringId, '--version', 'v2', '--plan', ...Object.entries(env).flatMap(([name, { value }]) => ['--env-variable', `${name}:${value}`])]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`+MM_CUSTOM_REPLICA=${MARKER}`);
    expect(JSON.stringify(plan.body) + printed.stdout).not.toMatch(/newpw123|replicapw|oldpw999/);
  });

  it('events and history hide URL credentials in reasons (REST, CLI table and CSV)', async () => {
    const frozen = await server.api('POST', '/freezes/now', { reason: 'DB creds rotated, see postgres://ops:hunter2@db.example.com/mm', until: '+1h' });
    expect(frozen.status).toBe(201);
    expect(frozen.body.reason).toBe(`DB creds rotated, see postgres://${MARKER}@db.example.com/mm`);
    const events = await server.api('GET', '/events?limit=200');
    const csv = await cli(['history', '--output', 'csv', '--limit', '200']);
    const table = await cli(['history', '--limit', '200']);
    expect(csv.stdout).toContain(`postgres://${MARKER}@db.example.com/mm`);
    expect(JSON.stringify(events.body) + csv.stdout + table.stdout + JSON.stringify((await server.api('GET', '/freezes')).body)).not.toContain('hunter2');
    expect((await server.api('DELETE', `/freeze/${frozen.body.id}`)).status).toBe(200);
  });
});

describe('a redacted value read back is refused', () => {
  it('as an env value (REST, plan, CLI) and in a webhook URL: a clear 400, and nothing changes', async () => {
    const before = await snapshot();
    const release = await server.api('POST', `/ring/${ringId}/release`, { version: 'v3', EnvVariables: { MM_SQLSETTINGS_DATASOURCE: { value: MARKER } } });
    expect(release.status).toBe(400);
    expect(release.body.error).toBe(`EnvVariables.MM_SQLSETTINGS_DATASOURCE.value is Elrond's redaction marker (${MARKER}), read back from a plan, card or history: send the real value, or leave MM_SQLSETTINGS_DATASOURCE out to keep the group's current one`);
    expect((await server.api('POST', '/rings/release', { image: IMAGE, version: 'v3', EnvVariables: { MM_X: { value: `postgres://u:${MARKER}@db/mm` } } })).status).toBe(400);
    expect((await server.api('POST', `/ring/${ringId}/release/plan`, { version: 'v3', EnvVariables: { MM_SQLSETTINGS_DATASOURCE: { value: MARKER } } })).status).toBe(400);
    const viaCli = await cli(['ring', 'release', '--ring', ringId, '--version', 'v3', '--env-variable', `MM_SQLSETTINGS_DATASOURCE:${MARKER}`]);
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toMatch(/redaction marker/);
    const listed = (await server.api('GET', '/webhooks')).body[0].URL as string;
    const hook = await server.api('POST', '/webhooks', { OwnerID: 'script', URL: listed.replace('/hook', '/other') });
    expect(hook.status).toBe(400);
    expect(hook.body.error).toMatch(/URL: holds Elrond's redaction marker \(••••••\), so it was read back from a redacted list; send the webhook's real URL/);
    expect(await snapshot()).toEqual(before);
    expect(provisioner.requests.filter((r) => r.method === 'PUT' && r.rawBody.includes(MARKER))).toEqual([]);
  });
});

describe('CLI output is inert', () => {
  it('terminal escape sequences in names are shown, not run, in tables, text and JSON; CSV formula cells open as text', async () => {
    const nasty = 'evil\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202e';
    const formula = '=HYPERLINK("http://evil.example","click")';
    for (const [name, priority] of [[nasty, 5], [formula, 6]] as const) {
      expect((await server.api('POST', '/rings', { name, priority, soakTime: 0, image: IMAGE, version: 'v1' })).status).toBe(202);
    }
    const outputs = await Promise.all([cli(['ring', 'list', '--table']), cli(['ring', 'list']), cli(['status']), cli(['events', '--table']), cli(['history', '--limit', '50'])]);
    for (const { code, stdout } of outputs) {
      expect(code).toBe(0);
      expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
    expect(outputs[0]!.stdout).toContain('evil\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m\\u202e');
    expect(JSON.parse(outputs[1]!.stdout).map((r: { Name: string }) => r.Name)).toContain(nasty);
    const csv = await cli(['history', '--output', 'csv', '--limit', '50']);
    expect(csv.stdout).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csv.stdout.split('\n').some((line) => line.split(',').some((cell) => /^[=+\-@]/.test(cell)))).toBe(false);
  });
});
