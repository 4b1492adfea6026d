/**
 * REST API — rings (elrond-behaviour.md §3): create, list (paging, include_deleted), get, update, delete,
 * retry creation, and the row-lock 409. Runs on SQLite, and on Postgres when ELROND_TEST_POSTGRES_URL is set.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { TEST_DIALECTS } from './helpers/temp-database.js';
import { newId } from '../src/model/ids.js';
import { MAX_PER_PAGE, parsePaging } from '../src/http/query.js';

const RING_KEYS = [
  'ID',
  'Name',
  'Priority',
  'SoakTime',
  'State',
  'Provisioner',
  'ActiveReleaseID',
  'DesiredReleaseID',
  'CreateAt',
  'DeleteAt',
  'ReleaseAt',
  'APISecurityLock',
  'LockAcquiredBy',
  'LockAcquiredAt',
];
const GROUP_KEYS = ['id', 'name', 'state', 'releaseAt', 'soakTime', 'provisionerGroupID'];
const MALFORMED_IDS = ['abc', 'a'.repeat(25), 'a'.repeat(27), 'abcdefghijklmnopqrstuvwxy-', 'abcdefghijklmnopqrstuvwxy%21'];

/** A request with a raw body and headers; the reply's JSON (if any) and content type. */
async function raw(h: Harness, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${h.server.url}/api${path}`, { method, headers: { 'Content-Type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, json: text ? (JSON.parse(text) as any) : undefined };
}

async function counts(h: Harness) {
  const db = h.server.store.db;
  const n = async (table: 'rings' | 'installation_groups' | 'events' | 'releases' | 'rollouts') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { rings: await n('rings'), groups: await n('installation_groups'), events: await n('events'), releases: await n('releases'), rollouts: await n('rollouts') };
}

for (const dialect of TEST_DIALECTS) {
  describe(`rings API (${dialect})`, () => {
    let h: Harness;
    beforeEach(async () => {
      // A step holds a ring's lease for milliseconds; the tests below hold one for good, so waiting 1 s says "stuck".
      h = await startHarness({ dialect, leaseWaitMs: 1_000 });
    });
    afterEach(async () => {
      await h.close();
    });

    it('POST /rings creates a ring: 202, the original JSON keys, defaults, keys in any case', async () => {
      const created = await h.api('POST', '/rings', { NAME: 'alpha', Priority: 2, image: IMAGE, VERSION: 'v1' });
      expect(created.status).toBe(202);
      const ring = created.body;
      expect(Object.keys(ring)).toEqual(expect.arrayContaining(RING_KEYS));
      expect(ring).toMatchObject({
        Name: 'alpha',
        Priority: 2,
        SoakTime: 7200,
        State: 'creation-requested',
        Provisioner: 'elrond',
        CreateAt: h.clock.now(),
        DeleteAt: 0,
        ReleaseAt: 0,
        APISecurityLock: false,
        LockAcquiredBy: null,
        LockAcquiredAt: 0,
      });
      expect(ring.ID).toMatch(/^[a-z0-9]{26}$/);
      expect(ring.ActiveReleaseID).toBe(ring.DesiredReleaseID);
      expect(ring).not.toHaveProperty('installationGroups');

      const release = await h.api('GET', `/release/${ring.ActiveReleaseID}`);
      expect(release.status).toBe(200);
      expect(release.body).toMatchObject({ Image: IMAGE, Version: 'v1', EnvVariables: null, Force: false });

      await h.settle();
      expect((await h.api('GET', `/ring/${ring.ID}`)).body.State).toBe('stable');

      const locked = await h.api('POST', '/rings', { name: 'beta', priority: 1, SoakTime: 60, ApiSecurityLock: true });
      expect(locked.status).toBe(202);
      expect(locked.body).toMatchObject({ Name: 'beta', Priority: 1, SoakTime: 60, APISecurityLock: true });
    });

    it('POST /rings with an installationGroup creates and links the group in the same request', async () => {
      const created = await h.api('POST', '/rings', { name: 'gamma', priority: 1, installationGroup: { Name: 'gamma-ig', SoakTime: 30, ProvisionerGroupID: 'pg1' } });
      expect(created.status).toBe(202);
      expect(created.body.installationGroups).toHaveLength(1);
      const group = created.body.installationGroups[0];
      expect(Object.keys(group)).toEqual(expect.arrayContaining(GROUP_KEYS));
      expect(group).toMatchObject({ name: 'gamma-ig', state: 'stable', releaseAt: 0, soakTime: 30, provisionerGroupID: 'pg1' });
      expect(group.id).toMatch(/^[a-z0-9]{26}$/);
      const fetched = await h.api('GET', `/ring/${created.body.ID}`);
      expect(fetched.body.installationGroups).toEqual([expect.objectContaining({ id: group.id, name: 'gamma-ig' })]);
    });

    it('rejects malformed create requests with a 4xx JSON error naming the field, and writes nothing', async () => {
      await h.api('POST', '/rings', { name: 'existing', priority: 1 });
      const before = await counts(h);
      const cases: Array<[unknown, RegExp, number?]> = [
        [{ name: 'x', priority: 0 }, /priority: must not be 0: lower numbers release first/],
        [{ name: 'x', priority: -1_000_001 }, /priority: must be at least -1000000/],
        [{ name: 'x', priority: 1.5 }, /priority: must be a whole number/],
        [{ name: 'x', priority: '1' }, /priority: must be a number/],
        [{ name: 'x' }, /priority: is required/],
        // A name stays required (the Go Elrond took none), and the refusal says why.
        [{ priority: 1 }, /name: is required: a ring needs a name .*chat commands, release cards and "why" show rings by it/],
        [{ name: '', priority: 1 }, /name: must not be empty: a ring needs a name/],
        [{ name: '   ', priority: 1 }, /name: must not be empty: a ring needs a name/],
        [{ name: 'n'.repeat(129), priority: 1 }, /name: must be at most 128 characters/],
        [{ name: 'x', priority: 1, soakTime: -1 }, /soakTime: must not be negative/],
        [{ name: 'x', priority: 1, soakTime: 'long' }, /soakTime: must be a number of seconds/],
        [{ name: 'x', priority: 1, apiSecurityLock: 'yes' }, /apiSecurityLock/],
        [{ name: 'x', priority: 1, image: 'Not An Image!' }, /image: must be a docker image name/],
        [{ name: 'x', priority: 1, version: 'v 1' }, /version: must be a docker tag/],
        [{ name: 'x', priority: 1, installationGroup: { name: 'g' } }, /installationGroup\.provisionerGroupID: is required/],
        [{ name: 'x', priority: 1, installationGroup: 'g' }, /installationGroup/],
        [{ name: 'x', priority: 1, installationGroup: { name: 'g', provisionerGroupID: 'a-b' } }, /installationGroup\.provisionerGroupID/],
        ['[]', /must be a JSON object/],
        ['"text"', /must be a JSON object/],
        ['nope', /not valid JSON/],
        ['{"name": "x", "priority": 1', /not valid JSON/],
        // A "__proto__" key is a plain key, not a way to smuggle fields in.
        ['{"__proto__": {"name": "p", "priority": 3}}', /name: is required/],
        ['{"name": "a\\u0000b", "priority": 1}', /name contains a NUL character/],
        [`{"name": "deep", "priority": 1, "x": ${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, /nested more than 32 levels/],
        [`{"name": "${'x'.repeat(1_100_000)}", "priority": 1}`, /larger than 1mb/, 413],
      ];
      for (const [body, message, status = 400] of cases) {
        const reply = await raw(h, 'POST', '/rings', typeof body === 'string' ? body : JSON.stringify(body));
        expect({ body: String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 80), status: reply.status }).toEqual({
          body: String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 80),
          status,
        });
        expect(reply.type).toMatch(/application\/json/);
        expect(reply.json.error).toMatch(message);
      }
      expect(await counts(h)).toEqual(before);
    });

    it('GET /rings pages rings (not ring × group rows), in creation order, never null', async () => {
      expect((await h.api('GET', '/rings')).body).toEqual([]);
      const r1 = await h.ring('one', 3, { groups: 2 });
      h.clock.advance(1000);
      const r2 = await h.ring('two', 1, { groups: 2 });
      h.clock.advance(1000);
      const r3 = await h.ring('three', 2, { groups: 2 });

      const page0 = await h.api('GET', '/rings?page=0&per_page=2');
      expect(page0.status).toBe(200);
      expect(page0.body.map((r: any) => r.ID)).toEqual([r1.id, r2.id]);
      for (const ring of page0.body) {
        expect(Object.keys(ring)).toEqual(expect.arrayContaining(RING_KEYS));
        expect(ring.installationGroups).toHaveLength(2);
        for (const group of ring.installationGroups) expect(Object.keys(group)).toEqual(expect.arrayContaining(GROUP_KEYS));
      }
      const page1 = await h.api('GET', '/rings?page=1&per_page=2');
      expect(page1.body.map((r: any) => r.ID)).toEqual([r3.id]);
      expect(page1.body[0].installationGroups.map((g: any) => g.id).sort()).toEqual(r3.groups.map((g) => g.id).sort());
      expect((await h.api('GET', '/rings?page=5&per_page=2')).body).toEqual([]);
      expect((await h.api('GET', '/rings?per_page=-1')).body).toHaveLength(3);
      expect((await h.api('GET', '/rings')).body.map((r: any) => r.CreateAt)).toEqual([...(await h.api('GET', '/rings')).body.map((r: any) => r.CreateAt)].sort());

      const bad: Array<[string, RegExp]> = [
        ['page=x', /page="x" is not a whole number/],
        ['page=-1', /page=-1 is out of range/],
        ['per_page=1.5', /per_page="1.5" is not a whole number: use e.g. 100, or -1 for all/],
        ['per_page=many', /per_page="many" is not a whole number/],
        ['include_deleted=maybe', /include_deleted="maybe" is not a boolean/],
        ['page=1&page=2', /page must be given once/],
      ];
      for (const [query, message] of bad) {
        const reply = await h.api('GET', `/rings?${query}`);
        expect(reply.status).toBe(400);
        expect(reply.body.error).toMatch(message);
      }
    });

    it('soakTime 0 is zero: the ring is stable as soon as its groups are, with no soak; an absent soakTime is 7200', async () => {
      const absent = await h.api('POST', '/rings', { name: 'default-soak', priority: 2 });
      expect(absent.body.SoakTime).toBe(7200);
      const zero = await h.ring('no-soak', 1, { soak: 0 });
      expect((await h.getRing(zero.id)).SoakTime).toBe(0);
      await h.settle();
      const start = h.clock.now();
      expect((await h.api('POST', `/ring/${zero.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
      await h.settle();
      // The clock has not moved: a 7200 s soak would still be running.
      expect(h.clock.now()).toBe(start);
      const released = await h.getRing(zero.id);
      expect(released).toMatchObject({ State: 'stable', SoakTime: 0 });
      expect(released.ActiveReleaseID).toBe(released.DesiredReleaseID);
      expect(h.provisioner.puts(zero.groups[0]!.provisionerGroupId)).toEqual([expect.objectContaining({ Version: 'v2' })]);
    });

    it('a negative priority is accepted (as the Go Elrond did) and releases before priority 1; update may set one too', async () => {
      const one = await h.ring('one', 1, { soak: 0 });
      const minus = await h.ring('minus', -5, { soak: 0 });
      expect((await h.getRing(minus.id)).Priority).toBe(-5);
      await h.settle();
      h.provisioner.clearLog();
      expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
      while (await h.advanceToNextDeadline());
      await h.settle();
      const order = h.provisioner.requests.filter((r) => r.route === 'putGroup').map((r) => r.path);
      expect(order).toEqual([`/api/group/${minus.groups[0]!.provisionerGroupId}`, `/api/group/${one.groups[0]!.provisionerGroupId}`]);

      const updated = await h.api('POST', `/ring/${one.id}/update`, { priority: -10 });
      expect(updated.status).toBe(202);
      expect(updated.body.Priority).toBe(-10);
    });

    it('per_page takes any whole number: negative is every ring, more than 10000 is 10000', async () => {
      for (const name of ['a', 'b', 'c']) await h.api('POST', '/rings', { name, priority: 1 });
      for (const query of ['per_page=-1', 'per_page=-2', 'per_page=-99999999999', 'per_page=50000', 'per_page=99999999999999999999', 'per_page=%2B3']) {
        const reply = await h.api('GET', `/rings?${query}`);
        expect({ query, status: reply.status, names: reply.body.map((r: any) => r.Name) }).toEqual({ query, status: 200, names: ['a', 'b', 'c'] });
      }
      expect((await h.api('GET', '/rings?per_page=0')).body).toEqual([]);
      expect(parsePaging({ per_page: '50000' }).perPage).toBe(MAX_PER_PAGE);
      expect(parsePaging({ per_page: '-7' }).perPage).toBe(-1);
      expect(parsePaging({ per_page: '-0' }).perPage).toBe(0);
      expect((await h.api('GET', '/webhooks?per_page=-5')).status).toBe(200);
    });

    it('DELETE /ring/{id}: 202 with no body, then deleted; include_deleted lists it; GET still finds it', async () => {
      const doomed = (await h.api('POST', '/rings', { name: 'doomed', priority: 1 })).body;
      const kept = (await h.api('POST', '/rings', { name: 'kept', priority: 2 })).body;
      await h.settle();
      const reply = await raw(h, 'DELETE', `/ring/${doomed.ID}`);
      expect(reply.status).toBe(202);
      expect(reply.text).toBe('');
      expect((await h.api('GET', `/ring/${doomed.ID}`)).body.State).toBe('deletion-requested');
      h.clock.advance(5000);
      await h.settle();
      const gone = await h.api('GET', `/ring/${doomed.ID}`);
      expect(gone.status).toBe(200);
      expect(gone.body.State).toBe('deleted');
      expect(gone.body.DeleteAt).toBe(h.clock.now());

      expect((await h.api('GET', '/rings')).body.map((r: any) => r.ID)).toEqual([kept.ID]);
      for (const value of ['true', '1', 'T', 'TRUE']) {
        expect((await h.api('GET', `/rings?include_deleted=${value}`)).body.map((r: any) => r.ID)).toEqual([doomed.ID, kept.ID]);
      }
      expect((await h.api('GET', '/rings?include_deleted=false')).body.map((r: any) => r.ID)).toEqual([kept.ID]);
      // A deleted ring cannot be deleted again or released.
      expect((await h.api('DELETE', `/ring/${doomed.ID}`)).status).toBe(400);
    });

    it('DELETE /ring/{id} from a state that cannot be deleted is a 400 naming the allowed states', async () => {
      const ring = await h.ring('busy', 1, { soak: 600, groupSoak: 600 });
      await h.settle();
      expect((await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
      await h.settle();
      const busy = (await h.api('GET', `/ring/${ring.id}`)).body;
      expect(busy.State).toMatch(/release-in-progress|release-requested/);
      const before = await counts(h);
      const reply = await h.api('DELETE', `/ring/${ring.id}`);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatch(new RegExp(`is ${busy.State}, so it cannot move to deletion-requested: deletion-requested can be requested from: stable`));
      expect((await h.api('GET', `/ring/${ring.id}`)).body.State).toBe(busy.State);
      expect(await counts(h)).toEqual(before);
    });

    it('GET /ring/{id} returns the ring with its groups; unknown and malformed ids are 404 on every ring route', async () => {
      const ring = await h.ring('with-groups', 1, { groups: 2 });
      const fetched = await h.api('GET', `/ring/${ring.id}`);
      expect(fetched.status).toBe(200);
      expect(Object.keys(fetched.body)).toEqual(expect.arrayContaining([...RING_KEYS, 'installationGroups']));
      expect(fetched.body.installationGroups.map((g: any) => g.id).sort()).toEqual(ring.groups.map((g) => g.id).sort());

      const routes: Array<[string, (id: string) => string, unknown?]> = [
        ['GET', (id) => `/ring/${id}`],
        ['POST', (id) => `/ring/${id}`],
        ['DELETE', (id) => `/ring/${id}`],
        ['POST', (id) => `/ring/${id}/update`, { name: 'x' }],
        ['POST', (id) => `/ring/${id}/release`, { image: IMAGE, version: 'v9' }],
        ['POST', (id) => `/ring/${id}/rollback`, {}],
        ['POST', (id) => `/ring/${id}/installationgroup`, { name: 'g', provisionerGroupID: 'pg' }],
        ['DELETE', (id) => `/ring/${id}/installationgroup/${ring.groups[0]!.id}`],
        ['POST', (id) => `/security/ring/${id}/api/lock`],
        ['POST', (id) => `/security/ring/${id}/api/unlock`],
        ['GET', (id) => `/release/${id}`],
        ['POST', (id) => `/installationgroup/${id}/update`, { name: 'x' }],
        ['GET', (id) => `/webhook/${id}`],
        ['DELETE', (id) => `/webhook/${id}`],
      ];
      const before = await counts(h);
      for (const [method, path, body] of routes) {
        for (const id of [newId(), ...MALFORMED_IDS]) {
          const reply = await raw(h, method, path(id), body === undefined ? undefined : JSON.stringify(body));
          expect({ method, path: path(id), status: reply.status }).toEqual({ method, path: path(id), status: 404 });
          expect(reply.json.error).toMatch(/not found/);
        }
      }
      const undecodable = await raw(h, 'GET', '/ring/%zz');
      expect(undecodable.status).toBe(400);
      expect(undecodable.json.error).toMatch(/the URL has a malformed %-escape .*'%zz'.*: percent-encode each path segment/);
      expect(await counts(h)).toEqual(before);
      expect((await h.api('GET', `/ring/${ring.id}`)).body.installationGroups).toHaveLength(2);
    });

    it('POST /ring/{id}/update applies name, priority and soakTime only; 0 means unchanged', async () => {
      const ring = (await h.api('POST', '/rings', { name: 'upd', priority: 3, soakTime: 60, image: IMAGE, version: 'v1' })).body;
      await h.settle();
      const updated = await h.api('POST', `/ring/${ring.ID}/update`, { Name: 'renamed', PRIORITY: 5, soaktime: 90, image: 'other/image', version: 'v9' });
      expect(updated.status).toBe(202);
      expect(Object.keys(updated.body)).toEqual(expect.arrayContaining(RING_KEYS));
      expect(updated.body).toMatchObject({ ID: ring.ID, Name: 'renamed', Priority: 5, SoakTime: 90, State: 'stable', ActiveReleaseID: ring.ActiveReleaseID, DesiredReleaseID: ring.DesiredReleaseID });

      const unchanged = await h.api('POST', `/ring/${ring.ID}/update`, { priority: 0, soakTime: 0, name: '' });
      expect(unchanged.status).toBe(202);
      expect(unchanged.body).toMatchObject({ Name: 'renamed', Priority: 5, SoakTime: 90 });
      expect((await h.api('POST', `/ring/${ring.ID}/update`, {})).status).toBe(202);
      expect((await raw(h, 'POST', `/ring/${ring.ID}/update`)).status).toBe(202);

      const before = await counts(h);
      const bad: Array<[unknown, RegExp]> = [
        [{ priority: 2_000_000 }, /priority: must be at most 1000000/],
        [{ priority: 'high' }, /priority/],
        [{ soakTime: 1.5 }, /soakTime: must be a whole number of seconds/],
        [{ soakTime: 10_000_000 }, /soakTime: must be at most 30 days/],
        [{ name: 5 }, /name: Expected string, received number/],
        ['[1]', /must be a JSON object/],
      ];
      for (const [body, message] of bad) {
        const reply = await raw(h, 'POST', `/ring/${ring.ID}/update`, typeof body === 'string' ? body : JSON.stringify(body));
        expect(reply.status).toBe(400);
        expect(reply.json.error).toMatch(message);
      }
      expect(await counts(h)).toEqual(before);
      expect((await h.api('GET', `/ring/${ring.ID}`)).body).toMatchObject({ Name: 'renamed', Priority: 5, SoakTime: 90 });
    });

    it('POST /ring/{id} retries a creation: 202 from creation-requested/-failed, 400 from anything else', async () => {
      const ring = (await h.api('POST', '/rings', { name: 'retry', priority: 1 })).body;
      const again = await h.api('POST', `/ring/${ring.ID}`);
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({ ID: ring.ID, State: 'creation-requested' });
      await h.settle();

      const stable = await h.api('POST', `/ring/${ring.ID}`);
      expect(stable.status).toBe(400);
      expect(stable.body.error).toMatch(/is stable, so it cannot move to creation-requested: creation-requested can be requested from: creation-requested, creation-failed/);

      await h.server.store.db.updateTable('rings').set({ state: 'creation-failed' }).where('id', '=', ring.ID).execute();
      const retried = await h.api('POST', `/ring/${ring.ID}`);
      expect(retried.status).toBe(202);
      expect(retried.body.State).toBe('creation-requested');
      const events = (await h.api('GET', `/events?ring=${ring.ID}&limit=1`)).body;
      expect(events[0]).toMatchObject({ oldState: 'creation-failed', newState: 'creation-requested' });
      await h.settle();
      expect((await h.api('GET', `/ring/${ring.ID}`)).body.State).toBe('stable');
    });

    it('a ring whose lease holder never lets go answers 409 naming the holder as stuck or dead, until its lease ends', async () => {
      const ring = (await h.api('POST', '/rings', { name: 'leased', priority: 1 })).body;
      await h.settle();
      const now = h.clock.now();
      await h.server.store.db
        .updateTable('rings')
        .set({ locked_by: 'elrond-other', locked_at: now, locked_until: now + 60_000 })
        .where('id', '=', ring.ID)
        .execute();
      const before = await counts(h);
      for (const [method, path, body] of [
        ['POST', `/ring/${ring.ID}/update`, { name: 'x' }],
        ['POST', `/ring/${ring.ID}/release`, { image: IMAGE, version: 'v2' }],
        ['DELETE', `/ring/${ring.ID}`, undefined],
        ['POST', `/ring/${ring.ID}/installationgroup`, { name: 'g', provisionerGroupID: 'pg' }],
      ] as const) {
        const reply = await h.api(method, path, body);
        expect(reply.status).toBe(409);
        expect(reply.body.error).toMatch(/is being worked on by elrond-other, whose step has not finished in 1 s: that replica is stuck or has died/);
        expect(reply.body.error).toContain(`Its lease runs out at ${new Date(now + 60_000).toISOString()}`);
      }
      expect(await counts(h)).toEqual(before);
      expect((await h.api('GET', `/ring/${ring.ID}`)).body.LockAcquiredBy).toBe('elrond-other');
      h.clock.advance(61_000);
      expect((await h.api('POST', `/ring/${ring.ID}/update`, { name: 'free' })).status).toBe(202);
    });

    it('a request meeting a running step waits for its lease instead of answering 409', async () => {
      const ring = (await h.api('POST', '/rings', { name: 'busy', priority: 1 })).body;
      await h.settle();
      const now = h.clock.now();
      const lock = (lockedBy: string | null) =>
        h.server.store.db.updateTable('rings').set({ locked_by: lockedBy, locked_at: now, locked_until: lockedBy ? now + 60_000 : 0 }).where('id', '=', ring.ID).execute();
      await lock('elrond-step');
      const reply = h.api('POST', `/ring/${ring.ID}/installationgroup`, { name: 'g', provisionerGroupID: 'pg' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await lock(null);
      const registered = await reply;
      expect(registered.status).toBe(200);
      expect((await h.api('GET', `/ring/${ring.ID}`)).body.installationGroups.map((g: { name: string }) => g.name)).toEqual(['g']);
    });
  });
}
