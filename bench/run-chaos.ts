/**
 * `npm run chaos`: Elrond's resilience, on real `elrond server` processes and the test fakes (127.0.0.1 only).
 *
 *   kills   10 releases of 5 rings × 2 groups, the server SIGKILLed 5 times during each (50 kills), restarted
 *           every time: every group on the target version, PUT once, in ring order; every thread reply and
 *           card edit delivered exactly once.
 *   takeover  (with ELROND_BENCH_POSTGRES_URL) 2 replicas on Postgres, default lease: SIGKILL of the replica
 *           holding a group mid-step → the other's next provisioner call for it (--takeovers N rounds, default 5).
 *   faults  2 releases while the provisioner fails 30% of requests with latency spikes, Mattermost fails half
 *           of its requests for a minute and Grafana is down: both complete, every notification arrives,
 *           and Grafana's annotations arrive once it is back.
 *
 * Options: `kills` or `faults` to run one; --runs N, --kills N (per run), --seed N, --lease N (kills: seconds, default 60). Exit code 1 on any violation.
 * Bounded: every wait has a timeout; every process started is killed at the end.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFaultChaos, runKillChaos, type FaultChaosReport, type KillChaosReport } from './lib/chaos.js';
import { runTakeover, type TakeoverReport } from './lib/ha-takeover.js';
import { liveProcessCount, repoRoot } from './lib/elrond-process.js';
import { median, percentile } from './lib/stats.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const names = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
const runKills = names.length === 0 || names.includes('kills');
const runFaults = names.length === 0 || names.includes('faults');
/** HA takeover needs Postgres: ELROND_BENCH_POSTGRES_URL (a user that may create databases). */
const POSTGRES_URL = process.env.ELROND_BENCH_POSTGRES_URL ?? '';
const runTakeovers = (names.length === 0 || names.includes('takeover')) && POSTGRES_URL !== '';
const seed = flag('seed', Date.now() % 1_000_000);

const log = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
  const started = Date.now();
  log(`seed ${seed}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  let kills: KillChaosReport | undefined;
  let faults: FaultChaosReport | undefined;
  if (runKills) {
    // The default --lease-duration (60 s): a restart resumes at once because liveness knows the old owner is dead.
    kills = await runKillChaos({ runs: flag('runs', 10), killsPerRun: flag('kills', 5), seed, log, releaseTimeoutMs: 180_000, leaseSeconds: flag('lease', 60) });
    log(`kills: ${kills.kills} SIGKILLs over ${kills.releases.length} releases in ${(kills.durationMs / 1000).toFixed(0)} s; ${kills.violations.length} violations`);
  }
  if (runFaults) {
    faults = await runFaultChaos({ releases: flag('releases', 2), seed, log, mattermostFaultMs: flag('mattermost-fault-seconds', 60) * 1000, waitForGrafanaMs: 180_000 });
    log(`faults: ${faults.releases.length} releases in ${(faults.durationMs / 1000).toFixed(0)} s; ${faults.violations.length} violations`);
  }
  let takeover: TakeoverReport | undefined;
  if (runTakeovers) takeover = await runTakeover({ adminUrl: POSTGRES_URL, rounds: flag('takeovers', 5), log });
  else if (names.includes('takeover')) log('takeover skipped: set ELROND_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test');
  const violations = [...(takeover?.violations ?? []).map((v) => `takeover: ${v}`), ...(kills?.violations ?? []).map((v) => `kills: ${v}`), ...(faults?.violations ?? []).map((v) => `faults: ${v}`)];
  const lines: string[] = [''];
  if (kills) {
    lines.push(
      `SIGKILL chaos: ${kills.kills} kills during ${kills.releases.length} releases (5 rings × 2 groups), seed ${kills.seed}`,
      `  kill moments: ${kills.moments.map((m) => `${(m.atMs / 1000).toFixed(1)}s/${m.ringsStable}`).join(' ')} (s after the request / rings done)`,
      `  restart (SIGKILL → listening): p50 ${Math.round(median(kills.restartMs))} ms, max ${Math.round(Math.max(...kills.restartMs))} ms`,
      `  SIGKILL → the release's next step, lease ${flag('lease', 60)} s: p50 ${Math.round(median(kills.nextStepMs))} ms, p99 ${Math.round(percentile(kills.nextStepMs, 99))} ms over ${kills.nextStepMs.length} kills (target p99 ≤ 2 s after the restart)`,
      `  PUTs ${kills.releases.reduce((a, r) => a + r.puts, 0)} (one per group per release), thread replies ${kills.releases.reduce((a, r) => a + r.threadReplies, 0)}, card edits ${kills.releases.reduce((a, r) => a + r.cardEdits, 0)}, retried posts deduplicated by Mattermost ${kills.releases.reduce((a, r) => a + r.dedupes, 0)}`,
      `  error log lines: ${kills.errorLines.length}${kills.errorLines.length ? ` (first: ${kills.errorLines[0]})` : ''}`,
      `  ${kills.violations.length === 0 ? 'PASS: no violation' : `FAIL: ${kills.violations.length} violations`}`,
    );
  }
  if (faults) {
    lines.push(
      `Fault chaos: provisioner 30% 503 + latency spikes, Mattermost 50% 503 for a minute, Grafana down; seed ${faults.seed}`,
      `  releases: ${faults.releases.map((r) => `${r.version} ${(r.durationMs / 1000).toFixed(1)} s`).join(', ')}; provisioner requests ${faults.provisionerRequests}; Mattermost 5xx answered ${faults.mattermostFailures}`,
      `  thread replies ${faults.releases.reduce((a, r) => a + r.threadReplies, 0)}, card edits ${faults.releases.reduce((a, r) => a + r.cardEdits, 0)}; Grafana annotations queued ${faults.grafana.queued}, delivered after it came back ${faults.grafana.deliveredAfterwards ?? 'n/a'}`,
      `  ${faults.violations.length === 0 ? 'PASS: no violation' : `FAIL: ${faults.violations.length} violations`}`,
    );
  }
  if (takeover) {
    lines.push(`HA takeover (2 replicas on Postgres, default --lease-duration 60 and --poll 30): SIGKILL of the lease holder mid-step → the other replica's next call: p50 ${Math.round(median(takeover.takeoverMs))} ms, max ${Math.round(Math.max(...takeover.takeoverMs))} ms over ${takeover.takeoverMs.length} (target ≤ 5 s)`);
  }
  for (const v of violations.slice(0, 50)) lines.push(`  - ${v}`);
  lines.push(`total ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const file = path.join(repoRoot(), 'bench', 'chaos-results.json');
  writeFileSync(file, `${JSON.stringify({ command: `npm run chaos${argv.length ? ` -- ${argv.join(' ')}` : ''}`, startedAt: new Date(started).toISOString(), loadAverage: os.loadavg(), kills, faults, takeover, violations, restartP99Ms: kills ? percentile(kills.restartMs, 99) : null }, null, 2)}\n`);
  if (liveProcessCount() > 0) log(`warning: ${liveProcessCount()} server process(es) still running; they are killed on exit`);
  return violations.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
