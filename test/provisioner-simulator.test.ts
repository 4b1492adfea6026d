import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ManualClock } from '../src/model/clock.js';
import { defaultServerConfig, type ServerConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { runCli } from '../src/cli/run-cli.js';
import { serve } from '../src/cli/serve.js';
import { ProvisionerError } from '../src/integrations/provisioner-client.js';
import { DEFAULT_SIMULATOR_OPTIONS, parseSimulatorUrl } from '../src/integrations/provisioner-simulator-options.js';
import { createProvisionerSimulator, type ProvisionerSimulator } from '../src/integrations/provisioner-simulator.js';
import { applyGroupPatch, type PatchableGroup } from '../src/integrations/simulated-group-patch.js';
import { tempDatabase, TEST_POSTGRES_URL } from './helpers/temp-database.js';
import { DEFAULT_DIALECT, IMAGE } from './helpers/harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const GROUP = 'k3s8x1q9f7bqjx4d5m6n7p8r9t';
const OTHER_GROUP = 'a1b2c3d4e5f6g7h8i9j0k1m2n3';

/** A simulator on its own migrated SQLite database, with a manual clock. */
async function simulator(query: string, shared?: { db: Awaited<ReturnType<typeof tempDatabase>>['store']['db']; clock: ManualClock }) {
  let db = shared?.db;
  if (!db) {
    const temp = await tempDatabase('sqlite');
    cleanups.push(temp.cleanup);
    db = temp.store.db;
  }
  const clock = shared?.clock ?? new ManualClock(Date.UTC(2026, 0, 1));
  const sim = createProvisionerSimulator({ db, clock, options: parseSimulatorUrl(`sim://?${query}`), random: () => 0.5 });
  return { sim, clock, db };
}

const v = (version: string) => ({ Version: version, Image: IMAGE, MattermostEnv: null });

/** Installation states of a group, in creation order. */
async function states(sim: ProvisionerSimulator, id = GROUP): Promise<string[]> {
  return (await sim.installations(id)).map((i) => i.State);
}

describe('sim:// options', () => {
  it('has defaults, and reads every option (names case-insensitively, durations like 5s and 2m)', () => {
    expect(parseSimulatorUrl('sim://')).toEqual(DEFAULT_SIMULATOR_OPTIONS);
    expect(parseSimulatorUrl('SIM://?')).toEqual(DEFAULT_SIMULATOR_OPTIONS);
    expect(parseSimulatorUrl('sim://?rollout=2m&installations=7&fail=0.05&jitter=0&maxrolling=3&seed=42&repair=90')).toEqual({
      rolloutMs: 120_000,
      installations: 7,
      failProbability: 0.05,
      jitter: 0,
      maxRolling: 3,
      seed: 42,
      repairMs: 90_000,
    });
    expect(parseSimulatorUrl('sim:///?rollout=5s&maxRolling=2&repair=never')).toMatchObject({ rolloutMs: 5000, maxRolling: 2, repairMs: null });
  });

  it.each([
    ['sim://?rollout=fast', 'rollout="fast" is not valid: use a duration like 5s, 2m or 1h'],
    ['sim://?rollout=0', 'rollout="0" is not valid: use a duration from 1s to 24h'],
    ['sim://?rollout=25h', 'rollout="25h" is not valid: use a duration from 1s to 24h'],
    ['sim://?installations=-1', 'installations="-1" is not valid: use a whole number from 0 to 500'],
    ['sim://?installations=2.5', 'installations="2.5" is not valid: use a whole number'],
    ['sim://?installations=', 'installations="" is not valid: use a whole number'],
    ['sim://?fail=5%25', 'fail="5%" is not valid: use a number from 0 to 1'],
    ['sim://?fail=1.5', 'fail="1.5" is not valid: use a number from 0 to 1'],
    ['sim://?jitter=0.95', 'jitter="0.95" is not valid: use a number from 0 to 0.9'],
    ['sim://?maxRolling=two', 'maxRolling="two" is not valid: use a whole number from 0 to 1000'],
    ['sim://?seed=-3', 'seed="-3" is not valid: use a whole number from 0 to 4294967295'],
    ['sim://?repair=soon', 'repair="soon" is not valid: use a duration like 5s'],
    ['sim://?rolout=5s', 'unknown simulator option "rolout"; the options are rollout, jitter, fail, installations, maxRolling, seed, repair'],
    ['sim://?rollout=5s&rollout=6s', 'option rollout is given twice; keep one'],
    ['sim://localhost:8075?rollout=5s', 'the simulator takes no host or path ("localhost:8075"); put its options after "?"'],
    ['sim://?fail=1&repair=1m', 'fail=1 with repair would fail and repair every update forever'],
  ])('refuses %s, naming the option and the fix', (url, message) => {
    expect(() => parseSimulatorUrl(url)).toThrow(message);
    expect(() => parseSimulatorUrl(url)).toThrow(`--provisioner-server "${url}"`);
  });
});

describe('the group API (PatchGroupRequest rules)', () => {
  const group = (): PatchableGroup => ({ Sequence: 3, Name: 'g', Description: '', Version: 'v1', Image: IMAGE, MaxRolling: 1, MattermostEnv: { A: { value: '1' }, B: { value: '2' } } });

  it('bumps Sequence only for Version, Image, env or ForceSequenceUpdate (store.UpdateGroup)', () => {
    const same = group();
    expect(applyGroupPatch(same, { Version: 'v1', Image: IMAGE, MattermostEnv: null })).toEqual({ applied: false, sequenceBumped: false });
    expect(same).toEqual(group());
    for (const patch of [{ Version: 'v2' }, { Image: 'mattermost/mattermost-team-edition' }, { MattermostEnv: { C: { value: '3' } } }, { ForceSequenceUpdate: true }]) {
      const g = group();
      expect(applyGroupPatch(g, patch), JSON.stringify(patch)).toEqual({ applied: true, sequenceBumped: true });
      expect(g.Sequence).toBe(4);
    }
    for (const patch of [{ Name: 'renamed' }, { Description: 'd' }, { MaxRolling: 5 }]) {
      const g = group();
      expect(applyGroupPatch(g, patch), JSON.stringify(patch)).toEqual({ applied: true, sequenceBumped: false });
      expect(g.Sequence).toBe(3);
    }
  });

  it('merges env like EnvVarMap.ClearOrPatch: add/replace, blank deletes, unmentioned kept, {} clears, a nil map takes the patch as is', () => {
    const g = group();
    applyGroupPatch(g, { MattermostEnv: { A: { value: '9' }, B: {}, C: { value: '3' }, D: { value: '' } } });
    expect(g.MattermostEnv).toEqual({ A: { value: '9' }, C: { value: '3' } });
    applyGroupPatch(g, { MattermostEnv: {} });
    expect(g.MattermostEnv).toBeNull();
    expect(applyGroupPatch(g, { MattermostEnv: { X: {} } })).toEqual({ applied: true, sequenceBumped: true });
    expect(g.MattermostEnv).toEqual({ X: {} });
  });

  it('counts a re-sent valueFrom as applied (Go compares the pointer) without bumping Sequence (JSON is equal)', () => {
    const secret = { secretKeyRef: { name: 's', key: 'k' } };
    const g = { ...group(), MattermostEnv: { S: { valueFrom: secret } } };
    expect(applyGroupPatch(g, { MattermostEnv: { S: { valueFrom: structuredClone(secret) } } })).toEqual({ applied: true, sequenceBumped: false });
  });

  it('refuses a negative MaxRolling (400) and an id that is not 26 letters and digits (404), permanently and without storing anything', async () => {
    const { sim, db } = await simulator('');
    const bad = await sim.updateGroup(GROUP, { ...v('v2'), MaxRolling: -1 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ProvisionerError);
    expect(bad).toMatchObject({ status: 400, transient: false, message: expect.stringContaining('max rolling must be 0 or greater') });
    const missing = await sim.getGroup('group-1').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, transient: false, message: expect.stringContaining('provisioner group group-1 not found (404)') });
    expect(await db.selectFrom('system').select('key').where('key', 'like', 'simulator:%').execute()).toEqual([]);
  });
});

describe('simulated rollout (manual clock)', () => {
  it('creates a group Elrond asks about: no image or version, Sequence 0, its installations stable and counted as updated', async () => {
    const { sim } = await simulator('installations=3&maxRolling=2');
    expect(await sim.getGroup(GROUP)).toMatchObject({ ID: GROUP, Sequence: 0, Version: '', Image: '', MaxRolling: 2, MattermostEnv: null, DeleteAt: 0 });
    expect(await sim.getGroupStatus(GROUP)).toEqual({ InstallationsTotal: 3, InstallationsUpdated: 3, InstallationsUpdating: 0, InstallationsHibernating: 0, InstallationsPendingDeletion: 0, InstallationsAwaitingUpdate: 0 });
    const listed = await sim.installations(GROUP);
    expect(listed.map((i) => [i.Name, i.State, i.GroupSequence])).toEqual([
      ['sim-k3s8x1-01', 'stable', 0],
      ['sim-k3s8x1-02', 'stable', 0],
      ['sim-k3s8x1-03', 'stable', 0],
    ]);
    for (const i of listed) expect(i.ID).toMatch(/^[a-z0-9]{26}$/);
  });

  it('rolls MaxRolling installations at a time, with the A.6 status counts at every stage', async () => {
    const { sim, clock } = await simulator('installations=4&maxRolling=2&rollout=10s&jitter=0&seed=1');
    const put = await sim.updateGroup(GROUP, v('v2'));
    expect(put).toMatchObject({ Sequence: 1, Version: 'v2', Image: IMAGE });
    const status = async () => {
      const s = await sim.getGroupStatus(GROUP);
      return [s.InstallationsUpdated, s.InstallationsUpdating, s.InstallationsAwaitingUpdate];
    };
    const count = async (state: string) => (await states(sim)).filter((s) => s === state).length;
    // Right after the PUT the rollout is not done (the completion test must not pass early).
    expect(await status()).toEqual([0, 2, 2]);
    expect(await count('update-requested')).toBe(2);
    clock.advance(1000);
    expect(await count('update-in-progress')).toBe(2);
    expect(await status()).toEqual([0, 2, 2]);
    clock.advance(9000);
    expect(await status()).toEqual([2, 2, 0]);
    expect(await count('update-requested')).toBe(2);
    clock.advance(10_000);
    expect(await status()).toEqual([4, 0, 0]);
    expect((await sim.installations(GROUP)).map((i) => i.GroupSequence)).toEqual([1, 1, 1, 1]);
    // The same release again changes nothing: no bump, nothing rolls.
    expect(await sim.updateGroup(GROUP, v('v2'))).toMatchObject({ Sequence: 1 });
    expect(await status()).toEqual([4, 0, 0]);
  });

  it('never has more than MaxRolling installations updating and keeps the slots full, with jitter', async () => {
    const { sim, clock } = await simulator('installations=12&maxRolling=3&rollout=10s&jitter=0.5&seed=7');
    await sim.updateGroup(GROUP, v('v2'));
    let elapsed = 0;
    for (;;) {
      const s = await sim.getGroupStatus(GROUP);
      if (s.InstallationsUpdated === 12) break;
      expect(s.InstallationsUpdating).toBeLessThanOrEqual(3);
      if (s.InstallationsAwaitingUpdate > 0) expect(s.InstallationsUpdating).toBe(3);
      clock.advance(250);
      elapsed += 250;
      expect(elapsed).toBeLessThan(120_000);
    }
    // Four waves of updates lasting 5–15 s each.
    expect(elapsed).toBeGreaterThanOrEqual(20_000);
    expect(elapsed).toBeLessThanOrEqual(60_000);
  });

  it('holds a group with MaxRolling 0 (paused): nothing rolls', async () => {
    const { sim, clock } = await simulator('installations=2&maxRolling=0');
    await sim.updateGroup(GROUP, v('v2'));
    clock.advance(3_600_000);
    expect(await sim.getGroupStatus(GROUP)).toMatchObject({ InstallationsUpdated: 0, InstallationsAwaitingUpdate: 2, InstallationsUpdating: 0 });
  });

  it('fails updates with the configured probability; failed installations are listed by name, count as updating and hold their slot', async () => {
    const { sim, clock } = await simulator('installations=400&maxRolling=400&rollout=10s&fail=0.25&seed=3');
    await sim.updateGroup(GROUP, v('v2'));
    clock.advance(20_000);
    const failed = (await sim.installations(GROUP)).filter((i) => i.State === 'update-failed');
    expect(failed.length).toBeGreaterThan(70);
    expect(failed.length).toBeLessThan(130);
    for (const i of failed) expect(i.Name).toMatch(/^sim-k3s8x1-\d+$/);
    const status = await sim.getGroupStatus(GROUP);
    expect(status).toMatchObject({ InstallationsUpdating: failed.length, InstallationsUpdated: 400 - failed.length, InstallationsAwaitingUpdate: 0 });

    // With MaxRolling 1, a failed installation holds the only slot: the rest wait until the timeout.
    const stuck = await simulator('installations=3&maxRolling=1&rollout=10s&fail=1&seed=3');
    await stuck.sim.updateGroup(GROUP, v('v2'));
    stuck.clock.advance(3_600_000);
    expect(await states(stuck.sim)).toEqual(expect.arrayContaining(['update-failed', 'stable', 'stable']));
    expect(await stuck.sim.getGroupStatus(GROUP)).toMatchObject({ InstallationsUpdating: 1, InstallationsAwaitingUpdate: 2, InstallationsUpdated: 0 });
  });

  it('updates a failed installation again after `repair`, so the rollout completes', async () => {
    const { sim, clock } = await simulator('installations=6&maxRolling=2&rollout=10s&fail=0.5&repair=30s&seed=42');
    await sim.updateGroup(GROUP, v('v2'));
    let sawFailed = false;
    for (let t = 0; t < 3_600_000; t += 1000) {
      const s = await sim.getGroupStatus(GROUP);
      if (s.InstallationsUpdated === 6) break;
      sawFailed ||= (await states(sim)).includes('update-failed');
      clock.advance(1000);
    }
    expect(sawFailed).toBe(true);
    expect(await sim.getGroupStatus(GROUP)).toMatchObject({ InstallationsUpdated: 6, InstallationsUpdating: 0 });
  });

  it('is deterministic with a seed: the same steps give the same timeline; another seed another one', async () => {
    const timeline = async (seed: number) => {
      const { sim, clock } = await simulator(`installations=8&maxRolling=3&rollout=10s&jitter=0.5&fail=0.2&seed=${seed}`);
      await sim.updateGroup(GROUP, v('v2'));
      const frames: string[] = [];
      for (let t = 0; t < 60_000; t += 500) {
        frames.push((await sim.installations(GROUP)).map((i) => `${i.Name}:${i.State}:${i.GroupSequence}`).join(','));
        clock.advance(500);
      }
      return frames;
    };
    const first = await timeline(42);
    expect(await timeline(42)).toEqual(first);
    expect(await timeline(43)).not.toEqual(first);
  });

  it('updates installations mid-rollout again when the group changes (waitForUpdateStable): all end on the newest Sequence', async () => {
    const { sim, clock } = await simulator('installations=2&maxRolling=2&rollout=10s&jitter=0');
    await sim.updateGroup(GROUP, v('v2'));
    clock.advance(5000);
    expect(await states(sim)).toEqual(['update-in-progress', 'update-in-progress']);
    await sim.updateGroup(GROUP, v('v3'));
    expect(await states(sim)).toEqual(['update-requested', 'update-requested']);
    clock.advance(9999);
    expect((await sim.getGroupStatus(GROUP)).InstallationsUpdated).toBe(0);
    clock.advance(1);
    expect((await sim.installations(GROUP)).map((i) => [i.State, i.GroupSequence])).toEqual([
      ['stable', 2],
      ['stable', 2],
    ]);
  });

  it('loses no change when requests on one group overlap (each is a compare-and-set on its stored state)', async () => {
    const { sim, db, clock } = await simulator('installations=2');
    const other = (await simulator('installations=2', { db, clock })).sim;
    await sim.getGroup(GROUP);
    const names = ['A', 'B', 'C', 'D', 'E', 'F'];
    await Promise.all(names.map((name, i) => (i % 2 ? sim : other).updateGroup(GROUP, { MattermostEnv: { [name]: { value: '1' } } })));
    const group = await sim.getGroup(GROUP);
    expect(Object.keys(group.MattermostEnv ?? {}).sort()).toEqual(names);
    expect(group.Sequence).toBe(names.length);
  });

  it('keeps groups in the database: another simulator on it (a restart, other options) carries on where this one was', async () => {
    const first = await simulator('installations=4&maxRolling=2&rollout=10s&jitter=0');
    await first.sim.updateGroup(GROUP, v('v2'));
    await first.sim.getGroup(OTHER_GROUP);
    first.clock.advance(12_000);
    const before = await first.sim.installations(GROUP);
    expect(before.map((i) => i.State).sort()).toEqual(['stable', 'stable', 'update-in-progress', 'update-in-progress']);

    const second = await simulator('installations=9&maxRolling=5&rollout=1m', { db: first.db, clock: first.clock });
    expect(await second.sim.installations(GROUP)).toEqual(before);
    expect(await second.sim.getGroup(GROUP)).toMatchObject({ Version: 'v2', Sequence: 1, MaxRolling: 2 });
    // The updates under way finish when they were due (10 s each, the second wave started at 10 s).
    first.clock.advance(8000);
    expect(await second.sim.getGroupStatus(GROUP)).toMatchObject({ InstallationsUpdated: 4, InstallationsUpdating: 0 });
    expect((await second.sim.getGroupStatus(OTHER_GROUP)).InstallationsTotal).toBe(4);
  });
});

// ----------------------------------------------------------------------------------------------- end to end

interface Elrond {
  server: RunningServer;
  lines: Array<{ level: number; msg: string; seed?: number }>;
  api<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** A database for one test: SQLite in a temp dir, or a fresh Postgres database when the suite runs on Postgres. */
async function freshDatabase(): Promise<string> {
  if (DEFAULT_DIALECT === 'postgres' && TEST_POSTGRES_URL) {
    const temp = await tempDatabase('postgres', false);
    await temp.store.close();
    cleanups.push(temp.cleanup);
    return temp.url;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'elrond-sim-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return `sqlite://${path.join(dir, 'elrond.db')}`;
}

/** Elrond (real HTTP on 127.0.0.1, real database) on the simulator, its log captured, time moved by hand. */
async function elrond(database: string, provisionerServer: string, clock: ManualClock, config: Partial<ServerConfig> = {}): Promise<Elrond> {
  const lines: Elrond['lines'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Elrond['lines'][number]) });
  const server = await startServer({ ...defaultServerConfig(), database, listen: '127.0.0.1:0', poll: 0, provisionerServer, ...config }, { clock, log, startLoops: false, random: () => 0.5 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  cleanups.push(close);
  return {
    server,
    lines,
    async api(method, route, body) {
      const response = await fetch(`${server.url}/api${route}`, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async settle() {
      for (let i = 0; i < 50; i++) {
        await server.supervisor.runUntilIdle();
        if (!(await server.outbox.pass()).again) break;
      }
    },
    close,
  };
}

/** A ring with one installation group on provisioner group `groupId`, through the REST API; settled to stable. */
async function ringWithGroup(e: Elrond, groupId: string): Promise<string> {
  const ring = await e.api('POST', '/rings', { name: 'canary', priority: 1, soakTime: 1, image: IMAGE, version: 'v1' });
  expect(ring.status).toBe(202);
  const group = await e.api('POST', `/ring/${ring.body.ID}/installationgroup`, { name: 'canary-1', soakTime: 0, provisionerGroupID: groupId });
  expect(group.status).toBe(200);
  await e.settle();
  return ring.body.ID as string;
}

async function ringNow(e: Elrond, ringId: string) {
  return (await e.api('GET', `/ring/${ringId}`)).body as { State: string; installationGroups: Array<{ state: string; statusMessage: string; failureReason: string; progress: Record<string, number> | null }> };
}

/** Advance `step` ms at a time until the ring is in `state` (at most `maxMs`); the time it took. */
async function advanceUntil(e: Elrond, clock: ManualClock, ringId: string, state: string, step: number, maxMs: number): Promise<number> {
  let elapsed = 0;
  while ((await ringNow(e, ringId)).State !== state) {
    if (elapsed >= maxMs) throw new Error(`ring not ${state} after ${elapsed} ms: ${JSON.stringify(await ringNow(e, ringId))}`);
    clock.advance(step);
    elapsed += step;
    await e.settle();
  }
  return elapsed;
}

describe('Elrond on --provisioner-server sim:// (end to end)', () => {
  it('says at start that the provisioner is SIMULATED, and a release through the REST API rolls out on it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const e = await elrond(await freshDatabase(), 'sim://?rollout=5s&installations=4&maxRolling=2&jitter=0&seed=42', clock);
    const banner = e.lines.find((l) => l.msg.includes('provisioner is SIMULATED'));
    expect(banner).toMatchObject({ level: 40, seed: 42 });
    expect(banner!.msg).toContain('4 installations per new group, 2 at a time, 5s per update, 0% of updates fail');
    expect(e.server.simulatedProvisioner).toMatchObject({ seed: 42, options: { rolloutMs: 5000, installations: 4, maxRolling: 2 } });

    const ringId = await ringWithGroup(e, GROUP);
    expect((await ringNow(e, ringId)).State).toBe('stable');
    expect((await e.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await e.settle();
    const rolling = await ringNow(e, ringId);
    expect(rolling.installationGroups[0]!.statusMessage).toBe('0 of 4 installations updated, 2 updating, 2 waiting');
    const took = await advanceUntil(e, clock, ringId, 'stable', 500, 60_000);
    // Two waves of 5 s (noticed within the status poll's back-off), then the ring's 1 s soak.
    expect(took).toBeGreaterThanOrEqual(11_000);
    expect(took).toBeLessThan(13_000);
    const events = (await e.api('GET', `/events?ring=${ringId}&limit=100`)).body as Array<{ kind: string; message: string }>;
    const progress = events.filter((ev) => ev.kind === 'group.progress').map((ev) => ev.message).reverse();
    expect(progress[0]).toBe(`provisioner group ${GROUP} updated: : → ${IMAGE}:v2`);
    expect(progress).toContain('group canary-1: 2 of 4 installations updated, 2 updating');
  });

  it('names the installations stuck in update-failed and fails the group at the rollout timeout', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const e = await elrond(await freshDatabase(), 'sim://?rollout=5s&installations=3&maxRolling=1&fail=1&jitter=0&seed=1', clock, { provisionerGroupReleaseTimeout: 60 });
    const ringId = await ringWithGroup(e, GROUP);
    await e.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await e.settle();
    clock.advance(6000);
    await e.settle();
    const stuck = (await ringNow(e, ringId)).installationGroups[0]!;
    expect(stuck.statusMessage).toMatch(/^0 of 3 installations updated, 1 updating, 2 waiting; stuck in update-failed: sim-k3s8x1-0[123]$/);
    await advanceUntil(e, clock, ringId, 'release-failed', 5000, 120_000);
    const failed = (await ringNow(e, ringId)).installationGroups[0]!;
    expect(failed.state).toBe('release-failed');
    expect(failed.failureReason).toMatch(/^rollout timed out after \d+s \(--provisioner-group-release-timeout\); last status: .*stuck in update-failed: sim-k3s8x1-0[123]$/);
  });

  it('keeps the simulated groups across a restart: a rollout in flight carries on, and the group stays on its release', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const database = await freshDatabase();
    const url = 'sim://?rollout=10s&installations=4&maxRolling=2&jitter=0&seed=5';
    let e = await elrond(database, url, clock);
    const ringId = await ringWithGroup(e, GROUP);
    await e.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await e.settle();
    await advanceUntil(e, clock, ringId, 'stable', 1000, 60_000);

    // Restart on the same database: the group is still on v2.
    await e.close();
    e = await elrond(database, url, clock);
    const reader = createProvisionerSimulator({ db: e.server.store.db, clock, options: parseSimulatorUrl(url), random: () => 0.5 });
    expect(await reader.getGroup(GROUP)).toMatchObject({ Version: 'v2', Image: IMAGE, Sequence: 1 });
    expect(await reader.getGroupStatus(GROUP)).toMatchObject({ InstallationsUpdated: 4, InstallationsTotal: 4 });

    // A release in flight when Elrond stops: the installations keep their progress across the restart.
    await e.api('POST', '/rings/release', { image: IMAGE, version: 'v3' });
    await e.settle();
    clock.advance(12_000);
    await e.settle();
    const midway = await reader.installations(GROUP);
    expect(midway.filter((i) => i.State === 'stable' && i.GroupSequence === 2)).toHaveLength(2);
    await e.close();
    e = await elrond(database, url, clock);
    const again = createProvisionerSimulator({ db: e.server.store.db, clock, options: parseSimulatorUrl(url), random: () => 0.5 });
    expect(await again.installations(GROUP)).toEqual(midway);
    await e.settle();
    await advanceUntil(e, clock, ringId, 'stable', 1000, 60_000);
    expect(await again.getGroup(GROUP)).toMatchObject({ Version: 'v3', Sequence: 2 });
    // Elrond patched the group once per release, never again after a restart.
    const events = (await e.api('GET', `/events?ring=${ringId}&limit=200`)).body as Array<{ kind: string; message: string }>;
    const puts = events.filter((ev) => ev.kind === 'group.progress' && / updated: /.test(ev.message)).map((ev) => ev.message).reverse();
    expect(puts).toEqual([`provisioner group ${GROUP} updated: : → ${IMAGE}:v2`, `provisioner group ${GROUP} updated: ${IMAGE}:v2 → ${IMAGE}:v3`]);
  });

  it('refuses a bad sim:// option at start with the option and the fix, before creating the database', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'elrond-sim-bad-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'elrond.db');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['server', '--database', `sqlite://${file}`, '--listen', '127.0.0.1:0', '--provisioner-server', 'sim://?rollout=fast&installations=4'], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env: {},
      serve,
    });
    expect(code).toBe(1);
    expect(err.join('')).toBe('elrond: --provisioner-server "sim://?rollout=fast&installations=4": rollout="fast" is not valid: use a duration like 5s, 2m or 1h (a bare number is seconds)\n');
    expect(out).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });
});
