/**
 * REST API — releases (elrond-behaviour.md §3): single ring, all rings, pause/resume/cancel, get release,
 * and Elrond's additions: rollback (one ring, all rings) and the event log.
 * Fixed bugs: a request on a pending ring replaces its release; an env-only all-rings release releases.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { TEST_DIALECTS } from './helpers/temp-database.js';
import { newId } from '../src/model/ids.js';

const RELEASE_KEYS = ['ID', 'Image', 'Version', 'EnvVariables', 'CreateAt', 'Force'];
const EVENT_KEYS = ['id', 'at', 'actor', 'source', 'kind', 'ringId', 'installationGroupId', 'rolloutId', 'oldState', 'newState', 'message', 'data'];

async function counts(h: Harness) {
  const db = h.server.store.db;
  const n = async (table: 'rings' | 'events' | 'releases' | 'rollouts') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { rings: await n('rings'), events: await n('events'), releases: await n('releases'), rollouts: await n('rollouts') };
}

/** Every ring's id → state, desired release. */
async function snapshot(h: Harness) {
  const rings = (await h.api('GET', '/rings?per_page=-1')).body as any[];
  return Object.fromEntries(rings.map((r) => [r.Name, { State: r.State, DesiredReleaseID: r.DesiredReleaseID, ActiveReleaseID: r.ActiveReleaseID }]));
}

async function releaseOf(h: Harness, id: string) {
  const reply = await h.api('GET', `/release/${id}`);
  expect(reply.status).toBe(200);
  return reply.body;
}

for (const dialect of TEST_DIALECTS) {
  describe(`releases API (${dialect})`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness({ dialect });
    });
    afterEach(async () => {
      await h.close();
    });

    it('POST /ring/{id}/release: 202, release-pending with a new desired release, then rolls out; ReleaseAt in ns', async () => {
      const ring = await h.ring('single', 1, { soak: 60 });
      await h.settle();
      const before = (await h.api('GET', `/ring/${ring.id}`)).body;
      expect(before.State).toBe('stable');

      const requestedAt = h.clock.now();
      const reply = await h.api('POST', `/ring/${ring.id}/release`, { Image: IMAGE, VERSION: 'v2', envvariables: { MM_X: { value: '1' } } });
      expect(reply.status).toBe(202);
      expect(reply.body).toMatchObject({ ID: ring.id, State: 'release-pending', ActiveReleaseID: before.ActiveReleaseID });
      expect(reply.body.DesiredReleaseID).not.toBe(before.ActiveReleaseID);

      const release = await releaseOf(h, reply.body.DesiredReleaseID);
      expect(Object.keys(release).sort()).toEqual([...RELEASE_KEYS].sort());
      expect(release).toEqual({ ID: reply.body.DesiredReleaseID, Image: IMAGE, Version: 'v2', EnvVariables: { MM_X: { value: '1' } }, CreateAt: requestedAt * 1_000_000, Force: false });

      h.clock.advance(1000);
      await h.settle();
      const patched = h.provisioner.puts(ring.groups[0]!.provisionerGroupId);
      expect(patched.at(-1)).toMatchObject({ Version: 'v2', Image: IMAGE });
      const soaking = (await h.api('GET', `/ring/${ring.id}`)).body;
      expect(soaking.State).toBe('soaking-requested');
      expect(soaking.ReleaseAt).toBe(h.clock.now() * 1_000_000);
      await h.advance(60_000);
      const done = (await h.api('GET', `/ring/${ring.id}`)).body;
      expect(done).toMatchObject({ State: 'stable', ActiveReleaseID: reply.body.DesiredReleaseID, DesiredReleaseID: reply.body.DesiredReleaseID });
      // Nanoseconds (the original's time.Now().UnixNano()), written as a plain integer a Go int64 decodes.
      expect(Number.isInteger(done.ReleaseAt)).toBe(true);
      const releasedAtMs = Math.round(done.ReleaseAt / 1_000_000);
      expect(releasedAtMs).toBeGreaterThanOrEqual(requestedAt);
      expect(releasedAtMs).toBeLessThanOrEqual(h.clock.now());
      const text = await (await fetch(`${h.server.url}/api/ring/${ring.id}`)).text();
      expect(text).toMatch(/"ReleaseAt":\d{19},/);
    });

    it('an EnvVariables entry of null deletes the variable, as Go decodes it (REST release and plan)', async () => {
      const ring = await h.ring('envnull', 1, { soak: 0, env: { MM_OLD: { value: 'old' }, MM_KEEP: { value: 'kept' } } });
      await h.settle();
      const body = { Image: IMAGE, Version: 'v1', EnvVariables: { MM_OLD: null, MM_NEW: { value: 'new' } } };
      const plan = await h.api('POST', `/ring/${ring.id}/release/plan`, body);
      expect(plan.status).toBe(200);
      expect(plan.body.release.envVariables).toEqual({ MM_OLD: '(delete)', MM_NEW: 'new' });
      const reply = await h.api('POST', `/ring/${ring.id}/release`, body);
      expect(reply.status).toBe(202);
      const release = await releaseOf(h, reply.body.DesiredReleaseID);
      expect(Object.keys(release.EnvVariables).sort()).toEqual(['MM_NEW', 'MM_OLD']);
      expect(release.EnvVariables.MM_OLD.value ?? '').toBe('');
      await h.settle();
      expect((await h.getRing(ring.id)).State).toBe('stable');
      // What the provisioner group ends with: MM_OLD gone, MM_KEEP kept, MM_NEW added.
      expect(h.provisioner.group(ring.groups[0]!.provisionerGroupId)!.MattermostEnv).toEqual({ MM_KEEP: { value: 'kept' }, MM_NEW: { value: 'new' } });
    });

    it('a release request on a ring still pending replaces its pending release', async () => {
      const first = await h.ring('first', 1, { soak: 600 });
      const second = await h.ring('second', 2);
      await h.settle();
      expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
      await h.settle();
      expect((await h.api('GET', `/ring/${first.id}`)).body.State).toBe('soaking-requested');
      const pending = (await h.api('GET', `/ring/${second.id}`)).body;
      expect(pending.State).toBe('release-pending');
      expect((await releaseOf(h, pending.DesiredReleaseID)).Version).toBe('v2');

      const replaced = await h.api('POST', `/ring/${second.id}/release`, { image: IMAGE, version: 'v3' });
      expect(replaced.status).toBe(202);
      expect(replaced.body.State).toBe('release-pending');
      expect(replaced.body.DesiredReleaseID).not.toBe(pending.DesiredReleaseID);
      expect((await releaseOf(h, replaced.body.DesiredReleaseID)).Version).toBe('v3');

      await h.advance(600_000); // first's soak ends; second goes, with v3
      await h.advance(10_000);
      expect(h.provisioner.puts(second.groups[0]!.provisionerGroupId).map((p) => p.Version)).toEqual(['v3']);
      expect((await h.api('GET', `/ring/${second.id}`)).body).toMatchObject({ State: 'stable', ActiveReleaseID: replaced.body.DesiredReleaseID });
    });

    it('single-ring release: bad bodies are 400 naming the field; wrong states 400; nothing written', async () => {
      const ring = await h.ring('checks', 1);
      const bare = (await h.api('POST', '/rings', { name: 'bare', priority: 2 })).body;
      await h.settle();
      const before = await counts(h);
      const cases: Array<[string, unknown, RegExp]> = [
        [ring.id, { image: IMAGE, version: 5 }, /version: Expected string, received number/],
        [ring.id, { image: 'UPPER/Case', version: 'v2' }, /image: must be a docker image name/],
        [ring.id, { image: IMAGE, version: 'v2', force: 'yes' }, /force: Expected boolean/],
        [ring.id, { image: IMAGE, version: 'v2', EnvVariables: [] }, /EnvVariables must be an object like/],
        [ring.id, { image: IMAGE, version: 'v2', EnvVariables: { '1BAD': { value: 'x' } } }, /EnvVariables: "1BAD" is not a valid variable name/],
        [ring.id, { image: IMAGE, version: 'v2', EnvVariables: { GOOD: 'x' } }, /EnvVariables\.GOOD must be an object like \{"value":"v"\}/],
        [ring.id, { image: IMAGE, version: 'v2', EnvVariables: { GOOD: { value: 1 } } }, /EnvVariables\.GOOD\.value must be a string/],
        [ring.id, { image: IMAGE, version: 'v2', reason: 'r'.repeat(501) }, /reason: must be at most 500 characters/],
        [bare.ID, { version: 'v2' }, /ring bare has no release yet, so both image and version are needed/],
        [ring.id, '"v2"', /must be a JSON object/],
      ];
      for (const [id, body, message] of cases) {
        const reply = await h.api('POST', `/ring/${id}/release`, body);
        expect({ body, status: reply.status }).toEqual({ body, status: 400 });
        expect(reply.body.error).toMatch(message);
      }
      expect((await h.api('DELETE', `/ring/${bare.ID}`)).status).toBe(202);
      const afterDelete = await counts(h);
      const deleting = await h.api('POST', `/ring/${bare.ID}/release`, { image: IMAGE, version: 'v2' });
      expect(deleting.status).toBe(400);
      expect(deleting.body.error).toMatch(/is deletion-requested, so it cannot move to release-pending: release-pending can be requested from: stable, release-pending/);
      expect(await counts(h)).toEqual(afterDelete);
      expect(afterDelete.releases).toBe(before.releases);
      expect(afterDelete.rollouts).toBe(before.rollouts);
    });

    it('POST /rings/release: 202 + every ring; identical release changes nothing; an env-only change releases', async () => {
      const r1 = await h.ring('all-1', 1);
      const r2 = await h.ring('all-2', 2);
      await h.settle();
      const before = await snapshot(h);

      const same = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v1' });
      expect(same.status).toBe(202);
      expect(same.body.map((r: any) => r.ID)).toEqual([r1.id, r2.id]);
      expect(same.body.map((r: any) => r.State)).toEqual(['stable', 'stable']);
      expect(await snapshot(h)).toEqual(before);

      const env = await h.api('POST', '/rings/release', { Image: IMAGE, Version: 'v1', EnvVariables: { MM_FEATURE: { value: 'on' } } });
      expect(env.status).toBe(202);
      expect(env.body.map((r: any) => r.State)).toEqual(['release-pending', 'release-pending']);
      expect(env.body[0].DesiredReleaseID).toBe(env.body[1].DesiredReleaseID);
      expect(await releaseOf(h, env.body[0].DesiredReleaseID)).toMatchObject({ Image: IMAGE, Version: 'v1', EnvVariables: { MM_FEATURE: { value: 'on' } } });
      await h.settle();
      expect(h.provisioner.puts(r1.groups[0]!.provisionerGroupId).at(-1)).toMatchObject({ MattermostEnv: { MM_FEATURE: { value: 'on' } } });
    });

    it('POST /rings/release replaces the release of rings still pending; a ring mid-release refuses the whole request', async () => {
      const r1 = await h.ring('mid-1', 1, { soak: 600 });
      const r2 = await h.ring('mid-2', 2);
      await h.settle();
      const v2 = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
      const v3 = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v3', force: false });
      expect(v3.status).toBe(202);
      expect(v3.body.map((r: any) => r.State)).toEqual(['release-pending', 'release-pending']);
      expect(v3.body[0].DesiredReleaseID).not.toBe(v2.body[0].DesiredReleaseID);
      expect((await releaseOf(h, v3.body[1].DesiredReleaseID)).Version).toBe('v3');

      await h.settle();
      expect((await h.api('GET', `/ring/${r1.id}`)).body.State).toBe('soaking-requested');
      const before = await snapshot(h);
      const counted = await counts(h);
      const refused = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v4' });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatch(/ring mid-1 \(\w{26}\) is soaking-requested, so it cannot move to release-pending/);
      expect(await snapshot(h)).toEqual(before);
      expect(await counts(h)).toEqual(counted);
      expect((await h.api('GET', `/ring/${r2.id}`)).body.State).toBe('release-pending');
    });

    it('POST /rings/release: bad bodies are 400 naming the field; with no rings it is 202 []', async () => {
      expect(await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).toEqual({ status: 202, body: [] });
      await h.ring('v', 1);
      await h.settle();
      const before = await counts(h);
      const cases: Array<[unknown, RegExp]> = [
        [{}, /image and version are required to release all rings/],
        [{ image: IMAGE }, /image and version are required/],
        [{ image: IMAGE, version: 'bad version' }, /version: must be a docker tag/],
        [{ image: IMAGE, version: 'v2', force: 1 }, /force: Expected boolean/],
        [{ image: IMAGE, version: 'v2', envVariables: 'A=1' }, /EnvVariables must be an object/],
        ['not json', /not valid JSON/],
        [null, /image and version are required/],
      ];
      for (const [body, message] of cases) {
        const reply = await h.api('POST', '/rings/release', body === null ? 'null' : body);
        expect(reply.status).toBe(400);
        expect(reply.body.error).toMatch(message);
      }
      expect(await counts(h)).toEqual(before);
    });

    it('pause, resume and cancel answer 200 with no body and move only pending rings', async () => {
      const r1 = await h.ring('p-1', 1, { soak: 600 });
      const r2 = await h.ring('p-2', 2);
      const r3 = await h.ring('p-3', 3);
      await h.settle();
      await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
      await h.settle();
      const state = async () => (await h.api('GET', '/rings')).body.map((r: any) => r.State);
      expect(await state()).toEqual(['soaking-requested', 'release-pending', 'release-pending']);

      const call = async (path: string) => {
        const response = await fetch(`${h.server.url}/api${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
        return { status: response.status, text: await response.text() };
      };
      expect(await call('/rings/release/pause')).toEqual({ status: 200, text: '' });
      expect(await state()).toEqual(['soaking-requested', 'release-paused', 'release-paused']);
      await h.advance(600_000);
      expect(await state()).toEqual(['stable', 'release-paused', 'release-paused']);
      expect(h.provisioner.puts(r2.groups[0]!.provisionerGroupId)).toEqual([]);

      expect(await call('/rings/release/resume')).toEqual({ status: 200, text: '' });
      const resumed = (await h.api('GET', '/rings')).body;
      expect(resumed.map((r: any) => r.State).slice(1)).toEqual(['release-pending', 'release-pending']);

      expect(await call('/rings/release/cancel')).toEqual({ status: 200, text: '' });
      const cancelled = (await h.api('GET', '/rings')).body;
      expect(cancelled.map((r: any) => r.State)).toEqual(['stable', 'stable', 'stable']);
      for (const ring of cancelled) expect(ring.DesiredReleaseID).toBe(ring.ActiveReleaseID);
      expect((await releaseOf(h, cancelled[2].ActiveReleaseID)).Version).toBe('v1');
      expect((await releaseOf(h, cancelled[0].ActiveReleaseID)).Version).toBe('v2');
      void r1;
      void r3;
      // Nothing pending: all three still answer 200 and change nothing.
      for (const path of ['/rings/release/pause', '/rings/release/resume', '/rings/release/cancel']) expect((await call(path)).status).toBe(200);
    });

    it('GET /release/{id}: 200 with the release; 404 for unknown and malformed ids', async () => {
      const ring = (await h.api('POST', '/rings', { name: 'rel', priority: 1, image: IMAGE, version: 'v7' })).body;
      const release = await h.api('GET', `/release/${ring.ActiveReleaseID}`);
      expect(release).toEqual({ status: 200, body: { ID: ring.ActiveReleaseID, Image: IMAGE, Version: 'v7', EnvVariables: null, CreateAt: h.clock.now() * 1_000_000, Force: false } });
      for (const id of [newId(), 'short', 'x'.repeat(27)]) {
        const reply = await h.api('GET', `/release/${id}`);
        expect(reply.status).toBe(404);
        expect(reply.body.error).toMatch(new RegExp(`release ${id} not found`));
      }
      await h.settle();
      const forced = await h.api('POST', `/ring/${ring.ID}/release`, { image: IMAGE, version: 'v8', force: true });
      expect(forced.status).toBe(202);
      expect((await releaseOf(h, forced.body.DesiredReleaseID)).Force).toBe(true);
    });

    it('POST /ring/{id}/rollback puts the previous release back; POST /rings/rollback undoes the newest release', async () => {
      const r1 = await h.ring('rb-1', 1);
      const r2 = await h.ring('rb-2', 2);
      await h.settle();
      const v1 = (await h.api('GET', `/ring/${r1.id}`)).body.ActiveReleaseID;

      const nothing = await h.api('POST', `/ring/${r1.id}/rollback`, {});
      expect(nothing.status).toBe(400);
      expect(nothing.body.error).toMatch(/ring rb-1 has no previous release to roll back to/);
      const nothingAll = await h.api('POST', '/rings/rollback', {});
      expect(nothingAll.status).toBe(400);
      expect(nothingAll.body.error).toMatch(/no ring has a release to roll back/);

      await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
      for (let i = 0; i < 6; i++) await h.advance(2_000);
      const released = (await h.api('GET', '/rings')).body;
      expect(released.map((r: any) => r.State)).toEqual(['stable', 'stable']);
      const v2 = released[0].ActiveReleaseID;
      expect(v2).not.toBe(v1);

      const one = await h.api('POST', `/ring/${r1.id}/rollback`, { Reason: 'bad build' });
      expect(one.status).toBe(202);
      expect(one.body).toMatchObject({ ID: r1.id, State: 'release-rollback-requested', DesiredReleaseID: v1, ActiveReleaseID: v2 });
      const bad = await h.api('POST', `/ring/${r2.id}/rollback`, { reason: 5 });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/reason: Expected string/);
      for (let i = 0; i < 6; i++) await h.advance(2_000);
      expect((await h.api('GET', `/ring/${r1.id}`)).body).toMatchObject({ ActiveReleaseID: v1, DesiredReleaseID: v1 });
      expect(h.provisioner.puts(r1.groups[0]!.provisionerGroupId).map((p) => p.Version)).toEqual(['v2', 'v1']);
      const events = (await h.api('GET', `/events?ring=${r1.id}&limit=100`)).body;
      expect(events.some((e: any) => e.newState === 'release-rollback-requested' && /bad build/.test(e.message))).toBe(true);

      const all = await h.api('POST', '/rings/rollback', {});
      expect(all.status).toBe(202);
      expect(all.body.map((r: any) => [r.ID, r.State])).toEqual([
        [r1.id, expect.not.stringMatching(/rollback-requested/)],
        [r2.id, 'release-rollback-requested'],
      ]);
      expect(all.body[1].DesiredReleaseID).toBe(v1);
    });

    it('GET /events?ring=&limit= lists a ring\'s events, newest first; bad queries are 4xx', async () => {
      const ring = await h.ring('ev', 1);
      const other = await h.ring('ev-other', 2);
      await h.settle();
      await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
      const all = (await h.api('GET', `/events?ring=${ring.id}`)).body;
      expect(all.length).toBeGreaterThanOrEqual(4);
      for (const event of all) {
        expect(Object.keys(event).sort()).toEqual([...EVENT_KEYS].sort());
        expect(event.ringId).toBe(ring.id);
      }
      const ids = all.map((e: any) => e.id);
      expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
      expect(all[0]).toMatchObject({ kind: 'ring.state', oldState: 'stable', newState: 'release-pending', source: 'api' });
      const two = (await h.api('GET', `/events?ring=${ring.id}&limit=2`)).body;
      expect(two.map((e: any) => e.id)).toEqual(ids.slice(0, 2));
      const everyone = (await h.api('GET', '/events?limit=1000')).body;
      expect(new Set(everyone.map((e: any) => e.ringId))).toEqual(new Set([ring.id, other.id, null].filter((x) => everyone.some((e: any) => e.ringId === x))));
      expect(everyone.some((e: any) => e.ringId === other.id)).toBe(true);
      expect((await h.api('GET', `/events?ring=${newId()}`)).body).toEqual([]);

      const bad: Array<[string, number, RegExp]> = [
        ['ring=nope', 404, /ring nope not found/],
        ['limit=0', 400, /limit=0 is out of range: use 1 to 10000/],
        ['limit=10001', 400, /limit=10001 is out of range/],
        ['limit=ten', 400, /limit="ten" is not a whole number/],
        ['limit=1&limit=2', 400, /limit must be given once/],
        ['ring=%00', 400, /ring contains a NUL character/],
      ];
      for (const [query, status, message] of bad) {
        const reply = await h.api('GET', `/events?${query}`);
        expect({ query, status: reply.status }).toEqual({ query, status });
        expect(reply.body.error).toMatch(message);
      }
    });
  });
}

describe('GET /api/status: every ring at a glance', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('shows versions, groups done, the soak countdown and what each ring waits for, in release order', async () => {
    h = await startHarness();
    const prod = await h.ring('prod', 2, { soak: 0 });
    const canary = await h.ring('canary', 1, { soak: 60, groups: 2 });
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await h.settle();
    const during = await h.api('GET', '/status');
    expect(during.status).toBe(200);
    expect(during.body.map((r: { id: string }) => r.id)).toEqual([canary.id, prod.id]);
    const [c, p] = during.body;
    expect(c).toMatchObject({ name: 'canary', priority: 1, state: 'soaking-requested', desiredVersion: 'v2', groupsDone: 2, groupsTotal: 2, soakRemainingSeconds: 60 });
    expect(p).toMatchObject({ name: 'prod', activeVersion: 'v1', desiredVersion: 'v2', groupsDone: 0, groupsTotal: 1, soakRemainingSeconds: 0 });
    expect(p.doing).toMatch(/canary/);
    await h.advance(25_000);
    expect((await h.api('GET', '/status')).body[0].soakRemainingSeconds).toBe(35);
    await h.advance(35_000);
    while (await h.advanceToNextDeadline());
    const after = (await h.api('GET', '/status')).body;
    expect(after.map((r: { state: string; activeVersion: string; groupsDone: number }) => [r.state, r.activeVersion, r.groupsDone])).toEqual([
      ['stable', 'v2', 2],
      ['stable', 'v2', 1],
    ]);
  });
});
