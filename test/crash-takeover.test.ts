import { describe, it, expect, afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { FakeProvisioner } from './fakes/fake-provisioner.js';
import { startServerProcess, stopAllServerProcesses, waitFor } from './helpers/processes.js';
import { IMAGE } from './helpers/harness.js';
import { TEST_DIALECTS, tempDatabase } from './helpers/temp-database.js';

const cleanups: Array<() => Promise<void> | void> = [];
const fakes: FakeProvisioner[] = [];
afterEach(async () => {
  await stopAllServerProcesses();
  while (fakes.length) await fakes.pop()!.stop();
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function databaseUrl(kind: 'sqlite' | 'postgres'): Promise<string> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'elrond-takeover-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return `sqlite://${path.join(dir, 'elrond.db')}`;
  }
  const temp = await tempDatabase('postgres', false);
  await temp.store.close();
  cleanups.push(() => temp.cleanup());
  return temp.url;
}

/**
 * The default --lease-duration (60 s) and --poll (30 s): without liveness a killed owner's lease would hold the
 * release for a minute. The waits below are far shorter, so they pass only if the lease is taken at once.
 */
const WELL_BEFORE_THE_LEASE_ENDS_MS = 25_000;

describe.each(TEST_DIALECTS)('SIGKILL mid-step with the default lease (%s)', (kind) => {
  it('restart: the restarted server takes the dead owner\'s lease at once and finishes the release, each group patched once', async () => {
    const provisioner = new FakeProvisioner({ rolloutDurationMs: 1500 });
    fakes.push(provisioner);
    const provisionerUrl = await provisioner.start();
    const server = await startServerProcess({ name: 'elrond', flags: ['--database', await databaseUrl(kind), '--provisioner-server', provisionerUrl, '--provisioner-status-interval', '1'] });
    const ring = await server.api('POST', '/rings', { name: 'canary', priority: 1, soakTime: 1, image: IMAGE, version: 'v1' });
    const group = provisioner.createGroup({ Name: 'canary-0', Image: IMAGE, Version: 'v1', MaxRolling: 5 });
    for (let i = 0; i < 2; i++) provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence });
    await waitFor('ring created', async () => (await server.api('GET', `/ring/${ring.body.ID}`)).body.State === 'stable', { timeoutMs: 10_000 });
    const registered = await server.api('POST', `/ring/${ring.body.ID}/installationgroup`, { name: 'canary-ig', provisionerGroupID: group.ID });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    // The group step after the PUT hangs on its status read: the process dies holding the group's lease.
    provisioner.hangNext('getStatus');
    await server.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await waitFor('status read hanging', () => provisioner.requests.some((r) => r.route === 'getStatus'), { timeoutMs: 10_000, everyMs: 20 });
    await server.kill();
    provisioner.clearFaults();
    await server.restart();
    await waitFor('canary stable on v2', async () => {
      const body = (await server.api('GET', `/ring/${ring.body.ID}`)).body;
      return body.State === 'stable' && body.ActiveReleaseID === body.DesiredReleaseID;
    }, { timeoutMs: WELL_BEFORE_THE_LEASE_ENDS_MS, everyMs: 100 });
    expect(provisioner.puts().map((p) => p.ID)).toEqual([group.ID]);
  }, 60_000);
});

describe.skipIf(!TEST_DIALECTS.includes('postgres'))('SIGKILL of a replica mid-step with the default lease (postgres)', () => {
  it('another live replica takes its lease at once and finishes the release; the group is patched once', async () => {
    const provisioner = new FakeProvisioner({ rolloutDurationMs: 1500 });
    fakes.push(provisioner);
    const provisionerUrl = await provisioner.start();
    const database = await databaseUrl('postgres');
    const flags = ['--database', database, '--provisioner-server', provisionerUrl, '--provisioner-status-interval', '1', '--db-pool-size', '3'];
    const replicas = await Promise.all([1, 2].map((n) => startServerProcess({ name: `replica-${n}`, flags })));
    const [first] = replicas;
    const ring = await first!.api('POST', '/rings', { name: 'canary', priority: 1, soakTime: 1, image: IMAGE, version: 'v1' });
    const group = provisioner.createGroup({ Name: 'canary-0', Image: IMAGE, Version: 'v1', MaxRolling: 5 });
    for (let i = 0; i < 2; i++) provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence });
    await waitFor('ring created', async () => (await first!.api('GET', `/ring/${ring.body.ID}`)).body.State === 'stable', { timeoutMs: 10_000 });
    const registered = await first!.api('POST', `/ring/${ring.body.ID}/installationgroup`, { name: 'canary-ig', provisionerGroupID: group.ID });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    provisioner.hangNext('getStatus');
    const release = await first!.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    expect(release.status, JSON.stringify(release.body)).toBe(202);
    await waitFor('status read hanging', () => provisioner.requests.some((r) => r.route === 'getStatus'), { timeoutMs: 10_000, everyMs: 20 });
    const holder = await waitFor('the group leased', async () => {
      const client = new pg.Client({ connectionString: database });
      await client.connect();
      const { rows } = await client.query('select locked_by from installation_groups where provisioner_group_id = $1', [group.ID]);
      await client.end();
      return replicas.find((r) => r.owner === rows[0]?.locked_by);
    }, { timeoutMs: 10_000, everyMs: 50 });
    await holder.kill();
    provisioner.clearFaults();
    const survivor = replicas.find((r) => r !== holder)!;
    await waitFor('canary stable on v2', async () => {
      const body = (await survivor.api('GET', `/ring/${ring.body.ID}`)).body;
      return body.State === 'stable' && body.ActiveReleaseID === body.DesiredReleaseID;
    }, { timeoutMs: WELL_BEFORE_THE_LEASE_ENDS_MS, everyMs: 100 });
    expect(provisioner.puts().map((p) => p.ID)).toEqual([group.ID]);
  }, 60_000);
});
