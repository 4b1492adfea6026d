import { describe, it, expect, afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeProvisioner } from './fakes/fake-provisioner.js';
import { startServerProcess, stopAllServerProcesses, waitFor } from './helpers/processes.js';
import { IMAGE } from './helpers/harness.js';

const dirs: string[] = [];
const fakes: FakeProvisioner[] = [];
afterEach(async () => {
  await stopAllServerProcesses();
  while (fakes.length) await fakes.pop()!.stop();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A real `elrond server` process on a SQLite file, against a fake provisioner whose rollouts take `rolloutMs`. */
async function setup(rolloutMs: number) {
  const provisioner = new FakeProvisioner({ rolloutDurationMs: rolloutMs });
  fakes.push(provisioner);
  const provisionerUrl = await provisioner.start();
  const dir = mkdtempSync(path.join(tmpdir(), 'elrond-crash-'));
  dirs.push(dir);
  const server = await startServerProcess({
    name: 'elrond',
    flags: ['--database', `sqlite://${path.join(dir, 'elrond.db')}`, '--provisioner-server', provisionerUrl, '--poll', '1', '--lease-duration', '5', '--provisioner-status-interval', '1'],
  });
  return { provisioner, server };
}

async function ringWithGroups(server: Awaited<ReturnType<typeof setup>>['server'], provisioner: FakeProvisioner, name: string, priority: number, soak: number, groups: number) {
  const ring = await server.api('POST', '/rings', { name, priority, soakTime: soak, image: IMAGE, version: 'v1' });
  const ids: string[] = [];
  for (let g = 0; g < groups; g++) {
    const group = provisioner.createGroup({ Name: `${name}-${g}`, Image: IMAGE, Version: 'v1', MaxRolling: 5 });
    for (let i = 0; i < 2; i++) provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence });
    await server.api('POST', `/ring/${ring.body.ID}/installationgroup`, { name: `${name}-ig-${g}`, provisionerGroupID: group.ID });
    ids.push(group.ID);
  }
  return { id: ring.body.ID as string, groups: ids };
}

describe('crash safety: SIGKILL and restart', () => {
  it('mid-rollout: the restarted server resumes by polling status, never patches a group twice, keeps ring order', async () => {
    const { provisioner, server } = await setup(2500);
    const r1 = await ringWithGroups(server, provisioner, 'canary', 1, 1, 2);
    const r2 = await ringWithGroups(server, provisioner, 'production', 2, 1, 1);
    await waitFor('rings created', async () => (await server.api('GET', `/ring/${r2.id}`)).body.State === 'stable', { timeoutMs: 10_000 });
    await server.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    // Kill while canary's first group is rolling (its PUT went out, the rollout takes 2.5 s).
    await waitFor('first PUT', () => provisioner.puts().length === 1, { timeoutMs: 10_000, everyMs: 20 });
    await server.kill();
    expect(provisioner.group(r1.groups[0]!)!.Version).toBe('v2');
    await server.restart();
    await waitFor('production stable on v2', async () => {
      const ring = (await server.api('GET', `/ring/${r2.id}`)).body;
      return ring.State === 'stable' && ring.ActiveReleaseID === ring.DesiredReleaseID;
    }, { timeoutMs: 40_000, everyMs: 200 });
    const puts = provisioner.puts().map((p) => p.ID);
    expect(puts).toEqual([...r1.groups, ...r2.groups]); // each group once, canary's before production's
    for (const id of [...r1.groups, ...r2.groups]) expect(provisioner.group(id)!.Version).toBe('v2');
  }, 60_000);

  it('mid-soak: the soak deadline survives the crash and the next ring starts after it, not before', async () => {
    const { provisioner, server } = await setup(200);
    const r1 = await ringWithGroups(server, provisioner, 'canary', 1, 4, 1);
    const r2 = await ringWithGroups(server, provisioner, 'production', 2, 1, 1);
    await waitFor('rings created', async () => (await server.api('GET', `/ring/${r2.id}`)).body.State === 'stable', { timeoutMs: 10_000 });
    await server.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    const soaking = await waitFor('canary soaking', async () => {
      const ring = (await server.api('GET', `/ring/${r1.id}`)).body;
      return ring.State === 'soaking-requested' ? ring : undefined;
    }, { timeoutMs: 15_000, everyMs: 50 });
    await server.kill();
    await server.restart();
    // Still soaking: on the same deadline. A slow restart (a loaded machine) may find the soak already over.
    const after = (await server.api('GET', `/ring/${r1.id}`)).body;
    if (after.State === 'soaking-requested') expect(after.soakUntil).toBe(soaking.soakUntil);
    else expect(after.State).toBe('stable');
    await waitFor('production stable', async () => (await server.api('GET', `/ring/${r2.id}`)).body.State === 'stable', { timeoutMs: 30_000, everyMs: 200 });
    // production's group was only patched once canary's soak had ended.
    const productionPut = provisioner.requests.find((r) => r.method === 'PUT' && r.path.endsWith(r2.groups[0]!))!;
    expect(productionPut.at).toBeGreaterThanOrEqual(soaking.soakUntil);
    expect(provisioner.puts().map((p) => p.ID)).toEqual([...r1.groups, ...r2.groups]);
  }, 60_000);
});
