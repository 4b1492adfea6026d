import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { startChatHarness } from './helpers/chat-harness.js';
import { burnRateQuery } from '../src/integrations/thanos-slo.js';
import { FakePrometheus, type PromFailure } from './fakes/fake-prometheus.js';
import { ManualClock } from '../src/model/clock.js';

let h: Harness | undefined;
let prometheus: FakePrometheus | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await prometheus?.stop();
  prometheus = undefined;
});

async function releaseIdOf(harness: Harness, ringId: string, which: 'ActiveReleaseID' | 'DesiredReleaseID'): Promise<{ ID: string; Version: string }> {
  const ring = await harness.getRing(ringId);
  return (await harness.api('GET', `/release/${ring[which]}`)).body;
}

describe('rollback', () => {
  it('puts the previous release back on every group of a ring, skipping soak', async () => {
    h = await startHarness();
    const ring = await h.ring('rb', 1, { groups: 2, groupSoak: 600, soak: 3600 });
    await h.settle();
    const v1 = await releaseIdOf(h, ring.id, 'ActiveReleaseID');
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    await h.advance(600_000);
    await h.advance(600_000);
    await h.advance(3600_000);
    const released = await h.getRing(ring.id);
    expect(released.State).toBe('stable');
    const v2 = await releaseIdOf(h, ring.id, 'ActiveReleaseID');
    expect(v2.Version).toBe('v2');
    expect(released.previousReleaseID).toBe(v1.ID);

    const response = await h.api('POST', `/ring/${ring.id}/rollback`, { reason: 'errors in v2' });
    expect(response.status).toBe(202);
    expect(response.body.State).toBe('release-rollback-requested');
    expect(response.body.DesiredReleaseID).toBe(v1.ID);
    await h.settle();
    // No time passed: neither the groups (600 s) nor the ring (3600 s) soaked.
    const rolled = await h.getRing(ring.id);
    expect(rolled.State).toBe('release-rollback-complete');
    expect(rolled.ActiveReleaseID).toBe(v1.ID);
    expect(rolled.installationGroups.map((g: { state: string }) => g.state)).toEqual(['stable', 'stable']);
    for (const group of ring.groups) {
      expect(h.provisioner.puts(group.provisionerGroupId).map((p) => p.Version)).toEqual(['v2', 'v1']);
      expect(h.provisioner.group(group.provisionerGroupId)!.Version).toBe('v1');
    }
    const events = (await h.events(ring.id)).reverse();
    const after = events.slice(events.findIndex((e) => e.newState === 'release-rollback-requested'));
    expect(after.some((e) => e.newState === 'soaking-requested' || e.newState === 'release-soaking-requested')).toBe(false);
    expect(after[0]!.message).toMatch(/rollback to .*:v1 requested by api: errors in v2/);

    // A ring that rolled back can be released again.
    expect((await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v3' })).status).toBe(202);
  });

  it('rolls a failed ring back to the release it was on, patching only the groups that moved', async () => {
    h = await startHarness();
    const ring = await h.ring('half', 1, { groups: 2, groupSoak: 10 });
    await h.settle();
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    h.provisioner.failNext('putGroup', 400);
    await h.advance(10_000);
    expect((await h.getRing(ring.id)).State).toBe('release-failed');
    const [g0, g1] = ring.groups.map((g) => g.provisionerGroupId) as [string, string];
    expect(h.provisioner.group(g0)!.Version).toBe('v2');
    expect(h.provisioner.group(g1)!.Version).toBe('v1');

    expect((await h.api('POST', `/ring/${ring.id}/rollback`)).status).toBe(202);
    await h.settle();
    const json = await h.getRing(ring.id);
    expect(json.State).toBe('release-rollback-complete');
    expect(h.provisioner.group(g0)!.Version).toBe('v1');
    expect(h.provisioner.puts(g0).map((p) => p.Version)).toEqual(['v2', 'v1']);
    expect(h.provisioner.puts(g1).map((p) => p.Version)).toEqual(['v2']); // the refused one only
    expect(json.failureReason).toBeNull();
  });

  it('POST /api/rings/rollback undoes the newest release on every ring, highest priority number first', async () => {
    h = await startHarness();
    const rings = [await h.ring('one', 1, { soak: 10 }), await h.ring('two', 2, { soak: 10 }), await h.ring('three', 3, { soak: 10 })];
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    for (let i = 0; i < 10; i++) await h.advance(10_000);
    expect((await h.api('GET', '/rings')).body.map((r: { State: string }) => r.State)).toEqual(['stable', 'stable', 'stable']);
    h.provisioner.clearLog();

    const response = await h.api('POST', '/rings/rollback', {});
    expect(response.status).toBe(202);
    expect(response.body.map((r: { State: string }) => r.State)).toEqual(['release-rollback-requested', 'release-rollback-requested', 'release-rollback-requested']);
    await h.settle();
    expect((await h.api('GET', '/rings')).body.map((r: { State: string }) => r.State)).toEqual(['release-rollback-complete', 'release-rollback-complete', 'release-rollback-complete']);
    expect(h.provisioner.puts().map((p) => p.ID)).toEqual([rings[2]!, rings[1]!, rings[0]!].map((r) => r.groups[0]!.provisionerGroupId));
    expect(h.provisioner.puts().every((p) => p.Version === 'v1')).toBe(true);
    // Nothing left to roll back to the newest release.
    expect((await h.api('POST', '/rings/rollback', {})).status).toBe(400);
  });
});

/** A Prometheus timeout as `respondError` sends it: 503, errorType "timeout", the engine's own text. */
const TIMEOUT: PromFailure = { errorType: 'timeout', error: 'query timed out in expression evaluation' };
const serviceOf = (group: { name: string; provisionerGroupId: string }) => `${group.name}-ring-${group.provisionerGroupId}`;

async function startWithPrometheus(config: Record<string, unknown> = {}): Promise<{ h: Harness; prometheus: FakePrometheus }> {
  const manual = new ManualClock(Date.UTC(2026, 10, 25, 12));
  prometheus = new FakePrometheus({ now: () => manual.now() });
  const thanosUrl = await prometheus.start();
  h = await startHarness({ clock: manual, config: { thanosUrl, ...config } });
  return { h, prometheus };
}

async function sloEvents(harness: Harness, ringId: string) {
  return (await harness.events(ringId)).reverse().filter((e) => e.kind === 'ring.slo' || e.kind === 'ring.state');
}

describe('SLO gate while a ring soaks', () => {
  it('queries the burn-rate SLO per group while the ring soaks, and completes when healthy', async () => {
    const { h, prometheus } = await startWithPrometheus();
    const ring = await h.ring('slo', 1, { groups: 2, soak: 180 });
    await h.settle();
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    expect((await h.getRing(ring.id)).State).toBe('soaking-requested');
    const expected = ring.groups.map((g) => burnRateQuery(g.name, g.provisionerGroupId));
    expect(prometheus.queryTexts).toEqual(expected);
    expect(expected[0]).toBe(
      `((slo:sli_error:ratio_rate5m{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (14.4 * 0.005)) and ignoring(slo_window)(slo:sli_error:ratio_rate1h{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (14.4 * 0.005))) or ignoring(slo_window)((slo:sli_error:ratio_rate30m{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (6 * 0.005)) and ignoring(slo_window)(slo:sli_error:ratio_rate6h{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (3.3 * 0.005))) or vector(0)`,
    );
    await h.advance(60_000);
    await h.advance(60_000);
    expect(prometheus.queries).toHaveLength(6);
    expect((await h.getRing(ring.id)).statusMessage).toMatch(/SLO healthy at 2026-11-25T12:02:00.000Z/);
    await h.advance(60_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    // The last check ran at the soak's end, and it was what completed the ring.
    expect(prometheus.queries).toHaveLength(8);
    expect(prometheus.queries.slice(-2).map((q) => [q.at - prometheus.queries[0]!.at, q.status])).toEqual([[180_000, 200], [180_000, 200]]);
  });

  it('a breach fails the soak with the query, the value and the group, and stops the release', async () => {
    const { h, prometheus } = await startWithPrometheus();
    const ring = await h.ring('canary', 1, { groups: 2, soak: 600 });
    const next = await h.ring('next', 2, { soak: 600 });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    await h.advance(60_000);
    const bad = ring.groups[1]!;
    prometheus.burn(serviceOf(bad), 0.0917);
    await h.advance(60_000);
    const json = await h.getRing(ring.id);
    expect(json.State).toBe('soaking-failed');
    expect(json.failureReason).toContain(`SLO service ${bad.name}-ring-${bad.provisionerGroupId} of group ${bad.name}`);
    expect(json.failureReason).toContain('value 0.0917');
    expect(json.failureReason).toContain(`query: ${burnRateQuery(bad.name, bad.provisionerGroupId)}`);
    const nextJson = await h.getRing(next.id);
    expect(nextJson.State).toBe('release-failed');
    expect(nextJson.failureReason).toMatch(/not started: ring canary failed/);
    expect(h.provisioner.puts(next.groups[0]!.provisionerGroupId)).toEqual([]);
    // The failed ring can be rolled back.
    expect((await h.api('POST', `/ring/${ring.id}/rollback`)).status).toBe(202);
    await h.settle();
    expect((await h.getRing(ring.id)).State).toBe('release-rollback-complete');
  });

  it('completes only after a healthy check at or after the soak ends: a failing check at the end holds the ring', async () => {
    const { h, prometheus } = await startWithPrometheus();
    const ring = await h.ring('gate', 1, { soak: 120 });
    await h.settle();
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    const soakStart = prometheus.queries[0]!.at;
    await h.advance(60_000);
    prometheus.failAlways(TIMEOUT);
    await h.advance(60_000); // the soak's end: its check fails
    let json = await h.getRing(ring.id);
    expect(json.State).toBe('soaking-requested');
    expect(json.soakRemainingSeconds).toBe(0);
    expect(json.statusMessage).toBe(
      `soak time over since 2026-11-25T12:02:00.000Z; the ring completes after a healthy SLO check; SLO check failed once (the soak fails at 10): group ${ring.groups[0]!.name}: HTTP 503 timeout: query timed out in expression evaluation; next check at 2026-11-25T12:02:05.000Z`,
    );
    // The backstop's full pass does not query early: the retry waits its backoff.
    await h.settle();
    expect(prometheus.queries).toHaveLength(3);
    await h.advance(5_000);
    expect((await h.getRing(ring.id)).statusMessage).toMatch(/SLO check failed 2 times in a row \(the soak fails at 10\): .*next check at 2026-11-25T12:02:15.000Z$/);
    await h.advance(60 * 60_000); // an hour later, still failing: still not complete
    json = await h.getRing(ring.id);
    expect(json.State).toBe('soaking-requested');
    prometheus.failAlways(undefined);
    await h.advance(5 * 60_000);
    json = await h.getRing(ring.id);
    expect(json.State).toBe('stable');
    const healthy = prometheus.queries.filter((q) => q.status === 200).map((q) => q.at - soakStart);
    const completed = (await sloEvents(h, ring.id)).filter((e) => e.newState === 'stable').at(-1)!;
    expect(completed.message).toMatch(/soak finished with the SLO healthy; release complete/);
    // Completed by the first healthy check after the end (not by the soak's deadline).
    expect(healthy).toEqual([0, 60_000, prometheus.queries.at(-1)!.at - soakStart]);
    expect(healthy.at(-1)).toBeGreaterThan(120_000 + 3600_000);
  });

  it("shows Prometheus' own error text in the status message, why, status and the release card", async () => {
    prometheus = new FakePrometheus();
    const thanosUrl = await prometheus.start();
    const chat = await startChatHarness({ thanosUrl });
    h = chat;
    const ring = await chat.ring('canary', 1, { soak: 600 });
    await chat.settle();
    const execution = 'found duplicate series for the match group {slo_service="x"} on the right hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side';
    prometheus.failNext({ errorType: 'execution', error: execution });
    await chat.slash('alice', `ring release --ring ${ring.id} --image ${IMAGE} --version v2`);
    await chat.settle();
    const error = `group ${ring.groups[0]!.name}: HTTP 422 execution: ${execution}`;
    const shown = `SLO check failed once (the soak fails at 10): ${error}`;
    expect(prometheus.queries.map((q) => q.status)).toEqual([422]);

    const json = await chat.getRing(ring.id);
    expect(json.State).toBe('soaking-requested');
    expect(json.statusMessage).toContain(shown);
    const [why] = (await chat.api('GET', `/ring/${ring.id}/why`)).body as Array<{ next: string; holds: Array<{ kind: string; message: string }> }>;
    expect(why!.holds.find((hold) => hold.kind === 'slo')?.message).toContain(`${shown}; next check at `);
    expect(why!.next).toContain(shown);
    const status = (await chat.api('GET', '/status')).body as Array<{ name: string; doing: string }>;
    expect(status.find((r) => r.name === 'canary')?.doing).toContain(shown);
    await chat.advance(2_000);
    // The card shows it as Mattermost renders it: people's and servers' text is escaped Markdown (src/model/inert-text.ts).
    const field = () => ((chat.card()!.props as any).attachments[0].fields as Array<{ title: string; value: string }>).find((f) => f.title.startsWith('canary'))!.value.replace(/\\([\\`*_[\]<>|])/g, '$1');
    expect(field()).toContain(`SLO check failed once: ${error}; next check at 2026-11-25T12:00:05.000Z`);
    const failedEvent = (await sloEvents(chat, ring.id)).find((e) => e.kind === 'ring.slo')!;
    expect(failedEvent.message).toContain(`(1 in a row; the soak fails at 10): group ${ring.groups[0]!.name}: HTTP 422 execution: ${execution}`);
    expect(failedEvent.data.query).toBe(burnRateQuery(ring.groups[0]!.name, ring.groups[0]!.provisionerGroupId));

    // The retry, 5 s later, is healthy: the error is gone from every surface.
    await chat.advance(5_000);
    await chat.advance(2_000);
    expect((await chat.getRing(ring.id)).statusMessage).toMatch(/SLO healthy at 2026-11-25T12:00:0\d.000Z$/);
    expect(field()).not.toContain('SLO check failed');
    expect((await sloEvents(chat, ring.id)).filter((e) => e.kind === 'ring.slo').map((e) => e.message)).toEqual([
      expect.stringContaining('failed (1 in a row; the soak fails at 10)'),
      'SLO check of ring canary healthy again after 1 failed check',
    ]);
  });

  it('a Force clicked while the SLO query runs is not undone by the breach that query finds: the ring completes', async () => {
    prometheus = new FakePrometheus();
    const thanosUrl = await prometheus.start();
    const chat = await startChatHarness({ thanosUrl });
    h = chat;
    const ring = await chat.ring('canary', 1, { soak: 600 });
    await chat.settle();
    await chat.slash('alice', `ring release --ring ${ring.id} --image ${IMAGE} --version v2`);
    await chat.advance(2_000);
    expect((await chat.getRing(ring.id)).State).toBe('soaking-requested');

    // The next check meets a breach, slowly: the ring's step waits for Prometheus with the ring's lease held.
    prometheus.burn(serviceOf(ring.groups[0]!));
    const slow = prometheus.holdNext();
    chat.clock.advance(60_000);
    const step = chat.settle();
    await slow.arrived;
    // Force does not wait for the lease; it keeps the ring's state (soaking-requested), so only the step's
    // re-check of everything it read (ring-runner.ts, ringVersion) tells it that its breach is stale.
    const forced = await chat.press('alice', /^Force canary$/, { reason: 'known noisy SLO' });
    expect(forced.submitted?.failed).toBe(false);
    slow.release();
    await step;
    await chat.settle();

    const json = await chat.getRing(ring.id);
    expect(json.State).toBe('stable');
    expect(json.failureReason).toBeNull();
    expect((await sloEvents(chat, ring.id)).map((e) => e.newState)).not.toContain('soaking-failed');
  });

  it('fails the soak after --slo-max-failures failed checks in a row, backing off between them, with the query and the error', async () => {
    const { h, prometheus } = await startWithPrometheus({ sloMaxFailures: 4 });
    const ring = await h.ring('canary', 1, { soak: 3600 });
    const next = await h.ring('next', 2, { soak: 600 });
    await h.settle();
    prometheus.failAlways(TIMEOUT);
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    for (let i = 0; i < 10 && (await h.getRing(ring.id)).State === 'soaking-requested'; i++) await h.advanceToNextDeadline();
    const json = await h.getRing(ring.id);
    expect(json.State).toBe('soaking-failed');
    const group = ring.groups[0]!;
    expect(json.failureReason).toBe(
      `SLO check failed 4 times in a row (--slo-max-failures 4); last error: group ${group.name}: HTTP 503 timeout: query timed out in expression evaluation; query: ${burnRateQuery(group.name, group.provisionerGroupId)}`,
    );
    // Retried after 5, 10 and 20 s.
    const start = prometheus.queries[0]!.at;
    expect(prometheus.queries.map((q) => q.at - start)).toEqual([0, 5_000, 15_000, 35_000]);
    expect((await h.getRing(next.id)).State).toBe('release-failed');
    const reasons = (await h.events(ring.id)).filter((e) => e.newState === 'soaking-failed').map((e) => e.data.reason);
    expect(reasons).toEqual([json.failureReason]);
  });

  it('a healthy check resets the count of failures in a row', async () => {
    const { h, prometheus } = await startWithPrometheus({ sloMaxFailures: 3 });
    const ring = await h.ring('canary', 1, { soak: 600 });
    await h.settle();
    prometheus.failNext(TIMEOUT, 2);
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    await h.advance(5_000);
    await h.advance(10_000); // healthy: the count goes back to 0
    expect((await h.getRing(ring.id)).statusMessage).toMatch(/SLO healthy at/);
    prometheus.failNext({ status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }, 2);
    await h.advance(60_000);
    await h.advance(5_000);
    let json = await h.getRing(ring.id);
    expect(json.State).toBe('soaking-requested');
    expect(json.statusMessage).toContain('SLO check failed 2 times in a row (the soak fails at 3): group');
    expect(json.statusMessage).toContain('HTTP 502, not a Prometheus answer: <html><body><h1>502 Bad Gateway</h1></body></html>');
    for (let i = 0; i < 30 && (await h.getRing(ring.id)).State === 'soaking-requested'; i++) await h.advanceToNextDeadline();
    json = await h.getRing(ring.id);
    expect(json.State).toBe('stable');
    expect(prometheus.queries.map((q) => q.status).slice(0, 6)).toEqual([503, 503, 200, 502, 502, 200]);
    expect((await sloEvents(h, ring.id)).filter((e) => e.kind === 'ring.slo').map((e) => e.data.failures ?? 0)).toEqual([1, 2, 0, 1, 2, 0]);
  });

  it("escapes quotes and backslashes in the group's name, so the selector names exactly that service", async () => {
    const { h, prometheus } = await startWithPrometheus();
    const ring = await h.ring("o'brien\\eu", 1, { soak: 600 });
    await h.settle();
    const group = ring.groups[0]!;
    expect(group.name).toContain("o'brien\\eu");
    prometheus.burn(serviceOf(group));
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    expect(prometheus.queries[0]!.query).toContain(`slo_service='o\\'brien\\\\eu-ig-0-1-ring-${group.provisionerGroupId}'`);
    expect(prometheus.queries[0]!.status).toBe(200);
    const json = await h.getRing(ring.id);
    expect(json.State).toBe('soaking-failed');
    expect(json.failureReason).toContain(`SLO service ${serviceOf(group)} of group ${group.name} is burning its error budget (value 0.0917`);
  });
});
