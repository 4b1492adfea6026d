import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, IMAGE, type Harness, type HarnessOptions } from './helpers/harness.js';
import { startChatHarness } from './helpers/chat-harness.js';
import { FakeProvisioner, FakeTokenEndpoint, type ClientAuthMethod } from './fakes/fake-provisioner.js';
import { createProvisionerClient } from '../src/integrations/provisioner-client.js';
import { runGroupStep } from '../src/engine/group-runner.js';
import { stepDeps } from './helpers/step-deps.js';

let h: Harness | undefined;
const servers: http.Server[] = [];
const endpoints: FakeTokenEndpoint[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const endpoint of endpoints.splice(0)) await endpoint.stop();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A one-ring, one-group setup released to v2; returns the ring and its group. */
async function releaseOneGroup(options: HarnessOptions & { groupSoak?: number; installations?: number; version?: string; env?: Record<string, { value?: string; valueFrom?: Record<string, unknown> }> } = {}) {
  h = await startHarness(options);
  const ring = await h.ring('ring', 1, { soak: 1, groupSoak: options.groupSoak ?? 0, installations: options.installations ?? 2, ...(options.version ? { version: options.version } : {}), ...(options.env ? { env: options.env } : {}) });
  await h.settle();
  return { ring, group: ring.groups[0]!, pgid: ring.groups[0]!.provisionerGroupId };
}

async function groupJson(harness: Harness, ringId: string) {
  return (await harness.getRing(ringId)).installationGroups[0] as { state: string; statusMessage: string; failureReason: string | null; name: string };
}

/** Advance in steps until the group leaves release-requested (or `maxMs` passes). */
async function untilGroupSettles(harness: Harness, ringId: string, step: number, maxMs: number): Promise<void> {
  for (let t = 0; t <= maxMs; t += step) {
    if ((await groupJson(harness, ringId)).state !== 'release-requested') return;
    await harness.advance(step);
  }
  throw new Error(`group still release-requested after ${maxMs} ms`);
}

const routes = (harness: Harness) => harness.provisioner.requests.map((r) => r.route);

describe('permanent provisioner failures fail at once, with a reason', () => {
  it('404: the provisioner group does not exist', async () => {
    h = await startHarness();
    const created = await h.api('POST', '/rings', { name: 'ghost', priority: 1, soakTime: 1, image: IMAGE, version: 'v1' });
    const missing = 'abcdefghijklmnopqrstuvwxyz';
    await h.api('POST', `/ring/${created.body.ID}/installationgroup`, { name: 'ghost-ig', provisionerGroupID: missing });
    await h.settle();
    await h.api('POST', `/ring/${created.body.ID}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    const ring = await h.getRing(created.body.ID);
    expect(ring.State).toBe('release-failed');
    expect(ring.failureReason).toMatch(new RegExp(`ghost-ig failed: provisioner group ${missing} not found \\(404\\)`));
    expect(ring.installationGroups[0].state).toBe('release-failed');
    expect(routes(h)).toEqual(['getGroup']);
  });

  it('403: the provisioner group is API-locked', async () => {
    const { ring, pgid } = await releaseOneGroup();
    expect((await fetch(`${h!.provisioner.url}/api/security/group/${pgid}/api/lock`, { method: 'POST' })).status).toBe(200);
    h!.provisioner.clearLog();
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(120_000);
    const json = await h!.getRing(ring.id);
    expect(json.State).toBe('release-failed');
    expect(json.failureReason).toMatch(/API-locked \(403\)/);
    expect(routes(h!)).toEqual(['getGroup', 'putGroup']);
  });

  it('400: the provisioner rejects the update as invalid', async () => {
    const { ring, group } = await releaseOneGroup();
    h!.provisioner.failNext('putGroup', 400);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(120_000);
    const ig = await groupJson(h!, ring.id);
    expect(ig.state).toBe('release-failed');
    expect(ig.failureReason).toMatch(/invalid \(400\)/);
    expect((await h!.getRing(ring.id)).failureReason).toContain(group.name);
    expect(routes(h!)).toEqual(['getGroup', 'putGroup']);
  });
});

describe('transient provisioner failures are retried with backoff', () => {
  it('recovers from 5xx on every route, with a retry event each time and one effective PUT', async () => {
    const { ring, pgid } = await releaseOneGroup();
    h!.provisioner.failNext('getGroup', 503, 2);
    h!.provisioner.failNext('putGroup', 502, 1);
    h!.provisioner.failNext('getStatus', 500, 1);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    const waiting = await groupJson(h!, ring.id);
    expect(waiting.state).toBe('release-requested');
    expect(waiting.statusMessage).toMatch(/answered 503 to read the group; retry 1 of 8 in 1s/);
    for (let i = 0; i < 20 && (await groupJson(h!, ring.id)).state === 'release-requested'; i++) await h!.advanceToNextDeadline();
    await h!.advance(1_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    expect(h!.provisioner.group(pgid)!.Version).toBe('v2');
    // GET 503, GET 503, GET, PUT 502, GET, PUT, status 500, GET (already on v2: no PUT), status, fresh GET.
    expect(routes(h!)).toEqual(['getGroup', 'getGroup', 'getGroup', 'putGroup', 'getGroup', 'putGroup', 'getStatus', 'getGroup', 'getStatus', 'getGroup']);
    const retries = (await h!.events(ring.id)).filter((e) => e.kind === 'group.retry');
    expect(retries).toHaveLength(4);
    // Backoff doubles while the provisioner answers nothing (1 s, 2 s); a step it answered in part (GET, then
    // PUT 502 or status 500) starts again at 1 s (times 0.75, the harness jitter).
    const at = h!.provisioner.requests.map((r) => r.at - h!.provisioner.requests[0]!.at);
    expect(at).toEqual([0, 750, 2_250, 2_250, 3_000, 3_000, 3_000, 3_750, 3_750, 3_750]);
  });

  it('409 (group locked by another operation) is retried until the lock is gone', async () => {
    const { ring, pgid } = await releaseOneGroup();
    h!.provisioner.lockGroup(pgid);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(2_000);
    const waiting = await groupJson(h!, ring.id);
    expect(waiting.state).toBe('release-requested');
    expect(waiting.statusMessage).toMatch(/locked by another operation \(409\); retry 2 of 8/);
    h!.provisioner.unlockGroup(pgid);
    await untilGroupSettles(h!, ring.id, 1_000, 30_000);
    expect((await groupJson(h!, ring.id)).state).toBe('stable');
    expect(h!.provisioner.puts(pgid).length).toBe(3);
    expect(h!.provisioner.group(pgid)!.Version).toBe('v2');
  });

  it('gives up after a bounded number of attempts, naming the last error', async () => {
    const { ring } = await releaseOneGroup();
    h!.provisioner.setErrorRate(1, 503, ['getGroup']);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await untilGroupSettles(h!, ring.id, 10_000, 600_000);
    const ig = await groupJson(h!, ring.id);
    expect(ig.state).toBe('release-failed');
    expect(ig.failureReason).toMatch(/gave up after 8 attempts: the provisioner answered 503 to read the group/);
    expect(routes(h!).filter((r) => r === 'getGroup')).toHaveLength(9);
    expect((await h!.getRing(ring.id)).State).toBe('release-failed');
  });

  it('a request that hangs times out and is retried', async () => {
    const { ring } = await releaseOneGroup({ provisionerTimeoutMs: 300 });
    h!.provisioner.hangNext('getStatus');
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    const waiting = await groupJson(h!, ring.id);
    expect(waiting.statusMessage).toMatch(/cannot reach the provisioner to read the group status: no complete answer within 0\.3 s \(the deadline for one request\); retry 1 of 8/);
    await untilGroupSettles(h!, ring.id, 1_000, 10_000);
    expect((await groupJson(h!, ring.id)).state).toBe('stable');
    expect(h!.provisioner.puts()).toHaveLength(1);
  });
});

describe('waiting for the rollout', () => {
  it('a step started from a stale list of due groups does nothing: the group is polled once per due time', async () => {
    const { ring, pgid } = await releaseOneGroup({ settleInstantly: false, provisioner: { rolloutDurationMs: 300_000 } });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    const db = h!.server.store.db;
    const row = await db.selectFrom('installation_groups').select(['id', 'next_check_at']).where('provisioner_group_id', '=', pgid).executeTakeFirstOrThrow();
    expect(row.next_check_at).toBeGreaterThan(h!.clock.now());
    const deps = stepDeps(h!, 'a-second-step');
    const statusReads = () => h!.provisioner.requests.filter((r) => r.route === 'getStatus').length;
    const before = statusReads();
    // The step that just polled stored the next check; one started from a list read before that must not poll again.
    expect(await runGroupStep(deps, row.id)).toBe('skipped');
    expect(statusReads()).toBe(before);
    h!.clock.set(row.next_check_at);
    expect(await runGroupStep(deps, row.id)).toBe('waiting');
    expect(statusReads()).toBe(before + 1);
  });

  it('when events say the rollout ended, the group is read alongside its status (one round trip); otherwise after it', async () => {
    for (const looksDone of [true, false]) {
      const { ring, pgid } = await releaseOneGroup({ settleInstantly: false, provisioner: { rolloutDurationMs: 60_000 } });
      await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
      await h!.settle();
      const db = h!.server.store.db;
      const row = await db.selectFrom('installation_groups').select(['id', 'next_check_at', 'phase']).where('provisioner_group_id', '=', pgid).executeTakeFirstOrThrow();
      expect(row.phase).toBe('rolling');
      h!.clock.set(Math.max(row.next_check_at, h!.clock.now() + 60_000));
      // The calls as the step makes them and as their answers come back.
      const calls: string[] = [];
      const base = stepDeps(h!, 'a-second-step');
      const traced = <A extends unknown[], T>(name: string, call: (...args: A) => Promise<T>) => async (...args: A) => {
        calls.push(`${name} sent`);
        const answer = await call(...args);
        calls.push(`${name} answered`);
        return answer;
      };
      const provisioner = { ...base.provisioner, getGroup: traced('group', base.provisioner.getGroup), getGroupStatus: traced('status', base.provisioner.getGroupStatus) };
      const asked: string[] = [];
      const statusPolls = { statusPollDelay: () => 1000, rolloutLooksDone: (id: string) => (asked.push(id), looksDone) };
      expect(await runGroupStep({ ...base, provisioner, statusPolls }, row.id)).toBe('progressed');
      expect(asked).toEqual([pgid]);
      expect(calls.slice(0, 2)).toEqual(looksDone ? ['group sent', 'status sent'] : ['status sent', 'status answered']);
      expect(calls).toHaveLength(4);
      expect((await groupJson(h!, ring.id)).state).toBe('stable');
      await h!.close();
      h = undefined;
    }
  });

  it('polls status soon after the PUT, then backs off up to provisionerStatusInterval', async () => {
    const { ring, pgid } = await releaseOneGroup({ settleInstantly: false, provisioner: { rolloutDurationMs: 300_000 }, config: { provisionerStatusInterval: 10 } });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    expect((await groupJson(h!, ring.id)).statusMessage).toBe('0 of 2 installations updated, 2 waiting');
    const db = h!.server.store.db;
    for (let i = 0; i < 200 && (await groupJson(h!, ring.id)).state === 'release-requested'; i++) {
      const row = await db.selectFrom('installation_groups').select('next_check_at').where('provisioner_group_id', '=', pgid).executeTakeFirstOrThrow();
      h!.clock.set(Number(row.next_check_at));
      await h!.settle();
    }
    const put = h!.provisioner.requests.find((r) => r.route === 'putGroup')!.at;
    const polls = h!.provisioner.requests.filter((r) => r.route === 'getStatus').map((r) => r.at - put);
    expect(polls[0]).toBe(0);
    expect(polls[1]).toBe(100);
    const gaps = polls.slice(1).map((t, i) => t - polls[i]!);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(Math.max(...gaps)).toBe(10_000);
    // The rollout finished at 300 s; it was noticed within one interval.
    expect(polls.at(-1)!).toBeGreaterThanOrEqual(300_000);
    expect(polls.at(-1)!).toBeLessThanOrEqual(310_000);
    expect((await groupJson(h!, ring.id)).state).toBe('stable');
    const progress = (await h!.events(ring.id)).filter((e) => e.kind === 'group.progress').map((e) => e.message);
    expect(progress).toContain(`provisioner group ${pgid} updated: ${IMAGE}:v1 → ${IMAGE}:v2`);
  });

  it('times out after provisionerGroupReleaseTimeout with the last status in the reason', async () => {
    const { ring } = await releaseOneGroup({ settleInstantly: false, config: { provisionerGroupReleaseTimeout: 120, provisionerStatusInterval: 10 } });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(100_000);
    expect((await groupJson(h!, ring.id)).state).toBe('release-requested');
    await untilGroupSettles(h!, ring.id, 10_000, 60_000);
    const json = await h!.getRing(ring.id);
    expect(json.State).toBe('release-failed');
    expect(json.installationGroups[0].failureReason).toMatch(/rollout timed out after 1[23]\ds \(--provisioner-group-release-timeout\); last status: 0 of 2 installations updated, 2 waiting/);
    expect(json.failureReason).toMatch(/timed out/);
  });

  it('names installations stuck in update-failed in the status message and the timeout reason', async () => {
    const { ring, pgid } = await releaseOneGroup({ settleInstantly: false, provisioner: { rolloutDurationMs: 5_000 }, installations: 3, config: { provisionerGroupReleaseTimeout: 60 } });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    const stuck = h!.provisioner.installations(pgid)[1]!;
    h!.provisioner.setInstallationState(stuck.ID, 'update-failed');
    await h!.advance(10_000);
    const ig = await groupJson(h!, ring.id);
    expect(ig.state).toBe('release-requested');
    expect(ig.statusMessage).toBe(`2 of 3 installations updated, 1 updating; stuck in update-failed: ${stuck.Name}`);
    await untilGroupSettles(h!, ring.id, 10_000, 120_000);
    const failed = await groupJson(h!, ring.id);
    expect(failed.state).toBe('release-failed');
    expect(failed.failureReason).toContain(`stuck in update-failed: ${stuck.Name}`);
  });

  it('a group with MaxRolling 0 says so while it waits (group and ring status, why), until it is raised', async () => {
    const { ring, pgid } = await releaseOneGroup({ settleInstantly: false, config: { provisionerStatusInterval: 10 } });
    const pause = async (maxRolling: number) =>
      expect((await fetch(`${h!.provisioner.url}/api/group/${pgid}`, { method: 'PUT', body: JSON.stringify({ MaxRolling: maxRolling }) })).status).toBe(200);
    await pause(0);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    const blocked = `provisioner group ${pgid} has MaxRolling 0, so the provisioner updates none of its installations: raise it (cloud group update --group ${pgid} --max-rolling 1), or cancel this release`;
    expect((await groupJson(h!, ring.id)).statusMessage).toBe(`0 of 2 installations updated, 2 waiting; ${blocked}`);
    // Still said on later polls (the group is read again while nothing moves), and by the ring and `why`.
    for (let i = 0; i < 3; i++) {
      h!.provisioner.tick();
      await h!.advance(10_000);
    }
    expect((await groupJson(h!, ring.id)).statusMessage).toContain(blocked);
    expect((await h!.getRing(ring.id)).statusMessage).toContain(blocked);
    // `why` says it in what holds the ring (its next step names the group: each part is said once).
    const why = (await h!.api('GET', `/ring/${ring.id}/why`)).body as Array<{ next: string; holds: Array<{ kind: string; message: string }> }>;
    expect(why[0]!.holds.find((hold) => hold.kind === 'rollout')!.message).toBe(`group ${ring.groups[0]!.name}: rolling out, 0 of 2 installations updated, 2 waiting; ${blocked}`);
    expect(why[0]!.next).toBe(`waiting for group ${ring.groups[0]!.name} (0 of 1 groups done)`);
    expect(h!.provisioner.status(pgid)!.InstallationsAwaitingUpdate).toBe(2);
    // An installation stuck in update-failed does not hide it.
    const failed = h!.provisioner.installations(pgid)[0]!;
    h!.provisioner.setInstallationState(failed.ID, 'update-failed');
    await h!.advance(10_000);
    await h!.advance(10_000);
    expect((await groupJson(h!, ring.id)).statusMessage).toBe(`0 of 2 installations updated, 1 updating, 1 waiting; stuck in update-failed: ${failed.Name}; ${blocked}`);
    h!.provisioner.setInstallationState(failed.ID, 'stable');

    // Raised: the rollout moves, and the message says no more than the progress.
    await pause(1);
    h!.provisioner.tick();
    await h!.advance(10_000);
    expect((await groupJson(h!, ring.id)).statusMessage).toBe('0 of 2 installations updated, 1 updating, 1 waiting');
    for (let i = 0; i < 10 && (await groupJson(h!, ring.id)).state === 'release-requested'; i++) {
      h!.provisioner.tick();
      await h!.advance(10_000);
    }
    expect((await h!.getRing(ring.id)).installationGroups[0].state).toBe('stable');
  });

  it('the release card shows the MaxRolling 0 wait', async () => {
    const chat = await startChatHarness();
    h = chat;
    chat.provisioner.settleInstantly = false;
    const ring = await chat.ring('paused', 1);
    await chat.settle();
    const pgid = ring.groups[0]!.provisionerGroupId;
    await fetch(`${chat.provisioner.url}/api/group/${pgid}`, { method: 'PUT', body: JSON.stringify({ MaxRolling: 0 }) });
    await chat.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await chat.settle();
    for (let i = 0; i < 5; i++) await chat.advance(2_000);
    const fields = ((chat.card()?.props as { attachments?: Array<{ fields?: Array<{ value: string }> }> })?.attachments?.[0]?.fields ?? []).map((f) => f.value);
    expect(fields).toEqual([expect.stringContaining(`provisioner group ${pgid} has MaxRolling 0, so the provisioner updates none of its installations`)]);
  });

  it('fails when someone else changed the group during the rollout, naming both versions', async () => {
    const { ring, pgid } = await releaseOneGroup({ settleInstantly: false, provisioner: { rolloutDurationMs: 5_000 } });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    const meddle = await fetch(`${h!.provisioner.url}/api/group/${pgid}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ID: pgid, Version: 'v9' }) });
    expect(meddle.status).toBe(200);
    await h!.advance(10_000);
    await untilGroupSettles(h!, ring.id, 5_000, 30_000);
    const json = await h!.getRing(ring.id);
    expect(json.State).toBe('release-failed');
    expect(json.installationGroups[0].failureReason).toMatch(new RegExp(`does not carry the release after the rollout \\(changed by someone else, or not stored as sent\\): expected ${IMAGE}:v2, found ${IMAGE}:v9`));
    expect(h!.provisioner.puts(pgid)).toHaveLength(2); // ours and theirs; Elrond did not fight back
  });
});

describe('only what differs is sent', () => {
  it('sends no PUT when the group already carries the release', async () => {
    const { ring, pgid } = await releaseOneGroup({ version: 'v2', env: { A: { value: '1' } } });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2', EnvVariables: { A: { value: '1' } } });
    await h!.settle();
    await h!.advance(1_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    expect(routes(h!)).toEqual(['getGroup', 'getStatus', 'getGroup']);
    expect(h!.provisioner.puts(pgid)).toEqual([]);
  });

  it('compares env fully, valueFrom included', async () => {
    const secret = (name: string) => ({ valueFrom: { secretKeyRef: { name, key: 'k' } } });
    const { ring, pgid } = await releaseOneGroup({ env: { S: secret('one') } });
    // Same valueFrom: nothing to do.
    await h!.api('POST', `/ring/${ring.id}/release`, { EnvVariables: { S: secret('one') } });
    await h!.settle();
    await h!.advance(1_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    expect(h!.provisioner.puts(pgid)).toEqual([]);
    // Another secret behind the same name: a PUT.
    await h!.api('POST', `/ring/${ring.id}/release`, { EnvVariables: { S: secret('two') } });
    await h!.settle();
    await h!.advance(1_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    expect(h!.provisioner.puts(pgid)).toEqual([expect.objectContaining({ MattermostEnv: { S: secret('two') } })]);
    expect(h!.provisioner.group(pgid)!.MattermostEnv).toEqual({ S: secret('two') });
  });
});

describe('OAuth2 client credentials', () => {
  /** A token endpoint that takes only the given client authentication, started and stopped with the test. */
  async function tokenEndpoint(accept: ClientAuthMethod[], clientSecret = 'elrond-secret'): Promise<FakeTokenEndpoint> {
    const endpoint = new FakeTokenEndpoint({ clientId: 'elrond id', clientSecret, accept, expiresIn: 120 });
    await endpoint.start();
    endpoints.push(endpoint);
    return endpoint;
  }
  const oauthConfig = (endpoint: FakeTokenEndpoint) => ({ provisionerClientId: 'elrond id', provisionerClientSecret: 'elrond-secret', provisionerTokenEndpoint: endpoint.url });

  it.each([
    { accept: ['basic', 'body'] as ClientAuthMethod[], first: ['basic'] },
    { accept: ['basic'] as ClientAuthMethod[], first: ['basic'] },
    { accept: ['body'] as ClientAuthMethod[], first: ['basic', 'body'] },
  ])('tries HTTP Basic, then the form body, and remembers what worked (endpoint takes $accept)', async ({ accept, first }) => {
    const endpoint = await tokenEndpoint(accept);
    const { ring, pgid } = await releaseOneGroup({ provisioner: { requireToken: 'the-token' }, config: oauthConfig(endpoint) });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    await h!.advance(1_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    expect(h!.provisioner.group(pgid)!.Version).toBe('v2');
    expect(endpoint.requests.map((r) => r.method)).toEqual(first);
    const granted = endpoint.requests.at(-1)!;
    expect(granted.status).toBe(200);
    expect(granted.form).toMatchObject({ grant_type: 'client_credentials', scope: 'offline_access api://provisioner/.default' });
    expect(h!.provisioner.requests.length).toBe(4); // one token for all of them

    // Past expiry (120 s, refreshed 30 s early) the next call fetches a new token, the way that worked only;
    // a 503 from the endpoint is retried.
    endpoint.failNext(503);
    h!.clock.advance(100_000);
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v3' });
    await h!.settle();
    expect((await groupJson(h!, ring.id)).statusMessage).toMatch(/OAuth token.*\(503\); retry 1 of 8/);
    await untilGroupSettles(h!, ring.id, 1_000, 10_000);
    await h!.advance(1_000);
    expect((await h!.getRing(ring.id)).State).toBe('stable');
    expect(h!.provisioner.group(pgid)!.Version).toBe('v3');
    const worked = first.at(-1)!;
    expect(endpoint.requests.map((r) => r.method)).toEqual([...first, worked, worked]);
  });

  it('wrong credentials fail the group with both refusals and the fix, and no secret', async () => {
    const endpoint = await tokenEndpoint(['basic', 'body'], 'another-secret');
    const { ring } = await releaseOneGroup({ provisioner: { requireToken: 'the-token' }, config: oauthConfig(endpoint) });
    await h!.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h!.settle();
    const ig = await groupJson(h!, ring.id);
    expect(ig.state).toBe('release-failed');
    expect(ig.failureReason).toBe(
      "cannot get an OAuth token from the provisioner's token endpoint (401 invalid_client: client authentication failed): check --provisioner-client-id and --provisioner-client-secret",
    );
    expect(endpoint.requests.map((r) => r.method)).toEqual(['basic', 'body']);
    expect(h!.provisioner.requests).toEqual([]);
  });

  it('asks for one token when many steps need one at once', async () => {
    let tokenRequests = 0;
    const tokenServer = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        tokenRequests++;
        setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'the-token', expires_in: 3600 })), 50);
      });
    });
    servers.push(tokenServer);
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    const provisioner = new FakeProvisioner({ requireToken: 'the-token' });
    const url = await provisioner.start();
    try {
      const group = provisioner.createGroup({ Name: 'g', Image: IMAGE, Version: 'v1', MaxRolling: 1 });
      const client = createProvisionerClient({ baseUrl: url, oauth: { clientId: 'id', clientSecret: 'secret', tokenEndpoint: `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token` } });
      const groups = await Promise.all(Array.from({ length: 10 }, () => client.getGroup(group.ID)));
      expect(groups.map((g) => g.ID)).toEqual(Array(10).fill(group.ID));
      expect(tokenRequests).toBe(1);
    } finally {
      await provisioner.stop();
    }
  });
});

