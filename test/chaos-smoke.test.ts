/**
 * A short version of `npm run chaos` (bench/run-chaos.ts) inside `npm test`: real `elrond server` processes
 * (the built binary) against the fakes on 127.0.0.1.
 *
 * - SIGKILL the server 3 times during a release (restarting it each time): every group ends on the target
 *   version, PUT once, in ring order; every thread reply and card edit reaches Mattermost exactly once.
 * - Faults for a few seconds (provisioner 30% 503 with latency spikes, Mattermost 50% 503, Grafana down): the
 *   release completes, every Mattermost notification arrives, Grafana's annotations wait in the outbox.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { ELROND_BINARY } from '../bench/lib/elrond-process.js';
import { runFaultChaos, runKillChaos } from '../bench/lib/chaos.js';

describe('chaos smoke', () => {
  it('survives SIGKILLs during a release: groups updated once, in order, notifications exactly once', async () => {
    if (!existsSync(ELROND_BINARY)) throw new Error(`${ELROND_BINARY} is missing: run "npx tsc -p tsconfig.json" first`);
    const report = await runKillChaos({ runs: 1, killsPerRun: 3, rings: 3, groupsPerRing: 1, rolloutMs: 300, ringSoakSeconds: 1, maxKillDelayMs: 1200, seed: 20261125, releaseTimeoutMs: 45_000 });
    expect(report.violations, JSON.stringify(report.moments)).toEqual([]);
    expect(report.kills).toBe(3);
    expect(report.releases[0]?.puts).toBe(3);
    expect(report.releases[0]?.threadReplies).toBeGreaterThan(0);
  }, 90_000);

  it('completes a release and delivers every notification through provisioner, Mattermost and Grafana faults', async () => {
    const report = await runFaultChaos({ releases: 1, rings: 3, groupsPerRing: 1, rolloutMs: 300, ringSoakSeconds: 0, provisionerErrorRate: 0.3, spikeShare: 0.3, spikeMs: 800, mattermostFaultMs: 5_000, seed: 7, releaseTimeoutMs: 60_000 });
    expect(report.violations).toEqual([]);
    expect(report.releases).toHaveLength(1);
    expect(report.grafana.queued).toBeGreaterThan(0);
    expect(report.grafana.deliveredWhileDown).toBe(0);
  }, 120_000);
});
