/**
 * REST API — installation groups (elrond-behaviour.md §3): register on a ring, update, delete the link.
 * Fixed bugs: a group name / provisioner group belongs to one ring (409 naming it), unknown ids are 404.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { TEST_DIALECTS } from './helpers/temp-database.js';
import { newId } from '../src/model/ids.js';

const GROUP_KEYS = ['id', 'name', 'state', 'releaseAt', 'soakTime', 'provisionerGroupID'];

async function counts(h: Harness) {
  const db = h.server.store.db;
  const n = async (table: 'rings' | 'installation_groups' | 'ring_installation_groups' | 'events') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { rings: await n('rings'), groups: await n('installation_groups'), links: await n('ring_installation_groups'), events: await n('events') };
}

for (const dialect of TEST_DIALECTS) {
  describe(`installation groups API (${dialect})`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness({ dialect });
    });
    afterEach(async () => {
      await h.close();
    });

    it('POST /ring/{id}/installationgroup: 200 and the ring with only the new group; keys in any case', async () => {
      const ring = await h.ring('reg', 1, { groups: 1 });
      const pg = h.provisioner.createGroup({ Name: 'extra', Image: IMAGE, Version: 'v1' });
      const reply = await h.api('POST', `/ring/${ring.id}/installationgroup`, { NAME: 'reg-extra', SOAKTIME: 45, ProvisionerGroupId: pg.ID });
      expect(reply.status).toBe(200);
      expect(reply.body.ID).toBe(ring.id);
      expect(reply.body.installationGroups).toHaveLength(1);
      const group = reply.body.installationGroups[0];
      expect(Object.keys(group)).toEqual(expect.arrayContaining(GROUP_KEYS));
      expect(group).toMatchObject({ name: 'reg-extra', state: 'stable', releaseAt: 0, soakTime: 45, provisionerGroupID: pg.ID });
      expect(group.id).toMatch(/^[a-z0-9]{26}$/);
      const fetched = (await h.api('GET', `/ring/${ring.id}`)).body;
      expect(fetched.installationGroups.map((g: any) => g.id).sort()).toEqual([ring.groups[0]!.id, group.id].sort());
      // soakTime is optional (0).
      const noSoak = await h.api('POST', `/ring/${ring.id}/installationgroup`, { name: 'reg-nosoak', provisionerGroupID: 'pgnosoak' });
      expect(noSoak.status).toBe(200);
      expect(noSoak.body.installationGroups[0].soakTime).toBe(0);
    });

    it('a group name or provisioner group belongs to one ring: 409 naming that ring, nothing written', async () => {
      const a = (await h.api('POST', '/rings', { name: 'ring-a', priority: 1, installationGroup: { name: 'shared', provisionerGroupID: 'pgshared' } })).body;
      const b = await h.ring('ring-b', 2, { groups: 1 });
      const before = await counts(h);

      const sameName = await h.api('POST', `/ring/${b.id}/installationgroup`, { name: 'shared', provisionerGroupID: 'pgother' });
      expect(sameName.status).toBe(409);
      expect(sameName.body.error).toBe(
        `installation group name "shared" already belongs to ring ring-a (${a.ID}): a group belongs to one ring; remove it there first or use another name`,
      );
      const samePg = await h.api('POST', `/ring/${b.id}/installationgroup`, { name: 'fresh', provisionerGroupID: 'pgshared' });
      expect(samePg.status).toBe(409);
      expect(samePg.body.error).toMatch(new RegExp(`provisioner group pgshared already belongs to ring ring-a \\(${a.ID}\\)`));
      const twiceOnSameRing = await h.api('POST', `/ring/${a.ID}/installationgroup`, { name: 'shared', provisionerGroupID: 'pgshared' });
      expect(twiceOnSameRing.status).toBe(409);
      expect(twiceOnSameRing.body.error).toMatch(/already belongs to ring ring-a/);

      const newRing = await h.api('POST', '/rings', { name: 'ring-c', priority: 3, installationGroup: { name: 'shared', provisionerGroupID: 'pgc' } });
      expect(newRing.status).toBe(409);
      expect(newRing.body.error).toMatch(/name "shared" already belongs to ring ring-a/);

      const rename = await h.api('POST', `/installationgroup/${b.groups[0]!.id}/update`, { name: 'shared' });
      expect(rename.status).toBe(409);
      expect(rename.body.error).toMatch(/name "shared" already belongs to ring ring-a/);
      const repoint = await h.api('POST', `/installationgroup/${b.groups[0]!.id}/update`, { provisionerGroupID: 'pgshared' });
      expect(repoint.status).toBe(409);
      expect(repoint.body.error).toMatch(/provisioner group pgshared already belongs to ring ring-a/);

      expect(await counts(h)).toEqual(before);
      expect((await h.api('GET', '/rings')).body.map((r: any) => r.Name)).toEqual(['ring-a', 'ring-b']);
    });

    it('racing registrations of one name: exactly one wins, the others are 409 (never a 5xx)', async () => {
      const rings = [];
      for (let i = 0; i < 6; i++) rings.push((await h.api('POST', '/rings', { name: `race-${i}`, priority: i + 1 })).body.ID as string);
      const replies = await Promise.all(
        rings.map((id, i) => h.api('POST', `/ring/${id}/installationgroup`, { name: 'contested', provisionerGroupID: `pgrace${i}` })),
      );
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
      const winner = rings[replies.findIndex((r) => r.status === 200)]!;
      for (const reply of replies.filter((r) => r.status === 409)) expect(reply.body.error).toMatch(new RegExp(`already belongs to ring race-\\d \\(${winner}\\)`));
      expect((await counts(h)).groups).toBe(1);
    });

    it('rejects malformed register bodies with a 400 naming the field', async () => {
      const ring = await h.ring('bad', 1, { groups: 0 });
      const before = await counts(h);
      const cases: Array<[unknown, RegExp]> = [
        [{}, /name: is required/],
        [{ name: 'g' }, /provisionerGroupID: is required \(e\.g\. "provisionerGroupID"/],
        [{ name: 'g', provisionerGroupID: 'has-dash' }, /provisionerGroupID: must be a provisioner group id/],
        [{ name: 'g', provisionerGroupID: 42 }, /provisionerGroupID: Expected string/],
        [{ name: 'g', provisionerGroupID: 'pg', soakTime: -1 }, /soakTime: must not be negative/],
        [{ name: 'g', provisionerGroupID: 'pg', soakTime: '1h' }, /soakTime: must be a number of seconds/],
        [{ name: '   ', provisionerGroupID: 'pg' }, /name: must not be empty/],
        [{ name: 'g'.repeat(129), provisionerGroupID: 'pg' }, /name: must be at most 128 characters/],
        [[], /must be a JSON object/],
      ];
      for (const [body, message] of cases) {
        const reply = await h.api('POST', `/ring/${ring.id}/installationgroup`, body);
        expect(reply.status).toBe(400);
        expect(reply.body.error).toMatch(message);
      }
      expect((await h.api('POST', `/ring/${ring.id}/installationgroup`, '{bad json')).status).toBe(400);
      expect(await counts(h)).toEqual(before);
    });

    it('POST /installationgroup/{id}/update: 202 and the group; unknown or malformed ids are a 404, not a crash', async () => {
      const ring = await h.ring('upd', 1, { groups: 1 });
      const groupId = ring.groups[0]!.id;
      const updated = await h.api('POST', `/installationgroup/${groupId}/update`, { Name: 'upd-renamed', SoakTime: 99, PROVISIONERGROUPID: 'pgnew' });
      expect(updated.status).toBe(202);
      expect(Object.keys(updated.body)).toEqual(expect.arrayContaining(GROUP_KEYS));
      expect(updated.body).toMatchObject({ id: groupId, name: 'upd-renamed', soakTime: 99, provisionerGroupID: 'pgnew', state: 'stable' });
      const same = await h.api('POST', `/installationgroup/${groupId}/update`, { name: '', provisionerGroupID: '' });
      expect(same.status).toBe(202);
      expect(same.body).toMatchObject({ name: 'upd-renamed', soakTime: 99, provisionerGroupID: 'pgnew' });
      expect((await h.api('GET', `/ring/${ring.id}`)).body.installationGroups[0]).toMatchObject({ name: 'upd-renamed', provisionerGroupID: 'pgnew' });

      const unknown = await h.api('POST', `/installationgroup/${newId()}/update`, { name: 'x' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toMatch(/installation group \w{26} not found/);
      const malformed = await h.api('POST', '/installationgroup/nope/update', { name: 'x' });
      expect(malformed.status).toBe(404);
      expect(malformed.body.error).toMatch(/installation group nope not found/);
      const bad = await h.api('POST', `/installationgroup/${groupId}/update`, { soakTime: -5 });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/soakTime: must not be negative/);
      expect((await h.api('GET', '/rings')).status).toBe(200);
    });

    it('DELETE /ring/{id}/installationgroup/{group}: 204; an unknown group is a no-op; the name is free again', async () => {
      const a = await h.ring('del-a', 1, { groups: 2 });
      const b = await h.ring('del-b', 2, { groups: 0 });
      const [first, second] = a.groups;
      const removed = await fetch(`${h.server.url}/api/ring/${a.id}/installationgroup/${first!.id}`, { method: 'DELETE' });
      expect(removed.status).toBe(204);
      expect(await removed.text()).toBe('');
      expect((await h.api('GET', `/ring/${a.id}`)).body.installationGroups.map((g: any) => g.id)).toEqual([second!.id]);
      expect((await h.api('POST', `/installationgroup/${first!.id}/update`, { soakTime: 5 })).status).toBe(404);

      const before = await counts(h);
      for (const id of [first!.id, newId(), 'not-a-group', second!.id.toUpperCase()]) {
        expect((await h.api('DELETE', `/ring/${a.id}/installationgroup/${encodeURIComponent(id)}`)).status).toBe(204);
      }
      // A group of another ring is not removed through this ring.
      const other = await h.api('POST', `/ring/${b.id}/installationgroup`, { name: 'b-group', provisionerGroupID: 'pgb' });
      const otherId = other.body.installationGroups[0].id;
      const afterRegister = await counts(h);
      expect((await h.api('DELETE', `/ring/${a.id}/installationgroup/${otherId}`)).status).toBe(204);
      expect(await counts(h)).toEqual(afterRegister);
      expect(afterRegister.groups).toBe(before.groups + 1);
      expect((await h.api('DELETE', `/ring/${newId()}/installationgroup/${second!.id}`)).status).toBe(404);

      // The removed group's name and provisioner group can be registered again, anywhere.
      const again = await h.api('POST', `/ring/${b.id}/installationgroup`, { name: first!.name, provisionerGroupID: first!.provisionerGroupId });
      expect(again.status).toBe(200);
      expect(again.body.installationGroups[0]).toMatchObject({ name: first!.name, provisionerGroupID: first!.provisionerGroupId });

      // The last group removed: the ring omits the key, as the original did for rings without groups.
      expect((await h.api('DELETE', `/ring/${a.id}/installationgroup/${second!.id}`)).status).toBe(204);
      expect((await h.api('GET', `/ring/${a.id}`)).body).not.toHaveProperty('installationGroups');
    });

    it('a group that is rolling out or soaking cannot be removed or repointed (409)', async () => {
      const ring = await h.ring('rolling', 1, { groups: 1, groupSoak: 600, soak: 600 });
      await h.settle();
      expect((await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
      await h.settle();
      const group = (await h.api('GET', `/ring/${ring.id}`)).body.installationGroups[0];
      expect(group.state).toMatch(/release-requested|release-soaking-requested/);
      const before = await counts(h);
      const remove = await h.api('DELETE', `/ring/${ring.id}/installationgroup/${group.id}`);
      expect(remove.status).toBe(409);
      expect(remove.body.error).toMatch(new RegExp(`installation group ${group.name} is ${group.state}, so it cannot be removed now`));
      const repoint = await h.api('POST', `/installationgroup/${group.id}/update`, { provisionerGroupID: 'pgelsewhere' });
      expect(repoint.status).toBe(409);
      expect(repoint.body.error).toMatch(/cannot be pointed at another provisioner group now/);
      expect(await counts(h)).toEqual(before);
    });
  });
}
