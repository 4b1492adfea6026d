import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { ManualClock } from '../src/model/clock.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3600_000;
const why = async (ringId: string) => (await h!.api('GET', `/ring/${ringId}/why`)).body[0] as { holds: Array<{ kind: string; message: string; until?: number }>; next: string };

describe('freeze windows', () => {
  it('hold a pending ring, say so everywhere, and let it go when they end', async () => {
    h = await startHarness();
    const r1 = await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    const freeze = await h.api('POST', '/freezes', { start: '+0s', end: '+2h', reason: 'holidays' });
    expect(freeze.status).toBe(201);
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    const ring = await h.getRing(r1.id);
    expect(ring.State).toBe('release-pending');
    expect(ring.statusMessage).toMatch(/frozen until .*reason: holidays, by api/);
    expect(h.provisioner.puts()).toHaveLength(0);
    expect((await why(r1.id)).holds.map((x) => x.kind)).toContain('freeze');
    await h.advance(2 * HOUR);
    await h.advance(1000);
    expect((await h.getRing(r1.id)).State).toBe('stable');
    expect(h.provisioner.puts()).toHaveLength(1);
  });

  it('let a group already rolling finish, then hold the ring before its next group', async () => {
    h = await startHarness({ settleInstantly: false });
    const r1 = await h.ring('canary', 1, { soak: 1, groups: 2 });
    await h.settle();
    await h.api('POST', `/ring/${r1.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    expect(h.provisioner.puts().map((p) => p.ID)).toEqual([r1.groups[0]!.provisionerGroupId]);
    await h.api('POST', '/freezes/now', { reason: 'incident 42', until: '+1h' });
    for (let i = 0; i < 4; i++) {
      h.provisioner.tick();
      await h.advance(1000);
    }
    const groups = (await h.getRing(r1.id)).installationGroups;
    expect(groups[0].state).toBe('stable');
    expect(groups[1].state).toBe('release-pending');
    expect(h.provisioner.puts()).toHaveLength(1);
    const answer = await why(r1.id);
    expect(answer.next).toMatch(/frozen until .*incident 42/);
    await h.advance(HOUR);
    for (let i = 0; i < 5; i++) {
      h.provisioner.tick();
      await h.advance(1000);
    }
    expect((await h.getRing(r1.id)).State).toBe('stable');
  });

  it('a recurring freeze crossing midnight in New York holds at 01:30 local time and lifts at 02:00', async () => {
    // 2026-11-26 06:30 UTC is 01:30 in New York (UTC-5); the window opens 23:00 local for 3 hours.
    h = await startHarness({ clock: new ManualClock(Date.UTC(2026, 10, 26, 6, 30)) });
    const r1 = await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    const created = await h.api('POST', '/freezes', { cron: '0 23 * * *', duration: '3h', timezone: 'America/New_York', reason: 'nightly maintenance' });
    expect(created.status).toBe(201);
    expect(created.body.activeUntil).toBe(Date.UTC(2026, 10, 26, 7, 0));
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    expect((await h.getRing(r1.id)).statusMessage).toMatch(/frozen until 2026-11-26T07:00:00.000Z, reason: nightly maintenance/);
    await h.advance(30 * 60_000);
    await h.advance(1000);
    expect((await h.getRing(r1.id)).State).toBe('stable');
  });

  it('an override needs a reason, is recorded, and lets the release through', async () => {
    h = await startHarness();
    const r1 = await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    await h.api('POST', '/freezes/now', { reason: 'code freeze' });
    const noReason = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2', overrideFreeze: true });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error).toMatch(/reason/);
    const ok = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2', overrideFreeze: true, reason: 'security fix CVE-1' });
    expect(ok.status).toBe(202);
    await h.settle();
    await h.advance(1000);
    expect((await h.getRing(r1.id)).State).toBe('stable');
    const history = await h.api('GET', '/events?limit=50');
    expect(history.body.some((e: { kind: string; message: string }) => e.kind === 'freeze.overridden' && /security fix CVE-1/.test(e.message))).toBe(true);
  });

  it('refuses bad windows with a message naming the problem', async () => {
    h = await startHarness();
    for (const [body, error] of [
      [{ cron: '0 25 * * *', duration: '1h', reason: 'x y z' }, /hour "25"/],
      [{ cron: '0 23 * * *', reason: 'x y z' }, /duration is required/],
      [{ cron: '0 23 * * *', duration: '1h', timezone: 'Mars/Olympus', reason: 'x y z' }, /IANA timezone/],
      [{ start: '+2h', end: '+1h', reason: 'x y z' }, /end must be after start/],
      [{ start: 'tomorrow', end: '+1h', reason: 'x y z' }, /not a time/],
      [{ start: '+1h', end: '+2h' }, /reason/],
    ] as const) {
      const response = await h.api('POST', '/freezes', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toMatch(error);
    }
  });
});

describe('plan preview', () => {
  it('changes nothing and shows rings in order with diff, soaks, approvals, freezes and ETAs', async () => {
    h = await startHarness();
    const r1 = await h.ring('canary', 1, { soak: 600, groupSoak: 60, groups: 2 });
    const r2 = await h.ring('production', 2, { soak: 3600 });
    await h.api('POST', `/ring/${r2.id}/update`, { approvalRequired: true });
    await h.settle();
    await h.api('POST', '/freezes', { rings: [r2.id], start: '+10m', end: '+3h', reason: 'demo day' });
    const before = await h.events();
    const plan = await h.api('POST', '/rings/release/plan', { image: IMAGE, version: 'v2', EnvVariables: { MM_FLAG: { value: 'on' }, MM_DB_PASSWORD: { value: 'hunter2' }, MM_OLD: { value: '' } } });
    expect(plan.status).toBe(200);
    expect(await h.events()).toEqual(before);
    expect((await h.getRing(r1.id)).State).toBe('stable');
    const [first, second] = plan.body.rings;
    expect([first.name, second.name]).toEqual(['canary', 'production']);
    expect(first.current).toBe(`${IMAGE}:v1`);
    expect(first.target).toBe(`${IMAGE}:v2`);
    expect(first.env.added).toEqual({ MM_FLAG: 'on', MM_DB_PASSWORD: '••••••' });
    expect(JSON.stringify(plan.body)).not.toContain('hunter2');
    expect(first.groups.map((g: { soakSeconds: number; estimateFrom: string }) => [g.soakSeconds, g.estimateFrom])).toEqual([[60, 'default'], [60, 'default']]);
    // canary: 2 × (5 min default rollout + 60 s soak) + 600 s ring soak.
    expect(first.endEta - first.startEta).toBe(2 * (5 * 60_000 + 60_000) + 600_000);
    expect(second.approvalRequired).toBe(true);
    expect(second.freezes[0]).toMatchObject({ reason: 'demo day' });
    // production would start inside the demo-day freeze, so its start moves to the freeze's end.
    expect(second.startEta).toBe(second.freezes[0].end);
    expect(plan.body.endEta).toBe(second.endEta);
  });

  it('uses the group\'s past rollouts for its estimate once it has some', async () => {
    h = await startHarness({ settleInstantly: false });
    const r1 = await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    await h.api('POST', `/ring/${r1.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    for (let i = 0; i < 3; i++) {
      await h.advance(40_000);
      h.provisioner.tick();
    }
    await h.advance(10_000);
    await h.advance(1000);
    expect((await h.getRing(r1.id)).State).toBe('stable');
    const plan = await h.api('POST', `/ring/${r1.id}/release/plan`, { version: 'v3' });
    const group = plan.body.rings[0].groups[0];
    expect(group.estimateFrom).toBe('history');
    expect(group.rolloutEstimateMs).toBeGreaterThan(60_000);
    expect(group.rolloutEstimateMs).toBeLessThan(5 * 60_000);
  });
});

describe('why: one answer per gate, from the engine\'s own logic', () => {
  it('a group waiting to retry the provisioner: each part said once, and given as data', async () => {
    h = await startHarness();
    const ring = await h.ring('canary', 1, { soak: 60 });
    await h.settle();
    h.provisioner.failNext('getGroup', 503, 2);
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    h.clock.advance(300);
    const [answer] = (await h.api('GET', `/ring/${ring.id}/why`)).body as Array<{ next: string; holds: Array<{ kind: string; message: string; group?: string; retry?: { error: string; attempt: number; of: number; at: number }; until?: number }> }>;
    const rollout = answer!.holds.find((x) => x.kind === 'rollout')!;
    const error = rollout.retry!.error;
    expect(error).toMatch(/answered 503 to read the group/);
    // The error once, then when the retry comes: never a message inside a message.
    expect(rollout.message.split(error)).toHaveLength(2);
    expect(rollout.message).toBe(`group ${ring.groups[0]!.name}: updating the provisioner group; the last attempt failed: ${error}; retry 1 of 8 at 12:00:00 UTC (in 1s)`);
    expect(rollout).toMatchObject({ group: ring.groups[0]!.name, retry: { attempt: 1, of: 8, at: Date.UTC(2026, 10, 25, 12) + 750 }, until: Date.UTC(2026, 10, 25, 12) + 750 });
    // What comes next names the group, not its status again.
    expect(answer!.next).toBe(`waiting for group ${ring.groups[0]!.name} (0 of 1 groups done)`);
  });

  it('names soak, an earlier ring, approval, a pause, a lease, a rollout in progress and a failure', async () => {
    h = await startHarness({ settleInstantly: false });
    const r1 = await h.ring('canary', 1, { soak: 600 });
    const r2 = await h.ring('production', 2, { soak: 1 });
    await h.api('POST', `/ring/${r2.id}/update`, { approvalRequired: true });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    expect((await why(r1.id)).holds.find((x) => x.kind === 'rollout')?.message).toMatch(/^group canary-ig-\S+: rolling out, 0 of 2 installations updated, 2 waiting$/);
    const held = (await why(r2.id)).holds.map((x) => x.kind);
    expect(held).toEqual(expect.arrayContaining(['approval', 'ring-in-progress']));
    for (let i = 0; i < 4; i++) {
      h.provisioner.tick();
      await h.advance(1000);
    }
    const soak = (await why(r1.id)).holds.find((x) => x.kind === 'soak');
    expect(soak?.message).toMatch(/soaking until .* left/);
    // A lease held by another process.
    await h.server.store.db.updateTable('rings').set({ locked_by: 'elrond-other', locked_at: h.clock.now(), locked_until: h.clock.now() + 60_000 }).where('id', '=', r1.id).execute();
    expect((await why(r1.id)).holds.find((x) => x.kind === 'lease')?.message).toMatch(/elrond-other's lease since/);
    await h.server.store.db.updateTable('rings').set({ locked_by: null, locked_until: 0 }).where('id', '=', r1.id).execute();
    await h.api('POST', '/rings/release/pause');
    expect((await why(r2.id)).holds.map((x) => x.kind)).toEqual(['paused']);
    await h.api('POST', '/rings/release/cancel');
    // A failure.
    await h.api('POST', `/ring/${r2.id}/update`, { approvalRequired: false });
    h.provisioner.failNext('getGroup', 404);
    await h.advance(600_000);
    await h.api('POST', `/ring/${r2.id}/release`, { image: IMAGE, version: 'v3', force: true });
    await h.settle();
    expect((await why(r2.id)).holds.find((x) => x.kind === 'failed')?.message).toMatch(/not found \(404\)/);
  });
});

describe('history', () => {
  it('says who did what from where, with reasons, filtered by ring and time, as CSV too', async () => {
    h = await startHarness();
    const r1 = await h.ring('canary', 1, { soak: 1 });
    await h.settle();
    await h.advance(HOUR);
    await fetch(`${h.server.url}/api/ring/${r1.id}/release`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Elrond-Source': 'cli', 'X-Elrond-Actor': 'dana' }, body: JSON.stringify({ version: 'v2', reason: 'monthly' }) });
    await h.settle();
    await h.advance(1000);
    await h.api('POST', `/ring/${r1.id}/rollback`, { reason: 'error rate up' });
    await h.settle();
    const recent = await h.api('GET', `/events?ring=${r1.id}&since=30m&limit=100`);
    expect(recent.body.every((e: { at: number }) => e.at >= h!.clock.now() - 30 * 60_000)).toBe(true);
    const fromCli = recent.body.find((e: { actor: string; source: string }) => e.actor === 'dana (unverified)');
    expect(fromCli.source).toBe('cli');
    expect(recent.body.some((e: { message: string }) => /rollback .* error rate up/.test(e.message))).toBe(true);
    const older = await h.api('GET', `/events?ring=${r1.id}&since=2026-01-01T00:00:00Z&limit=100`);
    expect(older.body.length).toBeGreaterThan(recent.body.length);
  });
});

describe('freeze input limits', () => {
  it('refuses times a date cannot hold instead of failing', async () => {
    h = await startHarness();
    const response = await h.api('POST', '/freezes/now', { reason: 'far future', until: 9007199254740991 });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/out of range/);
  });
});
