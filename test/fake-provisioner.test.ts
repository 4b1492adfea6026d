import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FakeProvisioner,
  type FakeProvisionerOptions,
  type GroupDTO,
  type GroupStatus,
  type GroupsStatusEntry,
} from './fakes/fake-provisioner.js';
import { reencodeQuantity } from './fakes/provisioner/quantity.js';

const ID_RE = /^[a-z0-9]{26}$/;

interface CallResult<T> {
  status: number;
  text: string;
  json: T;
  contentType: string | null;
}

const running: FakeProvisioner[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((fake) => fake.stop()));
});

async function startFake(opts: FakeProvisionerOptions = {}): Promise<{ fake: FakeProvisioner; base: string }> {
  const fake = new FakeProvisioner(opts);
  running.push(fake);
  const base = await fake.start();
  return { fake, base };
}

async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<CallResult<T>> {
  const res = await fetch(base + path, {
    method,
    headers: init.headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: init.signal,
  });
  const text = await res.text();
  const json = (text !== '' && res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : undefined) as T;
  return { status: res.status, text, json, contentType: res.headers.get('content-type') };
}

const status = (base: string, id: string) => call<GroupStatus>(base, 'GET', `/api/group/${id}/status`);

/** Elrond's PUT as it goes on the wire (Go marshals nil pointers as null), A.4. */
function elrondPatch(id: string, version: string, image: string, env: Record<string, { value: string }>) {
  return {
    ID: id,
    MaxRolling: null,
    Name: null,
    Description: null,
    Version: version,
    Image: image,
    MattermostEnv: env,
    ForceSequenceUpdate: false,
    ForceInstallationsRestart: false,
  };
}

describe('FakeProvisioner: groups', () => {
  it('creates a group with 200 and PascalCase JSON', async () => {
    const { base } = await startFake({ now: () => 1_712_345_678_901 });
    const res = await call<GroupDTO>(base, 'POST', '/api/groups', { Name: 'ring-0', Version: '10.5.1', MaxRolling: 2 });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json');
    expect(Object.keys(res.json)).toEqual([
      'ID', 'Sequence', 'Name', 'Description', 'Version', 'Image', 'MaxRolling', 'MattermostEnv',
      'CreateAt', 'DeleteAt', 'APISecurityLock', 'LockAcquiredBy', 'LockAcquiredAt', 'annotations',
    ]);
    expect(res.json).toMatchObject({
      Sequence: 0,
      Name: 'ring-0',
      Version: '10.5.1',
      MaxRolling: 2,
      MattermostEnv: null,
      CreateAt: 1_712_345_678_901,
      DeleteAt: 0,
      LockAcquiredBy: null,
      LockAcquiredAt: 0,
      annotations: null,
    });
    expect(res.json.ID).toMatch(ID_RE);
    const got = await call<GroupDTO>(base, 'GET', `/api/group/${res.json.ID}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(res.json);
  });

  it('answers unknown ids with an empty 404 and malformed ids with the router 404', async () => {
    const { base } = await startFake();
    const unknown = await call(base, 'GET', `/api/group/${'a'.repeat(26)}`);
    expect(unknown).toMatchObject({ status: 404, text: '' });
    for (const path of ['/api/group/short', `/api/group/${'a'.repeat(27)}`, '/api/group/abc-def/status']) {
      const res = await call(base, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.json).toBeUndefined();
    }
    expect((await call(base, 'GET', `/api/group/${'a'.repeat(26)}/status`)).status).toBe(404);
  });

  it('validates create requests with empty-body 400s', async () => {
    const { base } = await startFake();
    const bad = [
      {},
      { Name: '' },
      { Name: 'g', MaxRolling: -1 },
      { Name: 'g', MattermostEnv: { K: {} } },
      { Name: 'g', MattermostEnv: { K: { value: '' } } },
      { Name: 'g', MaxRolling: '2' },
      { Name: 'g', Annotations: ['UPPER'] },
      '{not json',
      '[]',
    ];
    for (const body of bad) {
      const res = await call(base, 'POST', '/api/groups', body);
      expect({ body, status: res.status, text: res.text }).toEqual({ body, status: 400, text: '' });
    }
    const ok = await call<GroupDTO>(base, 'POST', '/api/groups', {
      Name: 'g',
      MattermostEnv: { A: { value: 'a' }, S: { valueFrom: { secretKeyRef: { name: 's', key: 'k' } } } },
      Annotations: ['multi-tenant'],
    });
    expect(ok.status).toBe(200);
    expect(ok.json.MattermostEnv).toEqual({ A: { value: 'a' }, S: { valueFrom: { secretKeyRef: { name: 's', key: 'k' } } } });
    expect(ok.json.annotations).toEqual([{ ID: expect.stringMatching(ID_RE), Name: 'multi-tenant' }]);
  });

  it('lists groups in CreateAt order with paging, include_deleted and installation counts', async () => {
    let clock = 1000;
    const { fake, base } = await startFake({ now: () => clock });
    expect((await call<GroupDTO[]>(base, 'GET', '/api/groups')).json).toEqual([]);
    const a = fake.createGroup({ Name: 'a' });
    clock = 2000;
    const b = fake.createGroup({ Name: 'b' });
    clock = 3000;
    const c = fake.createGroup({ Name: 'c' });
    fake.addInstallation({ groupId: a.ID });
    fake.addInstallation({ groupId: a.ID });
    expect((await call(base, 'DELETE', `/api/group/${c.ID}`)).status).toBe(200);

    const live = await call<GroupDTO[]>(base, 'GET', '/api/groups?show_installation_count=true');
    expect(live.json.map((g) => [g.Name, g.installation_count])).toEqual([['a', 2], ['b', 0]]);
    const all = await call<GroupDTO[]>(base, 'GET', '/api/groups?include_deleted=true');
    expect(all.json.map((g) => g.Name)).toEqual(['a', 'b', 'c']);
    expect(all.json[0]).not.toHaveProperty('installation_count');
    const page = await call<GroupDTO[]>(base, 'GET', '/api/groups?page=1&per_page=1');
    expect(page.json.map((g) => g.ID)).toEqual([b.ID]);
    expect((await call(base, 'GET', '/api/groups?per_page=x')).status).toBe(400);
  });

  it('deletes only empty groups; deleted groups are still readable', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g' });
    const inst = fake.addInstallation({ groupId: g.ID });
    expect(await call(base, 'DELETE', `/api/group/${g.ID}`)).toMatchObject({ status: 403, text: '' });
    fake.deleteInstallation(inst.ID);
    expect(await call(base, 'DELETE', `/api/group/${g.ID}`)).toMatchObject({ status: 200, text: '' });
    const got = await call<GroupDTO>(base, 'GET', `/api/group/${g.ID}`);
    expect(got.json.DeleteAt).toBeGreaterThan(0);
  });

  it('manages annotations and the API security lock', async () => {
    const { base, fake } = await startFake();
    const g = fake.createGroup({ Name: 'g' });
    const added = await call<GroupDTO>(base, 'POST', `/api/group/${g.ID}/annotations`, { annotations: ['ring-a', 'ring-b'] });
    expect(added.json.annotations?.map((a) => a.Name)).toEqual(['ring-a', 'ring-b']);
    expect((await call(base, 'POST', `/api/group/${g.ID}/annotations`, { annotations: ['x'] })).status).toBe(400);
    expect(await call(base, 'DELETE', `/api/group/${g.ID}/annotation/ring-a`)).toMatchObject({ status: 204, text: '' });
    expect(fake.group(g.ID)?.annotations?.map((a) => a.Name)).toEqual(['ring-b']);

    expect((await call(base, 'POST', `/api/security/group/${g.ID}/api/lock`)).status).toBe(200);
    expect(fake.group(g.ID)?.APISecurityLock).toBe(true);
    expect(await call(base, 'PUT', `/api/group/${g.ID}`, { Version: 'x' })).toMatchObject({ status: 403, text: '' });
    expect((await call(base, 'DELETE', `/api/group/${g.ID}`)).status).toBe(403);
    expect((await call(base, 'POST', `/api/security/group/${g.ID}/api/unlock`)).status).toBe(200);
    expect((await call(base, 'PUT', `/api/group/${g.ID}`, { Version: 'x' })).status).toBe(200);
    expect((await call(base, 'POST', `/api/security/group/${'z'.repeat(26)}/api/lock`)).status).toBe(404);
  });
});

describe('FakeProvisioner: patch semantics', () => {
  it('bumps Sequence only for Version, Image, env, Scheduling or ForceSequenceUpdate', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '1', Image: 'img', MaxRolling: 1 });
    const put = async (body: unknown) => (await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, body)).json;

    expect(await put({ Name: 'renamed', Description: 'd', MaxRolling: 3 })).toMatchObject({ Sequence: 0, Name: 'renamed', MaxRolling: 3 });
    expect(await put({ Version: '1', Image: 'img' })).toMatchObject({ Sequence: 0 });
    expect(await put({ Version: '2' })).toMatchObject({ Sequence: 1, Version: '2' });
    expect(await put({ Image: 'img2' })).toMatchObject({ Sequence: 2 });
    expect(await put({ MattermostEnv: { A: { value: 'a' } } })).toMatchObject({ Sequence: 3 });
    expect(await put({ MattermostEnv: { A: { value: 'a' } } })).toMatchObject({ Sequence: 3 });
    expect(await put({ Scheduling: { NodeSelector: { pool: 'x' } } })).toMatchObject({ Sequence: 4 });
    expect(await put({ ForceSequenceUpdate: true })).toMatchObject({ Sequence: 5 });
    expect(await put({})).toMatchObject({ Sequence: 5 });
    // Null pointer fields mean "unchanged"; Go also matches keys case-insensitively.
    expect(await put({ Name: null, Version: null, MaxRolling: null })).toMatchObject({ Sequence: 5, Name: 'renamed', Version: '2' });
    expect(await put({ version: '3' })).toMatchObject({ Sequence: 6, Version: '3' });
  });

  it('rejects bad patches with empty 400s and unknown groups with 404', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g' });
    for (const body of [{ Name: '' }, { MaxRolling: -1 }, { Version: 5 }, '{', { MattermostEnv: [] }]) {
      expect(await call(base, 'PUT', `/api/group/${g.ID}`, body)).toMatchObject({ status: 400, text: '' });
    }
    expect(await call(base, 'PUT', `/api/group/${'q'.repeat(26)}`, { Version: 'x' })).toMatchObject({ status: 404, text: '' });
    expect(fake.group(g.ID)?.Sequence).toBe(0);
  });

  it('merges env: add/replace, per-key delete, {} clears, null keeps, valueFrom supported', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', MattermostEnv: { A: { value: '1' }, B: { value: '2' }, C: { value: '3' } } });
    const env = async (patch: unknown) =>
      (await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, { MattermostEnv: patch })).json.MattermostEnv;

    expect(await env({ A: { value: 'x' }, D: { value: '4' } })).toEqual({
      A: { value: 'x' }, B: { value: '2' }, C: { value: '3' }, D: { value: '4' },
    });
    expect(await env({ B: {}, C: { value: '' } })).toEqual({ A: { value: 'x' }, D: { value: '4' } });
    expect(await env(null)).toEqual({ A: { value: 'x' }, D: { value: '4' } });
    expect(await env({ S: { valueFrom: { secretKeyRef: { name: 's', key: 'k' } } } })).toEqual({
      A: { value: 'x' }, D: { value: '4' }, S: { valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    });
    const before = fake.group(g.ID)?.Sequence ?? -1;
    expect(await env({})).toBeNull();
    expect(fake.group(g.ID)?.Sequence).toBe(before + 1);
    expect(await env({})).toBeNull();
    expect(fake.group(g.ID)?.Sequence).toBe(before + 1);
  });

  it('a group whose MattermostEnv is null takes the patch as it is: a deletion is stored as a blank entry', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g' });
    expect(g.MattermostEnv).toBeNull();
    const res = await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, { MattermostEnv: { GONE: { value: '' }, ALSO: {}, NEW: { value: 'n' } } });
    expect(res.json.MattermostEnv).toEqual({ GONE: {}, ALSO: {}, NEW: { value: 'n' } });
    expect(res.text).toContain('"GONE":{}');
    expect(res.json.Sequence).toBe(1);
    // Once the map exists, the same deletion removes the key, as Patch does.
    const again = await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, { MattermostEnv: { GONE: {} } });
    expect(again.json.MattermostEnv).toEqual({ ALSO: {}, NEW: { value: 'n' } });
    // A nil map and an empty patch: nothing happens.
    const other = fake.createGroup({ Name: 'other' });
    expect((await call<GroupDTO>(base, 'PUT', `/api/group/${other.ID}`, { MattermostEnv: {} })).json).toMatchObject({ Sequence: 0, MattermostEnv: null });
  });

  it('re-encodes valueFrom the way Go encodes corev1.EnvVarSource', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', MattermostEnv: { A: { value: 'a' } } });
    const res = await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, {
      MattermostEnv: {
        S: { valueFrom: { secretKeyRef: { key: 'k', name: 's', extra: 1 } } },
        C: { valueFrom: { ConfigMapKeyRef: { Key: 'k', Name: 'cm', optional: false } } },
        R: { valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        D: { valueFrom: { resourceFieldRef: { divisor: '1024Ki', resource: 'limits.memory', containerName: 'app' } } },
        F: { valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, secretKeyRef: null } },
        M: { valueFrom: { secretKeyRef: { key: 'k' }, fieldRef: { apiVersion: 'v1', fieldPath: 'x' } } },
      },
    });
    expect(res.status).toBe(200);
    const env = res.text.slice(res.text.indexOf('"MattermostEnv":'), res.text.indexOf(',"CreateAt"'));
    expect(env).toBe(
      // Go writes map keys sorted.
      '"MattermostEnv":{"A":{"value":"a"},' +
        '"C":{"valueFrom":{"configMapKeyRef":{"name":"cm","key":"k","optional":false}}},' +
        '"D":{"valueFrom":{"resourceFieldRef":{"containerName":"app","resource":"limits.memory","divisor":"1Mi"}}},' +
        '"F":{"valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},' +
        '"M":{"valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"x"},"secretKeyRef":{"key":"k"}}},' +
        '"R":{"valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"0"}}},' +
        '"S":{"valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}}',
    );
    // A wrongly typed field or a bad quantity fails the decode: an empty 400, nothing changed.
    for (const valueFrom of [{ secretKeyRef: { name: 5 } }, { secretKeyRef: 'x' }, { resourceFieldRef: { resource: 'cpu', divisor: '1K' } }, { configMapKeyRef: { optional: 'yes' } }]) {
      expect(await call(base, 'PUT', `/api/group/${g.ID}`, { MattermostEnv: { X: { valueFrom } } })).toMatchObject({ status: 400, text: '' });
    }
    expect(fake.group(g.ID)?.MattermostEnv).not.toHaveProperty('X');
  });

  it('writes a divisor back as resource.Quantity marshals it: canonical unless sent canonical', () => {
    const cases: Record<string, string> = {
      '1000m': '1', '100m': '100m', '0.5': '500m', '1.5': '1500m', '2000': '2k', '2048': '2048', '1e3': '1e3', '1000e0': '1e3',
      '1Ki': '1Ki', '1024Ki': '1Mi', '1.5Gi': '1536Mi', '1.5Ki': '1536', '0.5Ki': '512', '0.1234567891': '123456790n', '-0.5': '-500m', '00': '0',
    };
    expect(Object.fromEntries(Object.keys(cases).map((q) => [q, reencodeQuantity(q)]))).toEqual(cases);
    for (const bad of ['', 'abc', '1K', '1.5.5', '1Ki5']) expect(() => reencodeQuantity(bad)).toThrow();
  });

  it('Patch counts a re-sent valueFrom as a change, but UpdateGroup moves the Sequence only when the JSON differs', async () => {
    const { fake, base } = await startFake();
    const secret = { valueFrom: { secretKeyRef: { name: 's', key: 'k' } } };
    const g = fake.createGroup({ Name: 'g', MattermostEnv: { S: secret } });
    const put = async (env: unknown) => (await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, { MattermostEnv: env })).json.Sequence;
    expect(await put({ S: secret })).toBe(0);
    expect(await put({ S: { valueFrom: { secretKeyRef: { key: 'k', name: 's' } } } })).toBe(0);
    expect(await put({ S: { valueFrom: { secretKeyRef: { key: 'k', name: 'other' } } } })).toBe(1);
    expect(fake.group(g.ID)?.MattermostEnv).toEqual({ S: { valueFrom: { secretKeyRef: { name: 'other', key: 'k' } } } });
  });

  it('ForceInstallationsRestart injects CLOUD_PROVISIONER_ENFORCED_RESTART with the old sequence', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '1', MattermostEnv: { A: { value: 'a' } } });
    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    const res = await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, { ForceInstallationsRestart: true });
    expect(res.json.Sequence).toBe(2);
    expect(res.json.MattermostEnv).toEqual({
      A: { value: 'a' },
      CLOUD_PROVISIONER_ENFORCED_RESTART: { value: 'force-restart-at-sequence-1' },
    });
  });

  it("accepts elrond's wire format and logs it for assertions", async () => {
    let clock = 5;
    const { fake, base } = await startFake({ now: () => clock });
    const g = fake.createGroup({ Name: 'ring', Version: '1', Image: 'a', MattermostEnv: { KEEP: { value: 'k' } } });
    clock = 42;
    const res = await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}?x=1&x=2`, elrondPatch(g.ID, '2', 'b', { NEW: { value: 'n' } }));
    expect(res.json).toMatchObject({ Sequence: 1, Version: '2', Image: 'b', MattermostEnv: { KEEP: { value: 'k' }, NEW: { value: 'n' } } });
    expect(fake.puts(g.ID)).toEqual([elrondPatch(g.ID, '2', 'b', { NEW: { value: 'n' } })]);
    expect(fake.puts('x'.repeat(26))).toEqual([]);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'PUT', path: `/api/group/${g.ID}`, query: { x: '1' }, at: 42, route: 'putGroup' });
    fake.clearLog();
    expect(fake.requests).toEqual([]);
    expect(fake.puts()).toEqual([]);
  });
});

describe('FakeProvisioner: status', () => {
  it('counts with the A.6 formulas', async () => {
    const { fake, base } = await startFake();
    const empty = fake.createGroup({ Name: 'empty' });
    expect((await status(base, empty.ID)).json).toEqual({
      InstallationsTotal: 0, InstallationsUpdated: 0, InstallationsUpdating: 0,
      InstallationsHibernating: 0, InstallationsPendingDeletion: 0, InstallationsAwaitingUpdate: 0,
    });

    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 1 });
    const ids = [1, 2, 3, 4, 5].map(() => fake.addInstallation({ groupId: g.ID, groupSequence: 0 }).ID);
    fake.addInstallation({ groupId: g.ID }); // joined, never rolled: GroupSequence null → awaiting
    expect((await status(base, g.ID)).json).toMatchObject({ InstallationsTotal: 6, InstallationsUpdated: 5, InstallationsAwaitingUpdate: 1 });

    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    fake.setInstallationState(ids[0] ?? '', 'update-failed');
    fake.setInstallationState(ids[1] ?? '', 'hibernating');
    fake.setInstallationState(ids[2] ?? '', 'deletion-pending');
    fake.setInstallationState(ids[3] ?? '', 'update-in-progress');
    expect((await status(base, g.ID)).json).toEqual({
      InstallationsTotal: 6, InstallationsUpdated: 0, InstallationsUpdating: 2,
      InstallationsHibernating: 1, InstallationsPendingDeletion: 1, InstallationsAwaitingUpdate: 2,
    });
  });

  it('shows AwaitingUpdate > 0 right after a bump and keeps Updating > 0 for update-failed', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 5 });
    const a = fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    await call(base, 'PUT', `/api/group/${g.ID}`, elrondPatch(g.ID, '2', '', {}));
    expect((await status(base, g.ID)).json.InstallationsAwaitingUpdate).toBe(2);

    fake.tick(); // → update-requested
    fake.setInstallationState(a.ID, 'update-failed');
    for (let i = 0; i < 5; i++) fake.tick();
    const s = (await status(base, g.ID)).json;
    expect(s).toMatchObject({ InstallationsUpdated: 1, InstallationsUpdating: 1, InstallationsAwaitingUpdate: 0 });
  });

  it('GET /api/groups/status is 404 with zero groups, then lists every live group', async () => {
    const { fake, base } = await startFake();
    expect(await call(base, 'GET', '/api/groups/status')).toMatchObject({ status: 404, text: '' });
    const g = fake.createGroup({ Name: 'g' });
    fake.addInstallation({ groupId: g.ID });
    const res = await call<GroupsStatusEntry[]>(base, 'GET', '/api/groups/status');
    expect(res.status).toBe(200);
    expect(res.json).toEqual([{ ID: g.ID, Status: expect.objectContaining({ InstallationsTotal: 1, InstallationsAwaitingUpdate: 1 }) }]);
  });
});

describe('FakeProvisioner: rollout', () => {
  it('tick() rolls at most MaxRolling at a time, one step per tick, in ID order', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 2 });
    for (let i = 0; i < 5; i++) fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    const sortedIds = fake.installations(g.ID).map((i) => i.ID).sort();

    const inFlight = () => fake.installations(g.ID).filter((i) => i.State !== 'stable').length;
    fake.tick();
    expect(fake.installations(g.ID).filter((i) => i.State === 'update-requested').map((i) => i.ID).sort()).toEqual(sortedIds.slice(0, 2));
    fake.tick();
    expect(fake.installations(g.ID).filter((i) => i.State === 'update-in-progress')).toHaveLength(2);
    let ticks = 2;
    while ((fake.status(g.ID)?.InstallationsUpdated ?? 0) < 5 && ticks < 50) {
      fake.tick();
      ticks++;
      expect(inFlight()).toBeLessThanOrEqual(2);
    }
    expect(ticks).toBe(7); // 2+2+1 installations, 3 steps each, pipelined
    expect(fake.installations(g.ID).every((i) => i.GroupSequence === 1)).toBe(true);
    expect(fake.status(g.ID)).toMatchObject({ InstallationsAwaitingUpdate: 0, InstallationsUpdating: 0 });
    const first = sortedIds[0] ?? '';
    expect(fake.stateChanges.filter((c) => c.installationId === first).map((c) => c.newState)).toEqual([
      'update-requested', 'update-in-progress', 'stable',
    ]);
  });

  it('MaxRolling=0 pauses the group and failed installations hold rolling slots', async () => {
    const { fake, base } = await startFake();
    const paused = fake.createGroup({ Name: 'paused', MaxRolling: 0 });
    fake.addInstallation({ groupId: paused.ID });
    const g = fake.createGroup({ Name: 'g', MaxRolling: 1 });
    const failed = fake.addInstallation({ groupId: g.ID, state: 'update-failed' });
    fake.addInstallation({ groupId: g.ID });
    for (let i = 0; i < 4; i++) fake.tick();
    expect(fake.installations().every((i) => i.State !== 'update-requested')).toBe(true);
    expect(fake.status(paused.ID)?.InstallationsAwaitingUpdate).toBe(1);

    await call(base, 'PUT', `/api/group/${paused.ID}`, { MaxRolling: 1 });
    fake.setInstallationState(failed.ID, 'stable');
    fake.tick();
    expect(fake.status(paused.ID)?.InstallationsUpdating).toBe(1);
    expect(fake.status(g.ID)?.InstallationsUpdating).toBe(1);
  });

  it('does not roll a group whose row lock is held', async () => {
    const { fake } = await startFake();
    const g = fake.createGroup({ Name: 'g', MaxRolling: 1 });
    fake.addInstallation({ groupId: g.ID });
    fake.lockGroup(g.ID);
    fake.tick();
    expect(fake.status(g.ID)?.InstallationsAwaitingUpdate).toBe(1);
    fake.unlockGroup(g.ID);
    fake.tick();
    expect(fake.status(g.ID)?.InstallationsUpdating).toBe(1);
  });

  it('settleInstantly finishes the rollout inside the PUT (failed members excluded)', async () => {
    const { fake, base } = await startFake({ settleInstantly: true });
    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 1 });
    for (let i = 0; i < 3; i++) fake.addInstallation({ groupId: g.ID });
    const failed = fake.addInstallation({ groupId: g.ID, state: 'update-failed' });
    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    expect(fake.status(g.ID)).toMatchObject({ InstallationsUpdated: 3, InstallationsAwaitingUpdate: 0, InstallationsUpdating: 1 });
    expect(fake.installation(failed.ID)?.State).toBe('update-failed');
    await call(base, 'PUT', `/api/group/${g.ID}`, { Name: 'no-bump' });
    expect(fake.status(g.ID)?.InstallationsUpdated).toBe(3);
  });

  it('rolloutDurationMs settles exactly that long after the PUT by the fake clock', async () => {
    let clock = 10_000;
    const { fake, base } = await startFake({ now: () => clock, rolloutDurationMs: 2000 });
    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 1 });
    fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    clock = 11_999;
    expect((await status(base, g.ID)).json.InstallationsAwaitingUpdate).toBe(2);
    clock = 12_000;
    expect((await status(base, g.ID)).json).toMatchObject({ InstallationsUpdated: 2, InstallationsAwaitingUpdate: 0, InstallationsUpdating: 0 });
  });

  it('an instant or timed settle walks each member through the states the real supervisors do, one change each', async () => {
    const { fake, base } = await startFake({ settleInstantly: true });
    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 1 });
    const a = fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    expect(fake.stateChanges.filter((c) => c.installationId === a.ID).map((c) => c.newState)).toEqual(['update-requested', 'update-in-progress', 'stable']);
    fake.stateChanges.length = 0;
    await call(base, 'PUT', `/api/group/${g.ID}`, { Name: 'no-bump' });
    expect(fake.stateChanges).toEqual([]);
  });

  it('on the real clock a timed rollout ends by itself at the due time, without a request asking', async () => {
    const { fake, base } = await startFake({ rolloutDurationMs: 50 });
    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 1 });
    const a = fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    expect(fake.stateChanges).toEqual([]);
    const deadline = Date.now() + 3000;
    while (fake.stateChanges.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(fake.stateChanges.map((c) => [c.installationId, c.newState])).toEqual([[a.ID, 'update-requested'], [a.ID, 'update-in-progress'], [a.ID, 'stable']]);
  });

  it('autoRollout ticks on a real interval until the group is done', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '1', MaxRolling: 2 });
    for (let i = 0; i < 4; i++) fake.addInstallation({ groupId: g.ID, groupSequence: 0 });
    await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' });
    fake.autoRollout({ intervalMs: 5 });
    const deadline = Date.now() + 5000;
    let s = (await status(base, g.ID)).json;
    while ((s.InstallationsAwaitingUpdate > 0 || s.InstallationsUpdating > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      s = (await status(base, g.ID)).json;
    }
    expect(s).toMatchObject({ InstallationsUpdated: 4, InstallationsAwaitingUpdate: 0, InstallationsUpdating: 0 });
    fake.autoRollout(false);
  });
});

describe('FakeProvisioner: installations', () => {
  it('joins, lists, merges group config and leaves', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '10.5.1', Image: 'ee', MattermostEnv: { G: { value: 'g' } } });
    const inst = fake.addInstallation({ name: 'alpha', version: '9.0.0', image: 'te', mattermostEnv: { I: { value: 'i' } } });
    expect((await call(base, 'PUT', `/api/installation/${inst.ID}/group/${g.ID}`)).status).toBe(200);
    expect(fake.status(g.ID)?.InstallationsAwaitingUpdate).toBe(1);

    const one = await call<Record<string, unknown>>(base, 'GET', `/api/installation/${inst.ID}`);
    expect(one.json).toMatchObject({ ID: inst.ID, Name: 'alpha', State: 'stable', GroupID: g.ID, Version: '10.5.1', Image: 'ee' });
    expect(one.json['MattermostEnv']).toEqual({ I: { value: 'i' }, G: { value: 'g' } });
    expect(one.json).not.toHaveProperty('GroupSequence');
    const raw = await call<Record<string, unknown>>(base, 'GET', `/api/installation/${inst.ID}?include_group_config=false`);
    expect(raw.json['Version']).toBe('9.0.0');

    fake.addInstallation({ state: 'hibernating', groupId: g.ID });
    const list = await call<Record<string, unknown>[]>(base, 'GET', `/api/installations?group=${g.ID}&state=stable`);
    expect(list.json.map((i) => i['ID'])).toEqual([inst.ID]);

    expect((await call(base, 'DELETE', `/api/installation/${inst.ID}/group`)).status).toBe(200);
    expect(fake.installation(inst.ID)).toMatchObject({ GroupID: null, GroupSequence: null, State: 'update-requested', Version: '10.5.1' });
    expect((await call(base, 'GET', `/api/installation/${'m'.repeat(26)}`)).status).toBe(404);
  });

  it('refuses to join a deleted group and respects installation locks', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g' });
    const inst = fake.addInstallation();
    await call(base, 'DELETE', `/api/group/${g.ID}`);
    expect((await call(base, 'PUT', `/api/installation/${inst.ID}/group/${g.ID}`)).status).toBe(400);
    const h = fake.createGroup({ Name: 'h', Annotations: ['pick-me'] });
    fake.lockInstallation(inst.ID);
    expect((await call(base, 'PUT', `/api/installation/${inst.ID}/group/${h.ID}`)).status).toBe(409);
    fake.unlockInstallation(inst.ID);
    expect((await call(base, 'POST', `/api/installation/${inst.ID}/group/assign`, { GroupSelectionAnnotations: ['pick-me'] })).status).toBe(200);
    expect(fake.installation(inst.ID)?.GroupID).toBe(h.ID);
  });
});

describe('FakeProvisioner: faults and auth', () => {
  it('failNext answers empty-body errors without touching state', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '1' });
    fake.failNext('putGroup', 500);
    fake.failNext('getGroup', 502, 2);
    expect(await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' })).toMatchObject({ status: 500, text: '' });
    expect(fake.group(g.ID)?.Version).toBe('1');
    expect(fake.puts(g.ID)).toEqual([{ Version: '2' }]);
    expect((await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' })).status).toBe(200);
    expect((await call(base, 'GET', `/api/group/${g.ID}`)).status).toBe(502);
    expect((await call(base, 'GET', `/api/group/${g.ID}/status`)).status).toBe(200);
    expect((await call(base, 'GET', `/api/group/${g.ID}`)).status).toBe(502);
    expect((await call(base, 'GET', `/api/group/${g.ID}`)).status).toBe(200);
    fake.failNext('any', 503);
    expect((await call(base, 'GET', '/api/installations')).status).toBe(503);
    expect((await call(base, 'GET', '/api/installations')).status).toBe(200);
  });

  it('answers 409 while the group row lock is held', async () => {
    const { fake, base } = await startFake();
    const g = fake.createGroup({ Name: 'g', Version: '1' });
    fake.lockGroup(g.ID);
    expect(fake.group(g.ID)?.LockAcquiredBy).toMatch(ID_RE);
    expect(await call(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' })).toMatchObject({ status: 409, text: '' });
    expect((await call(base, 'GET', `/api/group/${g.ID}`)).status).toBe(200);
    fake.unlockGroup(g.ID);
    expect((await call<GroupDTO>(base, 'PUT', `/api/group/${g.ID}`, { Version: '2' })).json).toMatchObject({ Sequence: 1, LockAcquiredBy: null });
  });

  it('hangNext never answers, so the client times out; stop() still closes', async () => {
    const fake = new FakeProvisioner();
    const base = await fake.start();
    const g = fake.createGroup({ Name: 'g' });
    fake.hangNext('getStatus');
    const hung = call(base, 'GET', `/api/group/${g.ID}/status`, undefined, { signal: AbortSignal.timeout(150) });
    await expect(hung).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await status(base, g.ID)).status).toBe(200);
    fake.hangNext('any');
    const pending = fetch(`${base}/api/groups`).then(
      (r) => r.status,
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 50));
    await fake.stop();
    expect(await pending).toBe('closed');
  });

  it('setErrorRate is random but reproducible for a seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const { fake, base } = await startFake({ seed });
      fake.setErrorRate(0.5, 503, ['getGroups']);
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await call(base, 'GET', '/api/groups')).status);
      expect((await call(base, 'GET', '/api/installations')).status).toBe(200);
      return statuses;
    };
    const a = await run(7);
    expect(a).toEqual(await run(7));
    expect(a).toContain(503);
    expect(a).toContain(200);
  });

  it('setLatency delays answers', async () => {
    const { fake, base } = await startFake();
    fake.setLatency({ minMs: 60, maxMs: 80 });
    const started = performance.now();
    expect((await call(base, 'GET', '/api/groups')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    fake.setLatency(null);
  });

  it('checks the Bearer token when requireToken is set', async () => {
    const { base } = await startFake({ requireToken: 's3cret' });
    expect(await call(base, 'GET', '/api/groups')).toMatchObject({ status: 401, text: '' });
    expect((await call(base, 'GET', '/api/groups', undefined, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await call(base, 'GET', '/api/groups', undefined, { headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
  });
});

describe('FakeProvisioner: webhooks', () => {
  it('POSTs installation state changes to registered webhooks', async () => {
    const received: string[] = [];
    const sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(`${req.headers['x-token']} ${body}`);
        res.end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    try {
      const { fake, base } = await startFake({ now: () => 1_700_000_000_123 });
      const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;
      const created = await call<{ ID: string }>(base, 'POST', '/api/webhooks', { OwnerID: 'elrond', URL: url, Headers: [{ key: 'X-Token', value: 't' }] });
      expect(created.status).toBe(202);
      expect((await call(base, 'POST', '/api/webhooks', { OwnerID: 'elrond', URL: 'ftp://x' })).status).toBe(400);
      const g = fake.createGroup({ Name: 'g', MaxRolling: 1 });
      const inst = fake.addInstallation({ groupId: g.ID, name: 'alpha' });
      // The group supervisor's request (stable → update-requested) is stored without a webhook (upstream
      // GroupSupervisor.Supervise); the installation supervisor's steps after it are delivered.
      fake.tick();
      fake.tick();
      fake.tick();
      expect(fake.stateChanges.map((c) => c.newState)).toEqual(['update-requested', 'update-in-progress', 'stable']);
      const deadline = Date.now() + 3000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(2);
      const [token, json] = (received[0] ?? '').split(/ (.*)/s);
      expect(token).toBe('t');
      expect(json).toContain('"timestamp":1700000000123000000');
      expect(JSON.parse(json ?? '')).toMatchObject({
        id: inst.ID, type: 'installation', new_state: 'update-in-progress', old_state: 'update-requested',
        extra_data: { Environment: 'test', Name: 'alpha' },
      });
      expect(JSON.parse(received[1]!.split(/ (.*)/s)[1] ?? '')).toMatchObject({ id: inst.ID, new_state: 'stable', old_state: 'update-in-progress' });
    } finally {
      sink.closeAllConnections();
      await new Promise((r) => sink.close(r));
    }
  });
});
