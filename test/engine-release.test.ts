import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { acquireLease } from '../src/store/leases.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MID_RELEASE = ['release-requested', 'release-in-progress', 'soaking-requested', 'release-rollback-requested'];

/** Ring states, by ring name, as the API shows them. */
async function states(harness: Harness): Promise<Record<string, string>> {
  const rings = (await harness.api('GET', '/rings?per_page=-1')).body as Array<{ Name: string; State: string }>;
  return Object.fromEntries(rings.map((r) => [r.Name, r.State]));
}

/** Provisioner group ids in the order they received a PUT. */
function putOrder(harness: Harness): string[] {
  return harness.provisioner.puts().map((p) => String(p.ID));
}

/** Advance in `step` ms slices until `done` holds (at most `maxMs`), checking `invariant` after every slice. */
async function advanceUntil(harness: Harness, done: () => Promise<boolean>, options: { step: number; maxMs: number; invariant?: () => Promise<void> }): Promise<number> {
  let elapsed = 0;
  while (!(await done())) {
    if (elapsed >= options.maxMs) throw new Error(`condition not reached after ${elapsed} ms: ${JSON.stringify(await states(harness))}`);
    await harness.advance(options.step);
    elapsed += options.step;
    await options.invariant?.();
  }
  return elapsed;
}

describe('ring lifecycle', () => {
  it('completes ring creation and deletion (groups removed, provisioner untouched)', async () => {
    h = await startHarness();
    const r1 = await h.ring('ring-1', 1, { groups: 2 });
    const r2 = await h.ring('ring-2', 2);
    const r3 = await h.ring('ring-3', 3);
    expect((await h.getRing(r1.id)).State).toBe('creation-requested');
    await h.settle();
    expect(await states(h)).toEqual({ 'ring-1': 'stable', 'ring-2': 'stable', 'ring-3': 'stable' });
    const created = (await h.events(r1.id)).filter((e) => e.kind === 'ring.state').map((e) => `${e.oldState}→${e.newState}`);
    expect(created).toContain('creation-requested→stable');

    expect((await h.api('DELETE', `/ring/${r1.id}`)).status).toBe(202);
    expect((await h.getRing(r1.id)).State).toBe('deletion-requested');
    await h.settle();
    const deleted = await h.getRing(r1.id);
    expect(deleted.State).toBe('deleted');
    expect(deleted.DeleteAt).toBeGreaterThan(0);
    expect(deleted.installationGroups).toBeUndefined();
    expect(Object.keys(await states(h))).toEqual(['ring-2', 'ring-3']);
    // The groups are gone from Elrond: the names can be registered again on another ring.
    const again = await h.api('POST', `/ring/${r2.id}/installationgroup`, { name: r1.groups[0]!.name, provisionerGroupID: r1.groups[0]!.provisionerGroupId });
    expect(again.status).toBe(200);
    // Elrond never touched the provisioner for creation or deletion.
    expect(h.provisioner.requests).toEqual([]);
    void r3;
  });
});

describe('releases walk rings by priority', () => {
  it('releases 4 rings in priority order (ties by creation), one at a time, with group and ring soaks', async () => {
    h = await startHarness();
    // Created out of order: priority decides, creation breaks the tie between c and d.
    const a = await h.ring('a', 3, { soak: 60, groupSoak: 10 });
    const b = await h.ring('b', 1, { soak: 60, groupSoak: 10, groups: 2 });
    const c = await h.ring('c', 2, { soak: 60, groupSoak: 10 });
    const d = await h.ring('d', 2, { soak: 60, groupSoak: 10 });
    await h.settle();

    const t0 = h.clock.now();
    const response = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    expect(response.status).toBe(202);
    expect(response.body.map((r: { Name: string; State: string }) => `${r.Name}:${r.State}`)).toEqual(['b:release-pending', 'c:release-pending', 'd:release-pending', 'a:release-pending']);
    await h.settle();
    // Only ring b started, and only its first group: groups roll one at a time.
    expect(putOrder(h)).toEqual([b.groups[0]!.provisionerGroupId]);
    expect(await states(h)).toEqual({ a: 'release-pending', b: 'release-in-progress', c: 'release-pending', d: 'release-pending' });
    expect((await h.getRing(c.id)).statusMessage).toMatch(/waiting for ring b/);

    const stableAt: Record<string, number> = {};
    await advanceUntil(
      h,
      async () => {
        const now = await states(h!);
        for (const [name, state] of Object.entries(now)) if (state === 'stable' && !(name in stableAt)) stableAt[name] = h!.clock.now() - t0;
        return Object.values(now).every((s) => s === 'stable');
      },
      {
        step: 5_000,
        maxMs: 10 * 60_000,
        invariant: async () => {
          const mid = Object.entries(await states(h!)).filter(([, s]) => MID_RELEASE.includes(s));
          expect(mid.length).toBeLessThanOrEqual(1);
        },
      },
    );
    // b: 2 groups × 10 s soak, then 60 s ring soak = 80 s; c, d, a: 10 + 60 = 70 s each.
    expect(stableAt).toEqual({ b: 80_000, c: 150_000, d: 220_000, a: 290_000 });
    expect(putOrder(h)).toEqual([b.groups[0]!, b.groups[1]!, c.groups[0]!, d.groups[0]!, a.groups[0]!].map((g) => g.provisionerGroupId));

    // The PUT is the original's PatchGroupRequest: Version and Image, env untouched (null), nothing else.
    expect(h.provisioner.puts()[0]).toEqual({ ID: b.groups[0]!.provisionerGroupId, MaxRolling: null, Name: null, Description: null, Version: 'v2', Image: IMAGE, MattermostEnv: null, ForceSequenceUpdate: false, ForceInstallationsRestart: false });
    // Per group: GET, PUT, then status polls until done, then a fresh GET — before the next group is touched.
    const perGroup = h.provisioner.requests.map((r) => `${r.route}:${r.path.split('/')[3]}`);
    const firstOfC = perGroup.findIndex((r) => r.endsWith(c.groups[0]!.provisionerGroupId));
    const bGroup0 = b.groups[0]!.provisionerGroupId;
    expect(perGroup.slice(0, 4)).toEqual([`getGroup:${bGroup0}`, `putGroup:${bGroup0}`, `getStatus:${bGroup0}`, `getGroup:${bGroup0}`]);
    expect(perGroup.slice(0, firstOfC).every((r) => r.includes(bGroup0) || r.includes(b.groups[1]!.provisionerGroupId))).toBe(true);

    for (const ring of [a, b, c, d]) {
      const json = await h.getRing(ring.id);
      expect(json.ActiveReleaseID).toBe(json.DesiredReleaseID);
      const release = await h.api('GET', `/release/${json.ActiveReleaseID}`);
      expect(release.body).toMatchObject({ Image: IMAGE, Version: 'v2', Force: false });
      for (const group of ring.groups) expect(h.provisioner.group(group.provisionerGroupId)!.Version).toBe('v2');
    }
    // The soaks show in the events: each group soaked, then the ring.
    const bEvents = (await h.events(b.id)).reverse();
    const transitions = bEvents.filter((e) => e.kind === 'ring.state' || e.kind === 'group.state').map((e) => `${e.installationGroupId ? 'g' : 'r'}:${e.newState}`);
    expect(transitions).toEqual([
      'r:creation-requested',
      'r:stable',
      'r:release-pending',
      'r:release-requested',
      'r:release-in-progress',
      'g:release-requested',
      'g:release-soaking-requested',
      'g:stable',
      'g:release-requested',
      'g:release-soaking-requested',
      'g:stable',
      'r:soaking-requested',
      'r:stable',
    ]);
  });

  it('a ring with a lower priority number that is paused still holds later rings back', async () => {
    h = await startHarness();
    const r1 = await h.ring('r1', 1, { soak: 10 });
    const r2 = await h.ring('r2', 2, { soak: 10 });
    await h.settle();
    // Release r1 only, pause it before the supervisor sees it, then release r2.
    await h.server.supervisor.loop.settle();
    expect((await h.api('POST', `/ring/${r1.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
    expect((await h.api('POST', '/rings/release/pause')).status).toBe(200);
    expect((await h.api('POST', `/ring/${r2.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
    await h.settle();
    expect(await states(h)).toEqual({ r1: 'release-paused', r2: 'release-pending' });
    expect((await h.getRing(r2.id)).statusMessage).toMatch(/waiting for ring r1/);
    expect(h.provisioner.puts()).toEqual([]);
    await h.api('POST', '/rings/release/resume');
    await h.settle();
    expect(putOrder(h)).toEqual([r1.groups[0]!.provisionerGroupId]);
  });
});

describe('forced releases', () => {
  it('force skips ring gating and every soak; groups inside a ring still roll one at a time', async () => {
    h = await startHarness({ settleInstantly: false, provisioner: { rolloutDurationMs: 5_000 } });
    const rings = [await h.ring('f1', 1, { soak: 3600, groupSoak: 600, groups: 2 }), await h.ring('f2', 2, { soak: 3600, groupSoak: 600, groups: 2 }), await h.ring('f3', 3, { soak: 3600, groupSoak: 600, groups: 2 })];
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2', force: true })).status).toBe(202);
    await h.settle();
    // Every ring started at once; each has exactly one group rolling.
    expect(await states(h)).toEqual({ f1: 'release-in-progress', f2: 'release-in-progress', f3: 'release-in-progress' });
    expect(putOrder(h).sort()).toEqual(rings.map((r) => r.groups[0]!.provisionerGroupId).sort());
    for (const ring of rings) {
      const json = await h.getRing(ring.id);
      expect(json.installationGroups.map((g: { state: string }) => g.state)).toEqual(['release-requested', 'release-pending']);
    }
    await h.advance(5_000);
    expect(putOrder(h)).toHaveLength(6);
    await h.advance(5_000);
    expect(await states(h)).toEqual({ f1: 'stable', f2: 'stable', f3: 'stable' });
    // 10 s in total: no group soak (600 s) and no ring soak (3600 s).
    for (const ring of rings) {
      const events = await h.events(ring.id);
      expect(events.some((e) => e.newState === 'soaking-requested' || e.newState === 'release-soaking-requested')).toBe(false);
      const json = await h.getRing(ring.id);
      expect(json.ActiveReleaseID).toBe(json.DesiredReleaseID);
      expect((await h.api('GET', `/release/${json.ActiveReleaseID}`)).body.Force).toBe(true);
    }
  });

  it('a forced release is never delayed by a long soak elsewhere', async () => {
    h = await startHarness();
    const r1 = await h.ring('r1', 1, { soak: 7200 });
    const r2 = await h.ring('r2', 2, { soak: 60 });
    const r3 = await h.ring('r3', 3, { soak: 7200, groupSoak: 3600 });
    await h.settle();
    await h.api('POST', `/ring/${r1.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    expect((await h.getRing(r1.id)).State).toBe('soaking-requested');
    await h.advance(60_000);

    // A normal release of r2 waits for r1's soak; a forced release of r3 goes right through.
    await h.api('POST', `/ring/${r2.id}/release`, { image: IMAGE, version: 'v2' });
    await h.api('POST', `/ring/${r3.id}/release`, { image: IMAGE, version: 'hotfix', force: true });
    await h.settle();
    expect(await states(h)).toEqual({ r1: 'soaking-requested', r2: 'release-pending', r3: 'stable' });
    expect(h.provisioner.group(r3.groups[0]!.provisionerGroupId)!.Version).toBe('hotfix');
    expect(h.provisioner.puts(r2.groups[0]!.provisionerGroupId)).toEqual([]);
    const r1json = await h.getRing(r1.id);
    expect(r1json.soakRemainingSeconds).toBe(7200 - 60);

    await h.advance(7200_000 - 60_000);
    expect((await h.getRing(r1.id)).State).toBe('stable');
    expect(h.provisioner.puts(r2.groups[0]!.provisionerGroupId)).toHaveLength(1);
  });

  it('a provisioner call that hangs for one ring does not hold up a release of another', async () => {
    h = await startHarness({ provisionerTimeoutMs: 2_000 });
    const slow = await h.ring('slow', 1, { soak: 1 });
    const fast = await h.ring('fast', 2, { soak: 1 });
    await h.settle();
    // The loops run on their own from here (API requests nudge them), as in production.
    h.server.supervisor.start();
    h.provisioner.hangNext('getGroup');
    await h.api('POST', `/ring/${slow.id}/release`, { image: IMAGE, version: 'v2', force: true });
    const waitFor = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await waitFor(async () => h!.provisioner.requests.length > 0);
    await h.api('POST', `/ring/${fast.id}/release`, { image: IMAGE, version: 'v2', force: true });
    await waitFor(async () => (await h!.getRing(fast.id)).State === 'stable');
    expect((await h.getRing(fast.id)).State).toBe('stable');
    expect((await h.getRing(slow.id)).installationGroups[0].state).toBe('release-requested');
    expect(h.provisioner.puts().map((p) => p.ID)).toEqual([fast.groups[0]!.provisionerGroupId]);
  });

  it('maxParallelGroups rolls that many groups of a ring at once', async () => {
    h = await startHarness({ settleInstantly: false, provisioner: { rolloutDurationMs: 5_000 }, config: { maxParallelGroups: 2 } });
    const ring = await h.ring('wide', 1, { groups: 3, soak: 1 });
    await h.settle();
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    // The two PUTs go out at the same time: their order is not defined.
    expect([...putOrder(h)].sort()).toEqual([ring.groups[0]!.provisionerGroupId, ring.groups[1]!.provisionerGroupId].sort());
    await h.advance(5_000);
    expect(putOrder(h)).toHaveLength(3);
    await h.advance(5_000);
    await h.advance(1_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
  });
});

describe('environment variables', () => {
  it('merges release env into the group: NAME:VALUE adds or replaces, NAME: deletes, others are kept', async () => {
    h = await startHarness();
    const ring = await h.ring('env', 1, { env: { REPLACED: { value: 'old' }, DELETED: { value: 'x' }, KEPT: { value: 'k' } } });
    await h.settle();
    const pgid = ring.groups[0]!.provisionerGroupId;
    const env = { REPLACED: { value: 'new' }, DELETED: { value: '' }, ADDED: { value: 'https://x:8065' } };
    expect((await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2', EnvVariables: env })).status).toBe(202);
    await h.settle();
    await h.advance(1_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    expect(h.provisioner.puts(pgid)).toEqual([expect.objectContaining({ Version: 'v2', Image: IMAGE, MattermostEnv: env })]);
    expect(h.provisioner.group(pgid)!.MattermostEnv).toEqual({ REPLACED: { value: 'new' }, KEPT: { value: 'k' }, ADDED: { value: 'https://x:8065' } });
  });

  it('a deletion onto a group whose env is null is not sent (it would be stored blank), and the release completes', async () => {
    h = await startHarness();
    const ring = await h.ring('nullenv', 1);
    await h.settle();
    const pgid = ring.groups[0]!.provisionerGroupId;
    expect(h.provisioner.group(pgid)!.MattermostEnv).toBeNull();
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2', EnvVariables: { GONE: { value: '' }, NEW: { value: 'n' } } });
    await h.settle();
    await h.advance(1_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    expect(h.provisioner.puts(pgid)).toEqual([expect.objectContaining({ Version: 'v2', MattermostEnv: { NEW: { value: 'n' } } })]);
    expect(h.provisioner.group(pgid)!.MattermostEnv).toEqual({ NEW: { value: 'n' } });

    // Only a deletion of a name the group lacks, with a new version: the PUT leaves the env alone (null, never {}).
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v3', EnvVariables: { GONE: { value: '' } } });
    await h.settle();
    await h.advance(1_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    expect(h.provisioner.puts(pgid)[1]).toMatchObject({ Version: 'v3', MattermostEnv: null });
    // A deletion of a name it has is sent, and removes it.
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v3', EnvVariables: { NEW: { value: '' }, GONE: { value: '' } } });
    await h.settle();
    await h.advance(1_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    expect(h.provisioner.puts(pgid)[2]).toMatchObject({ Version: 'v3', MattermostEnv: { NEW: { value: '' } } });
    expect(h.provisioner.group(pgid)!.MattermostEnv).toEqual({});
    // Never {} (that clears every variable).
    for (const put of h.provisioner.puts(pgid)) expect(put.MattermostEnv).not.toEqual({});
  });

  it('valueFrom releases (secretKeyRef, resourceFieldRef) land, compared by meaning, and are never PUT again', async () => {
    h = await startHarness();
    const ring = await h.ring('vf', 1);
    await h.settle();
    const pgid = ring.groups[0]!.provisionerGroupId;
    const env = {
      DB: { valueFrom: { secretKeyRef: { key: 'dsn', name: 'db' } } },
      MEM: { valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1024Ki' } } },
      CPU: { valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
    };
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2', EnvVariables: env });
    await h.settle();
    await h.advance(1_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    expect(h.provisioner.puts(pgid)).toEqual([expect.objectContaining({ Version: 'v2', MattermostEnv: env })]);
    // The provisioner keeps them as Go writes them back.
    const stored = await (await fetch(`${h.provisioner.url}/api/group/${pgid}`)).text();
    expect(stored).toContain(
      '"MattermostEnv":{"CPU":{"valueFrom":{"resourceFieldRef":{"resource":"limits.cpu","divisor":"0"}}},' +
        '"DB":{"valueFrom":{"secretKeyRef":{"name":"db","key":"dsn"}}},' +
        '"MEM":{"valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}}}',
    );

    // The next version with the same env: the group has it already, so the PUT carries no env.
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v3', EnvVariables: env });
    await h.settle();
    await h.advance(1_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    expect(h.provisioner.puts(pgid)).toHaveLength(2);
    expect(h.provisioner.puts(pgid)[1]).toMatchObject({ Version: 'v3', MattermostEnv: null });
    expect(h.provisioner.group(pgid)!.Sequence).toBe(2);

    // A group that already carries the same sources, spelled as Go writes them: an env-only release sends nothing.
    const other = await h.ring('vf-other', 2, { env: { DB: { valueFrom: { secretKeyRef: { name: 'db', key: 'dsn' } } }, CPU: { valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } } } });
    await h.settle();
    await h.api('POST', `/ring/${other.id}/release`, { EnvVariables: { DB: env.DB, CPU: env.CPU } });
    await h.settle();
    await h.advance(1_000);
    expect((await h.getRing(other.id)).State).toBe('stable');
    expect(h.provisioner.puts(other.groups[0]!.provisionerGroupId)).toEqual([]);
  });

  it('a valueFrom field Kubernetes does not know is dropped by the provisioner: the release fails naming the variable', async () => {
    h = await startHarness();
    const ring = await h.ring('vf-unknown', 1);
    await h.settle();
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2', EnvVariables: { CONF: { valueFrom: { fileKeyRef: { path: 'app.env', key: 'CONF' } } } } });
    await h.settle();
    await h.advance(1_000);
    const json = await h.getRing(ring.id);
    expect(json.State).toBe('release-failed');
    expect(json.installationGroups[0].failureReason).toMatch(/not stored as sent\): environment variables differ from the release: CONF$/);
  });

  it('an env-only release (same image and version) is released, on one ring and on all rings', async () => {
    h = await startHarness();
    const r1 = await h.ring('e1', 1, { env: { A: { value: '1' } } });
    const r2 = await h.ring('e2', 2, { env: { A: { value: '1' } } });
    await h.settle();
    // Single ring, no image/version given: the ring's current ones are kept.
    await h.api('POST', `/ring/${r1.id}/release`, { EnvVariables: { B: { value: '2' } } });
    await h.settle();
    await h.advance(1_000);
    expect(h.provisioner.puts(r1.groups[0]!.provisionerGroupId)).toEqual([expect.objectContaining({ Version: 'v1', Image: IMAGE, MattermostEnv: { B: { value: '2' } } })]);
    expect(h.provisioner.group(r1.groups[0]!.provisionerGroupId)!.MattermostEnv).toEqual({ A: { value: '1' }, B: { value: '2' } });

    // All rings with an env change and the same image/version: both rings differ from it, so both release.
    const all = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v1', EnvVariables: { C: { value: '3' } } });
    expect(all.body.map((r: { State: string }) => r.State)).toEqual(['release-pending', 'release-pending']);
    await h.settle();
    await h.advance(1_000);
    await h.advance(1_000);
    expect(await states(h)).toEqual({ e1: 'stable', e2: 'stable' });
    expect(h.provisioner.group(r2.groups[0]!.provisionerGroupId)!.MattermostEnv).toEqual({ A: { value: '1' }, C: { value: '3' } });
    expect(h.provisioner.group(r1.groups[0]!.provisionerGroupId)!.MattermostEnv).toEqual({ A: { value: '1' }, B: { value: '2' }, C: { value: '3' } });

    // The same again changes nothing: every ring's active release is already it.
    const before = h.provisioner.requests.length;
    const same = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v1', EnvVariables: { C: { value: '3' } } });
    expect(same.status).toBe(202);
    expect(same.body.map((r: { State: string }) => r.State)).toEqual(['stable', 'stable']);
    await h.settle();
    expect(h.provisioner.requests.length).toBe(before);
  });

  it('re-releasing the active version to all rings leaves them untouched', async () => {
    h = await startHarness();
    await h.ring('s1', 1);
    await h.ring('s2', 2);
    await h.settle();
    const eventsBefore = (await h.events()).length;
    const response = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v1' });
    expect(response.status).toBe(202);
    expect(response.body.map((r: { State: string }) => r.State)).toEqual(['stable', 'stable']);
    await h.settle();
    expect(h.provisioner.requests).toEqual([]);
    expect((await h.events()).length).toBe(eventsBefore);
  });
});

describe('failure and retry', () => {
  it('a group failure fails its ring with the reason; later rings of the release never start; re-issuing retries without re-patching', async () => {
    h = await startHarness();
    const r1 = await h.ring('one', 1, { groups: 2, groupSoak: 10, soak: 10 });
    const r2 = await h.ring('two', 2, { soak: 10 });
    const r3 = await h.ring('three', 3, { soak: 10 });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    expect(putOrder(h)).toEqual([r1.groups[0]!.provisionerGroupId]);
    // The second group's PUT is refused as invalid.
    h.provisioner.failNext('putGroup', 400);
    await h.advance(10_000);

    const failed = await h.getRing(r1.id);
    expect(failed.State).toBe('release-failed');
    expect(failed.failureReason).toContain(r1.groups[1]!.name);
    expect(failed.failureReason).toMatch(/invalid \(400\)/);
    const groups = Object.fromEntries(failed.installationGroups.map((g: { name: string; state: string; failureReason: string | null }) => [g.name, g]));
    expect(groups[r1.groups[0]!.name].state).toBe('stable');
    expect(groups[r1.groups[1]!.name].state).toBe('release-failed');
    expect(groups[r1.groups[1]!.name].failureReason).toMatch(/400/);
    for (const later of [r2, r3]) {
      const json = await h.getRing(later.id);
      expect(json.State).toBe('release-failed');
      expect(json.failureReason).toMatch(/not started: ring one failed/);
      expect(h.provisioner.puts(later.groups[0]!.provisionerGroupId)).toEqual([]);
    }
    await h.advance(60_000);
    expect(putOrder(h)).toHaveLength(2);
    const failureEvents = (await h.events(r1.id)).filter((e) => e.newState === 'release-failed');
    expect(failureEvents.map((e) => (e.installationGroupId ? 'group' : 'ring')).sort()).toEqual(['group', 'ring']);

    // Re-issue: the group already on v2 is read but not patched again.
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await advanceUntil(h, async () => Object.values(await states(h!)).every((s) => s === 'stable'), { step: 5_000, maxMs: 300_000 });
    expect(h.provisioner.puts(r1.groups[0]!.provisionerGroupId)).toHaveLength(1);
    expect(h.provisioner.puts(r1.groups[1]!.provisionerGroupId)).toHaveLength(2);
    expect(putOrder(h).slice(2)).toEqual([r1.groups[1]!.provisionerGroupId, r2.groups[0]!.provisionerGroupId, r3.groups[0]!.provisionerGroupId]);
    const skipped = (await h.events(r1.id)).find((e) => e.installationGroupId === r1.groups[0]!.id && /already carries/.test(e.message));
    expect(skipped?.message).toContain(r1.groups[0]!.provisionerGroupId);
    expect((await h.getRing(r1.id)).failureReason).toBeNull();
  });
});

describe('failure inside a ring', () => {
  it('groups of a failed ring that had not started are left untouched, saying why', async () => {
    h = await startHarness();
    const ring = await h.ring('trio', 1, { groups: 3 });
    await h.settle();
    h.provisioner.failNext('putGroup', 404);
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    const json = await h.getRing(ring.id);
    expect(json.State).toBe('release-failed');
    expect(json.installationGroups.map((g: { state: string }) => g.state)).toEqual(['release-failed', 'stable', 'stable']);
    expect(json.installationGroups[1].statusMessage).toBe('not started: ring trio failed');
    expect(h.provisioner.puts()).toHaveLength(1);
  });
});

describe('pause, resume, cancel', () => {
  it('pauses pending rings only, resumes them, and cancels pending rings back to their active release', async () => {
    h = await startHarness();
    const r1 = await h.ring('p1', 1, { soak: 30 });
    const r2 = await h.ring('p2', 2, { soak: 30 });
    const r3 = await h.ring('p3', 3, { soak: 30 });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    expect((await h.api('POST', '/rings/release/pause')).status).toBe(200);
    // r1 was already in progress: untouched. r2 and r3 paused.
    expect(await states(h)).toEqual({ p1: 'soaking-requested', p2: 'release-paused', p3: 'release-paused' });
    await h.advance(30_000);
    await h.advance(60_000);
    expect(await states(h)).toEqual({ p1: 'stable', p2: 'release-paused', p3: 'release-paused' });
    expect((await h.getRing(r2.id)).statusMessage).toMatch(/paused/);
    expect(putOrder(h)).toEqual([r1.groups[0]!.provisionerGroupId]);

    expect((await h.api('POST', '/rings/release/resume')).status).toBe(200);
    await h.settle();
    expect(await states(h)).toEqual({ p1: 'stable', p2: 'soaking-requested', p3: 'release-pending' });
    expect((await h.api('POST', '/rings/release/cancel')).status).toBe(200);
    expect(await states(h)).toEqual({ p1: 'stable', p2: 'soaking-requested', p3: 'stable' });
    const r3json = await h.getRing(r3.id);
    expect(r3json.DesiredReleaseID).toBe(r3json.ActiveReleaseID);
    await h.advance(30_000);
    expect(await states(h)).toEqual({ p1: 'stable', p2: 'stable', p3: 'stable' });
    expect(putOrder(h)).toEqual([r1.groups[0]!.provisionerGroupId, r2.groups[0]!.provisionerGroupId]);
    expect(h.provisioner.group(r3.groups[0]!.provisionerGroupId)!.Version).toBe('v1');
  });
});

describe('API guards while releasing', () => {
  it('answers 403 on an API-locked ring and 409 while a supervisor holds the ring', async () => {
    h = await startHarness();
    const r1 = await h.ring('g1', 1);
    const r2 = await h.ring('g2', 2);
    await h.settle();
    await h.api('POST', `/security/ring/${r1.id}/api/lock`);
    expect((await h.api('POST', `/ring/${r1.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(403);
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(403);
    expect((await h.api('DELETE', `/ring/${r1.id}`)).status).toBe(403);
    expect((await h.getRing(r2.id)).State).toBe('stable');
    await h.api('POST', `/security/ring/${r1.id}/api/unlock`);

    // Another process is mid-step on r2 (holds its lease): requests on it get 409 until the lease ends.
    expect(await acquireLease(h.server.store.db, 'rings', r2.id, 'other-process', h.clock.now(), 60_000)).toBe(true);
    const busy = await h.api('POST', `/ring/${r2.id}/release`, { image: IMAGE, version: 'v2' });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatch(/other-process/);
    h.clock.advance(61_000);
    expect((await h.api('POST', `/ring/${r2.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
  });
});
