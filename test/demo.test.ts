import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../src/model/clock.js';
import { createLogger } from '../src/logging.js';
import { startDemo, type RunningDemo } from '../src/cli/demo.js';
import { DEMO_FLEET, DEMO_IMAGE } from '../src/cli/demo-fleet.js';
import { DEMO_SIMULATOR } from '../src/commands/demo.js';
import { simulatorGroupKey } from '../src/integrations/provisioner-simulator.js';
import { getSetting } from '../src/store/system.js';
import { tokenCaller } from '../src/service/access-policy.js';
import { ELROND_BIN, freePort, waitFor } from './helpers/processes.js';

const ADMIN = tokenCaller({ name: 'test', source: 'cli' }, 'admin');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'elrond-demo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function demo(database: string, clock: ManualClock): Promise<RunningDemo> {
  const running = await startDemo({ listen: '127.0.0.1:0', simulator: `${DEMO_SIMULATOR}&seed=7` }, { database, clock, startLoops: false, log: createLogger({ silent: true }), random: () => 0.5 });
  cleanups.push(() => running.server.close());
  return running;
}

async function settle(d: RunningDemo): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await d.server.supervisor.runUntilIdle();
    if (!(await d.server.outbox.pass()).again) break;
  }
}

describe('elrond demo', () => {
  it('seeds 3 rings × 2 groups (short soaks, production needs approval), starts a release and says what to try', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const d = await demo(`sqlite://${path.join(tempDir(), 'elrond-demo.db')}`, clock);
    expect(d.rings.map((r) => [r.name, r.priority, r.soakTime, r.approvalRequired, r.installationGroups.map((g) => g.name).sort()])).toEqual(
      DEMO_FLEET.map((r) => [r.name, r.priority, r.soakTime, r.approvalRequired, r.groups.map((g) => g.name).sort()]),
    );
    expect(d.rings.every((r) => r.soakTime <= 60 && r.installationGroups.every((g) => g.soakTime <= 10))).toBe(true);
    expect(d.started).toBe(`${DEMO_IMAGE}:10.5.1`);
    expect(d.rings.map((r) => r.state)).toEqual(['release-pending', 'release-pending', 'release-pending']);
    expect(d.server.simulatedProvisioner).not.toBeNull();
    const production = d.rings.find((r) => r.name === 'production')!;
    expect(d.instructions).toContain(`status page: ${d.server.url}/`);
    expect(d.instructions).toContain(`npx elrond status --server ${d.server.url}`);
    expect(d.instructions).toContain(`npx elrond why --server ${d.server.url}`);
    expect(d.instructions).toContain(`npx elrond ring approve --ring ${production.id} --server ${d.server.url}`);
    expect(d.instructions).toMatch(/SIMULATED/);

    // The release runs on the simulator: canary's groups roll and soak.
    await settle(d);
    for (let i = 0; i < 200 && (await d.server.services.operations.invoke('getRing', { ringId: d.rings[0]!.id }, ADMIN)).state !== 'stable'; i++) {
      clock.advance(1000);
      await settle(d);
    }
    expect((await d.server.services.operations.invoke('getRing', { ringId: d.rings[0]!.id }, ADMIN)).state).toBe('stable');
    // The page shows it.
    const page = await (await fetch(`${d.server.url}/`)).text();
    expect(page).toContain(`Release of ${DEMO_IMAGE}:10.5.1`);
    expect(page).toContain('Simulated provisioner');
  });

  it('running twice does not duplicate the fleet, carries on with the release under way, and keeps the simulated groups', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const database = `sqlite://${path.join(tempDir(), 'elrond-demo.db')}`;
    const first = await demo(database, clock);
    await settle(first);
    clock.advance(4000);
    await settle(first);
    // Groups roll in name order: canary-community first.
    const group = DEMO_FLEET[0]!.groups.find((g) => g.name === 'canary-community')!.provisionerGroupId;
    const stored = await getSetting(first.server.store.db, simulatorGroupKey(group));
    expect(stored).toContain('10.5.1');
    await first.server.close();

    const second = await demo(database, clock);
    expect(second.started).toBeNull();
    expect(second.instructions).toMatch(/already under way .*carrying on with it/);
    const rings = await second.server.services.operations.invoke('listRings', { page: 0, perPage: -1, includeDeleted: true }, ADMIN);
    expect(rings).toHaveLength(3);
    expect(rings.flatMap((r) => r.installationGroups)).toHaveLength(6);
    expect(JSON.parse((await getSetting(second.server.store.db, simulatorGroupKey(group)))!)).toEqual(JSON.parse(stored!));
    const rollouts = await second.server.services.pages.recentRollouts();
    expect(rollouts).toHaveLength(1);
  });

  it('refuses a simulator option that is not sim://, before opening anything', async () => {
    const dir = tempDir();
    await expect(startDemo({ listen: '127.0.0.1:0', simulator: 'http://provisioner:8075' }, { database: `sqlite://${path.join(dir, 'x.db')}` })).rejects.toThrow(/is not a sim:\/\/ URL: the demo never talks to a real provisioner/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('from the CLI: writes elrond-demo.db in the current directory (never elrond.db), serves the page, and stops cleanly on Ctrl-C', async () => {
    expect(existsSync(ELROND_BIN), 'build first: npx tsc -p tsconfig.json').toBe(true);
    const cwd = tempDir();
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('ELROND_')) env[key] = value;
    const child = spawn(process.execPath, [ELROND_BIN, 'demo', '--listen', `127.0.0.1:${port}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(() => void child.kill('SIGKILL'));
    await waitFor('the demo to print its page', () => output.includes('status page:') || child.exitCode !== null, { timeoutMs: 20_000 });
    expect(output).toContain(`status page: http://127.0.0.1:${port}/`);
    expect(output).toContain('provisioner is SIMULATED');
    expect(existsSync(path.join(cwd, 'elrond-demo.db'))).toBe(true);
    expect(existsSync(path.join(cwd, 'elrond.db'))).toBe(false);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('canary');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('elrond demo: SIGINT received, shutting down');
  });
});
