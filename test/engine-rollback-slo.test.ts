import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { burnRateQuery } from '../src/integrations/thanos-slo.js';

let h: Harness | undefined;
let prometheus: FakePrometheus | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await prometheus?.stop();
  prometheus = undefined;
});

/** A tiny Prometheus/Thanos query API: healthy (`vector(0)`) unless told to breach or fail. */
class FakePrometheus {
  readonly queries: string[] = [];
  /** slo_service → value: those series are returned (a breach). */
  readonly breaching = new Map<string, string>();
  failures = 0;
  failWith: 'http-500' | 'prom-error' = 'http-500';
  #server: http.Server | undefined;

  async start(): Promise<string> {
    this.#server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/api/v1/query') return void res.writeHead(404).end();
      const query = url.searchParams.get('query') ?? '';
      this.queries.push(query);
      if (this.failures > 0) {
        this.failures--;
        if (this.failWith === 'http-500') return void res.writeHead(500).end('boom');
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'execution', error: 'query timed out' }));
      }
      const result = [...this.breaching]
        .filter(([service]) => query.includes(`slo_service='${service}'`))
        .map(([service, value]) => ({ metric: { slo_service: service, slo_window: '5m' }, value: [Date.now() / 1000, value] }));
      if (result.length === 0) result.push({ metric: {} as { slo_service: string; slo_window: string }, value: [Date.now() / 1000, '0'] });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

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

describe('SLO gate while a ring soaks', () => {
  it('queries the burn-rate SLO per group while the ring soaks, and completes when healthy', async () => {
    prometheus = new FakePrometheus();
    const thanosUrl = await prometheus.start();
    h = await startHarness({ config: { thanosUrl } });
    const ring = await h.ring('slo', 1, { groups: 2, soak: 180 });
    await h.settle();
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    expect((await h.getRing(ring.id)).State).toBe('soaking-requested');
    const expected = ring.groups.map((g) => burnRateQuery(g.name, g.provisionerGroupId));
    expect(prometheus.queries).toEqual(expected);
    expect(expected[0]).toBe(
      `((slo:sli_error:ratio_rate5m{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (14.4 * 0.005)) and ignoring(slo_window)(slo:sli_error:ratio_rate1h{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (14.4 * 0.005))) or ignoring(slo_window)((slo:sli_error:ratio_rate30m{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (6 * 0.005)) and ignoring(slo_window)(slo:sli_error:ratio_rate6h{slo_service='${ring.groups[0]!.name}-ring-${ring.groups[0]!.provisionerGroupId}'} > (3.3 * 0.005))) or vector(0)`,
    );
    await h.advance(60_000);
    await h.advance(60_000);
    expect(prometheus.queries).toHaveLength(6);
    expect((await h.getRing(ring.id)).statusMessage).toMatch(/SLO healthy/);
    await h.advance(60_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
  });

  it('a breach fails the soak with the query, the value and the group, and stops the release', async () => {
    prometheus = new FakePrometheus();
    const thanosUrl = await prometheus.start();
    h = await startHarness({ config: { thanosUrl } });
    const ring = await h.ring('canary', 1, { groups: 2, soak: 600 });
    const next = await h.ring('next', 2, { soak: 600 });
    await h.settle();
    await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    await h.settle();
    await h.advance(60_000);
    const bad = ring.groups[1]!;
    prometheus.breaching.set(`${bad.name}-ring-${bad.provisionerGroupId}`, '0.0917');
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

  it('query errors are retried and never fail or crash the release', async () => {
    prometheus = new FakePrometheus();
    const thanosUrl = await prometheus.start();
    h = await startHarness({ config: { thanosUrl } });
    const ring = await h.ring('flaky', 1, { soak: 240 });
    await h.settle();
    prometheus.failures = 1;
    await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    await h.settle();
    expect((await h.getRing(ring.id)).statusMessage).toMatch(/SLO check failed \(.*500.*\), retrying/);
    prometheus.failWith = 'prom-error';
    prometheus.failures = 1;
    await h.advance(60_000);
    expect((await h.getRing(ring.id)).statusMessage).toMatch(/SLO check failed \(Thanos query failed: query timed out\), retrying/);
    await h.advance(60_000);
    expect((await h.getRing(ring.id)).statusMessage).toMatch(/SLO healthy/);
    await h.advance(60_000);
    expect((await h.getRing(ring.id)).State).toBe('soaking-requested');
    await h.advance(60_000);
    expect((await h.getRing(ring.id)).State).toBe('stable');
    expect(h.server.supervisor.loop.failures).toBe(0);
  });
});
