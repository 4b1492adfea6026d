/**
 * `npm run bench`: Elrond's speed, measured on real `elrond server` processes (the built binary) on
 * 127.0.0.1 with real time, against the test fakes started in this process. Prints a table and writes
 * bench/results.json. Scenarios (all by default, or name some: `node dist/bench/run-benchmarks.js urgent`):
 *
 *   orchestration  10 rings × 3 groups, zero soak, instant rollouts: request → last ring stable
 *   urgent         the same forced, each group's rollout taking 2 s: vs the 6 s physical limit
 *   soak           20 ring soaks of 2 s: how late each ends after its deadline
 *   load           500 rings, a release running: /elrond ring list, /elrond status, GET /api/rings under autocannon
 *   answers        the CPU one answer costs (500 rings, in-process, client included), from the read cache and
 *                  computed afresh: steady on a shared machine where the load run's p99 is not
 *   scale          5,000 rings / 25,000 groups: idle tick, GET /api/rings?per_page=100, memory, start-up
 *   webhooks       one group of 10 installations rolled by the fake provisioner, webhooks on vs off: status
 *                  calls per rollout and how soon the end of the rollout is noticed (issue 16)
 *
 * Flags: --profile (servers write V8 CPU profiles to bench/profiles/), --quick (shorter load runs), --no-webhooks
 * (urgent without provisioner webhooks), --pin (load: the server on the last core, this process — the load
 * generator and the fakes — on the others, with taskset, so they stop taking turns on the same core).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { FakeProvisioner } from '../test/fakes/fake-provisioner.js';
import { FakeMattermost } from '../test/fakes/fake-mattermost.js';
import { ElrondProcess, liveProcessCount, repoRoot } from './lib/elrond-process.js';
import { DbReader } from './lib/db-reader.js';
import { createProvisionerGroups, seedDatabase, type SeededRing } from './lib/seed.js';
import { callApi, releaseTimeline, requestRelease, waitForRelease, type ReleaseTimeline } from './lib/release-driver.js';
import { simulateOriginal, type SimRing } from './lib/original-simulator.js';
import { mean, median, ms, percentile, seconds } from './lib/stats.js';
import { freePort, sleep } from '../test/helpers/processes.js';
import { Supervisor } from '../src/engine/supervisor.js';
import { connect } from '../src/store/connect.js';
import { systemClock } from '../src/model/clock.js';
import { createLogger } from '../src/logging.js';
import { startServer as startInProcess } from '../src/server.js';
import { defaultServerConfig } from '../src/config.js';
import { ManualClock } from '../src/model/clock.js';

interface Row {
  benchmark: string;
  measured: string;
  target: string;
  original: string;
  ok: boolean | null;
}

const argv = process.argv.slice(2);
const PROFILE = argv.includes('--profile');
const QUICK = argv.includes('--quick');
/** `--no-webhooks`: the urgent run without --public-url, as before issue 16 (for a before → after in one run). */
const NO_WEBHOOKS = argv.includes('--no-webhooks');
const PIN = argv.includes('--pin');
const ALL = ['orchestration', 'urgent', 'soak', 'load', 'answers', 'scale', 'webhooks'] as const;
type Scenario = (typeof ALL)[number];
const chosen: Scenario[] = argv.filter((a) => !a.startsWith('--')).length ? (argv.filter((a) => (ALL as readonly string[]).includes(a)) as Scenario[]) : [...ALL];

const ROOT = repoRoot();
const WORK = mkdtempSync(path.join(os.tmpdir(), 'elrond-bench-'));
const PROFILE_DIR = path.join(ROOT, 'bench', 'profiles');
const LOG_FILE = path.join(WORK, 'servers.log');
const rows: Row[] = [];
const results: Record<string, unknown> = {};

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let free = '';
  try {
    free = execSync('free -h', { encoding: 'utf8' }).trim();
  } catch {
    free = `${Math.round(os.totalmem() / 2 ** 30)} GiB total`;
  }
  return { nproc: os.availableParallelism(), cpuModel: model, node: process.version, free, platform: `${os.type()} ${os.release()}` };
}

async function startServer(database: string, provisionerUrl: string, extra: { args?: string[]; poll?: number; name: string; port?: number }): Promise<ElrondProcess> {
  if (PROFILE) mkdirSync(PROFILE_DIR, { recursive: true });
  return ElrondProcess.start({
    database,
    provisionerUrl,
    ...(extra.port ? { port: extra.port } : {}),
    poll: extra.poll ?? 30,
    args: extra.args ?? [],
    logFile: LOG_FILE,
    ...(PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${extra.name}-${Date.now()}.cpuprofile`] } : {}),
  });
}

function simRings(count: number, groups: number, ringSoak: number, groupRollout: number): SimRing[] {
  return Array.from({ length: count }, (_, i) => ({ priority: i + 1, soakSeconds: ringSoak, groups: Array.from({ length: groups }, () => ({ soakSeconds: 0, rolloutSeconds: groupRollout })) }));
}

function summary(timeline: ReleaseTimeline) {
  return {
    totalMs: timeline.totalMs,
    handoffMs: { p50: median(timeline.handoffMs), max: Math.max(...timeline.handoffMs, Number.NaN) },
    handoffToPutMs: { p50: median(timeline.handoffToPutMs), max: Math.max(...timeline.handoffToPutMs) },
    groupHandoffMs: { p50: median(timeline.groupHandoffMs), max: Math.max(...timeline.groupHandoffMs) },
    groupNoticeMs: { p50: median(timeline.groupNoticeMs), max: Math.max(...timeline.groupNoticeMs) },
    transitionGapMs: { mean: mean(timeline.transitionGapsMs), p50: median(timeline.transitionGapsMs), max: Math.max(...timeline.transitionGapsMs), count: timeline.transitionGapsMs.length },
    ringStartMs: timeline.ringStartMs,
    ringStableMs: timeline.ringStableMs,
  };
}

// ------------------------------------------------------------------------------------------------------
// 1. Orchestration overhead: 10 × 3, zero soak, instant rollouts.

async function orchestration(): Promise<void> {
  const provisioner = new FakeProvisioner({ settleInstantly: true });
  const provisionerUrl = await provisioner.start();
  const file = path.join(WORK, 'orchestration.db');
  const pgs = createProvisionerGroups(provisioner, 10, 3);
  const rings = await seedDatabase(file, { rings: 10, groupsPerRing: 3, ringSoakSeconds: 0, provisionerGroupId: (r, g) => pgs[r]![g]! });
  const server = await startServer(`sqlite://${file}`, provisionerUrl, { name: 'orchestration' });
  const reader = new DbReader(file);
  try {
    const runs = [];
    for (const version of ['v2', 'v3', 'v4', 'v5', 'v6']) {
      const { requestedAt } = await requestRelease(server.url, version, false);
      const rolloutId = await waitForRelease(reader, version, 60_000);
      const timeline = releaseTimeline(reader, rolloutId, requestedAt, rings, provisioner, version);
      runs.push(summary(timeline));
      log(`orchestration ${version}: total ${ms(timeline.totalMs)}, ring handoff max ${ms(Math.max(...timeline.handoffMs))}, transitions ${timeline.transitionGapsMs.length}`);
      await sleep(200);
    }
    const sim = simulateOriginal(simRings(10, 3, 0, 0), { force: false });
    const totals = runs.map((r) => r.totalMs);
    const cold = runs[0]!;
    const handoffMax = Math.max(...runs.map((r) => r.handoffToPutMs.max));
    const gapMax = Math.max(...runs.map((r) => r.transitionGapMs.max));
    const perRing = runs.map((r) => r.totalMs / 10);
    results.orchestration = { runs, totalsMs: totals, original: { totalSeconds: sim.totalSeconds, runs: sim.runs, perRingSeconds: sim.totalSeconds / 10 }, ratio: (sim.totalSeconds * 1000) / median(totals) };
    rows.push({
      benchmark: 'Orchestration: 10 rings × 3 groups, zero soak, request → last ring stable',
      measured: `${ms(median(totals))} median of ${totals.length} (first/cold ${ms(cold.totalMs)}, worst ${ms(Math.max(...totals))})`,
      target: '< 3 s',
      original: `${seconds(sim.totalSeconds * 1000)} (${sim.runs} loop runs) → ${Math.round((sim.totalSeconds * 1000) / median(totals)).toLocaleString('en-US')}× slower`,
      ok: Math.max(...totals) < 3000,
    });
    rows.push({
      benchmark: 'Orchestration: per ring transition (ring N stable → ring N+1 first PUT), worst of all runs',
      measured: `${ms(handoffMax)} (p50 ${ms(median(runs.map((r) => r.handoffToPutMs.p50)))}); per ring incl. 3 groups ${ms(median(perRing))}; any state change → next ≤ ${ms(gapMax)}`,
      target: '< 100 ms',
      original: `${seconds((sim.totalSeconds * 1000) / 10)} per ring (8 loop runs × 30 s)`,
      ok: handoffMax < 100,
    });
  } finally {
    reader.close();
    await server.stop();
    await provisioner.stop();
  }
}

// ------------------------------------------------------------------------------------------------------
// 2. Urgent release: forced, each group's rollout takes 2 s; limit 3 groups × 2 s = 6 s.

async function urgent(): Promise<void> {
  const provisioner = new FakeProvisioner({ settleInstantly: false, rolloutDurationMs: 2000 });
  const provisionerUrl = await provisioner.start();
  const file = path.join(WORK, 'urgent.db');
  const pgs = createProvisionerGroups(provisioner, 10, 3);
  const rings = await seedDatabase(file, { rings: 10, groupsPerRing: 3, ringSoakSeconds: 3600, provisionerGroupId: (r, g) => pgs[r]![g]! });
  // With --public-url the provisioner's webhook tells Elrond when each group's rollout ends (issue 16).
  const port = await freePort();
  const server = await startServer(`sqlite://${file}`, provisionerUrl, { name: 'urgent', port, args: NO_WEBHOOKS ? [] : ['--public-url', `http://127.0.0.1:${port}`] });
  const reader = new DbReader(file);
  const limitMs = 6000;
  try {
    const runs = [];
    // Five releases: the first after the server starts runs code V8 has not compiled yet (cold), the others do not.
    for (const version of ['v2', 'v3', 'v4', 'v5', 'v6']) {
      const { requestedAt } = await requestRelease(server.url, version, true);
      // Polled every 25 ms: the times come from the server's events, and a busier poll only takes CPU from the server.
      const rolloutId = await waitForRelease(reader, version, 120_000, 25);
      const timeline = releaseTimeline(reader, rolloutId, requestedAt, rings, provisioner, version);
      runs.push(summary(timeline));
      const { groupNoticeMs, groupHandoffMs } = summary(timeline);
      log(`urgent ${version}: total ${ms(timeline.totalMs)} (${((timeline.totalMs / limitMs - 1) * 100).toFixed(1)}% over the limit); rollout end noticed p50 ${ms(groupNoticeMs.p50)} max ${ms(groupNoticeMs.max)}; next group's PUT p50 ${ms(groupHandoffMs.p50)} max ${ms(groupHandoffMs.max)}`);
      await sleep(200);
    }
    const sim = simulateOriginal(simRings(10, 3, 3600, 2), { force: true });
    const totals = runs.map((r) => r.totalMs);
    results.urgent = { runs, totalsMs: totals, limitMs, original: { totalSeconds: sim.totalSeconds, runs: sim.runs }, overLimitPercent: totals.map((t) => (t / limitMs - 1) * 100) };
    const over = (t: number) => `+${((t / limitMs - 1) * 100).toFixed(1)}%`;
    const [cold, ...warm] = totals;
    // One release's total moves by ±30 ms from run to run on a 2-core VM: the target is judged on the median; the
    // first release after start and the worst are shown beside it.
    rows.push({
      benchmark: 'Urgent release: 10 × 3 forced, 2 s per group rollout; physical limit 6 s',
      measured: `${ms(median(totals))} median of ${totals.length} (${over(median(totals))}); first after start ${ms(cold!)} (${over(cold!)}), worst of the others ${ms(Math.max(...warm))} (${over(Math.max(...warm))})`,
      target: '≤ 6.18 s (within 3%)',
      original: `${seconds(sim.totalSeconds * 1000)} (one group at a time system-wide, 60 s status sleeps)`,
      ok: median(totals) <= limitMs * 1.03,
    });
  } finally {
    reader.close();
    await server.stop();
    await provisioner.stop();
  }
}

// ------------------------------------------------------------------------------------------------------
// 3. Soak precision: 20 ring soaks of 2 s.

async function soak(): Promise<void> {
  const provisioner = new FakeProvisioner({ settleInstantly: true });
  const provisionerUrl = await provisioner.start();
  const file = path.join(WORK, 'soak.db');
  const pgs = createProvisionerGroups(provisioner, 20, 1);
  await seedDatabase(file, { rings: 20, groupsPerRing: 1, ringSoakSeconds: 2, provisionerGroupId: (r, g) => pgs[r]![g]! });
  const server = await startServer(`sqlite://${file}`, provisionerUrl, { name: 'soak' });
  const reader = new DbReader(file);
  try {
    await requestRelease(server.url, 'v2', false);
    const rolloutId = await waitForRelease(reader, 'v2', 180_000, 20);
    const events = reader.events(rolloutId).filter((e) => e.kind === 'ring.state');
    const lateness: number[] = [];
    for (const started of events.filter((e) => e.new_state === 'soaking-requested')) {
      // The soak's deadline is in its event message ("soaking until <ISO with ms>"), exactly as stored.
      const iso = /soaking until (\S+Z)/.exec(started.message)?.[1];
      const ended = events.find((e) => e.ring_id === started.ring_id && e.id > started.id && e.new_state === 'stable');
      if (!iso || !ended) throw new Error(`soak of ring ${started.ring_id} has no deadline or end: ${started.message}`);
      lateness.push(ended.at - Date.parse(iso));
    }
    const sim = simulateOriginal(simRings(20, 1, 2, 0), { force: false });
    results.soak = { soaks: lateness.length, latenessMs: lateness, p50: median(lateness), p99: percentile(lateness, 99), max: Math.max(...lateness), original: { latenessSeconds: sim.soakLateness } };
    log(`soak: ${lateness.length} soaks, lateness p50 ${ms(median(lateness))} p99 ${ms(percentile(lateness, 99))}`);
    rows.push({
      benchmark: `Soak precision: ${lateness.length} soaks of 2 s, end after deadline`,
      measured: `p50 ${ms(median(lateness))}, p99 ${ms(percentile(lateness, 99))}, max ${ms(Math.max(...lateness))}`,
      target: 'p99 < 250 ms',
      original: `${seconds(median(sim.soakLateness) * 1000)} late (next 30 s poll)`,
      ok: lateness.length === 20 && percentile(lateness, 99) < 250,
    });
  } finally {
    reader.close();
    await server.stop();
    await provisioner.stop();
  }
}

// ------------------------------------------------------------------------------------------------------
// 4. Chat and API under load: 500 rings, a release running, autocannon 15 s × 50 connections per target.

/** The route every load target is compared with: the cheapest there is (one `select 1`). */
const FLOOR_NAME = 'GET /healthz (floor)';
/** Issue 16: each route's p99 within this multiple of the floor's, in the same run. */
const LOAD_P99_OVER_FLOOR = 1.3;

/** What issue 16 measured before its work (p99, and the floor's in that run). */
const BEFORE_ISSUE_16: Record<string, string> = {
  '/elrond ring list': 'p99 48 ms = 1.9× the floor (25 ms)',
  '/elrond status': 'p99 43 ms = 1.7× the floor (25 ms)',
  'GET /api/rings': 'p99 30 ms = 1.2× the floor (25 ms)',
};

/** Seconds of load before each measured load run (JIT warm-up), not counted in the results. */
const WARMUP_SECONDS = 2;
/** Interleaved rounds of the load scenario (see there). */
const LOAD_ROUNDS = QUICK ? 1 : 3;

/** The server's read-cache counters (GET /metrics). */
async function readCacheStats(url: string): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const count = (result: string) => Number(new RegExp(`^elrond_read_cache_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { hit: count('hit'), miss: count('miss') };
}

/**
 * `--pin`: every thread of the server on the last core, every thread of this process on the others (taskset -a);
 * returns how to undo it for this process. A note, not a failure, where taskset or a second core is missing.
 */
function pinApart(serverPid: number): () => void {
  const cores = os.availableParallelism();
  if (cores < 2) {
    log('--pin: one core only, nothing to pin');
    return () => undefined;
  }
  try {
    execSync(`taskset -a -pc ${cores - 1} ${serverPid}`, { stdio: 'ignore' });
    execSync(`taskset -a -pc 0-${cores - 2} ${process.pid}`, { stdio: 'ignore' });
    log(`--pin: server on core ${cores - 1}, load generator and fakes on ${cores === 2 ? 'core 0' : `cores 0-${cores - 2}`}`);
  } catch (error) {
    log(`--pin: taskset failed (${(error as Error).message.split('\n')[0]}); running unpinned`);
  }
  return () => {
    try {
      execSync(`taskset -a -pc 0-${cores - 1} ${process.pid}`, { stdio: 'ignore' });
    } catch {
      // Unpinned already, or taskset is gone: nothing to undo.
    }
  };
}

async function load(): Promise<void> {
  const provisioner = new FakeProvisioner({ settleInstantly: false, rolloutDurationMs: 1000 });
  const provisionerUrl = await provisioner.start();
  const mm = new FakeMattermost();
  const mmUrl = await mm.start();
  const team = mm.addTeam({ name: 'release' });
  const channel = mm.addChannel({ teamId: team.id, name: 'releases' });
  const bot = mm.addBot({ username: 'elrond-bot' });
  mm.addChannelMember(channel.id, bot.userId);
  // A team admin may register /elrond (a plain team member may not manage slash commands).
  mm.addTeamMember(team.id, bot.userId, { admin: true });
  const user = mm.addUser({ username: 'bench' });
  mm.addChannelMember(channel.id, user.id);
  const file = path.join(WORK, 'load.db');
  const pgs = createProvisionerGroups(provisioner, 500, 1, { installations: 1 });
  await seedDatabase(file, { rings: 500, groupsPerRing: 1, ringSoakSeconds: 0, provisionerGroupId: (r, g) => pgs[r]![g]! });
  const token = 'bench-slash-token';
  const server = await startServer(`sqlite://${file}`, provisionerUrl, {
    name: 'load',
    args: ['--mattermost-url', mmUrl, '--mattermost-token', bot.token, '--mattermost-team', 'release', '--notify-channel', 'release/releases', '--slash-command-token', token],
  });
  const reader = new DbReader(file);
  const duration = 5;
  const unpin = PIN ? pinApart(server.pid) : () => undefined;
  try {
    // Releasing 500 rings at once starts with a burst: every ring is queued behind the first (one engine step
    // each) and each move asks for a card redraw (the thread says it once). Load is measured once that has passed, while the
    // rings release one after another; the burst is reported on its own.
    const burstCpuBefore = server.cpuMs();
    const { requestedAt } = await requestRelease(server.url, 'v2', false);
    await sleep(500);
    while (reader.undelivered() > 0 && Date.now() - requestedAt < 120_000) await sleep(100);
    const burstMs = Date.now() - requestedAt;
    const burstCpu = (server.cpuMs() - burstCpuBefore) / burstMs;
    const posted = mm.posts(channel.id).length;
    log(`load: release start-up burst (500 rings queued, ${posted} Mattermost posts) took ${burstMs} ms at ${burstCpu.toFixed(2)} cores`);
    // What the running release alone costs the server, before any load.
    const idleCpuBefore = server.cpuMs();
    await sleep(2000);
    const releaseCpu = (server.cpuMs() - idleCpuBefore) / 2000;
    log(`load: the running release alone uses ${releaseCpu.toFixed(2)} cores of the server`);
    const form = (text: string) =>
      new URLSearchParams({ token, team_id: team.id, team_domain: 'release', channel_id: channel.id, channel_name: 'releases', user_id: user.id, user_name: 'bench', command: '/elrond', text, response_url: `${mmUrl}/hooks/commands/none`, trigger_id: 'bench' }).toString();
    const targets = [
      { name: '/elrond ring list', method: 'POST', path: '/mattermost/command', body: form('ring list'), contentType: 'application/x-www-form-urlencoded' },
      { name: '/elrond status', method: 'POST', path: '/mattermost/command', body: form('status'), contentType: 'application/x-www-form-urlencoded' },
      { name: 'GET /api/rings', method: 'GET', path: '/api/rings' },
      // The floor: the cheapest route there is (one `select 1`), through the same HTTP stack, client and machine.
      { name: FLOOR_NAME, method: 'GET', path: '/healthz' },
    ];
    // Interleaved rounds: every route, then the floor, then again. A shared VM's speed drifts over a minute (the
    // same code measured 1.6× and 2.6× the floor in two runs when each route had its own 15 s block), so each
    // route is compared with the floor of its own round, and the median of the rounds is reported.
    type RoundEntry = Awaited<ReturnType<typeof measureTarget>>;
    const rounds: RoundEntry[][] = [];
    for (const target of targets) {
      // Sanity: one request answers 200 with the expected content.
      const probe = await fetch(`${server.url}${target.path}`, { method: target.method, ...(target.body ? { body: target.body, headers: { 'Content-Type': target.contentType! } } : {}) });
      if (probe.status !== 200) throw new Error(`${target.name} answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
      await probe.arrayBuffer().catch(() => undefined);
    }
    async function measureTarget(target: (typeof targets)[number]) {
      const probe = await fetch(`${server.url}${target.path}`, { method: target.method, ...(target.body ? { body: target.body, headers: { 'Content-Type': target.contentType! } } : {}) });
      const probeText = await probe.text();
      const before = reader.rings().filter((r) => r.state === 'stable' && r.active_release_id === r.desired_release_id).length;
      const cpuBefore = server.cpuMs();
      const cacheBefore = await readCacheStats(server.url);
      const benchCpuBefore = process.cpuUsage();
      const result = await autocannon({
        url: `${server.url}${target.path}`,
        method: target.method,
        connections: 50,
        duration,
        // Measured after 2 s at the same load: a server's first seconds include JIT compilation.
        warmup: { connections: 50, duration: WARMUP_SECONDS },
        // Every real caller asks for gzip: Mattermost's server (Go's http.Transport adds it), the CLI (axios), browsers.
        ...(target.body ? { body: target.body, headers: { 'content-type': target.contentType!, 'accept-encoding': 'gzip' } } : { headers: { 'accept-encoding': 'gzip' } }),
      });
      // Counters cover the warm-up too.
      const elapsedSeconds = duration + WARMUP_SECONDS;
      const cpu = (server.cpuMs() - cpuBefore) / (elapsedSeconds * 1000);
      // The load generator (and the fakes) share the machine: how much of it they took, warm-up included.
      const benchCpuUsed = process.cpuUsage(benchCpuBefore);
      const generatorCpu = (benchCpuUsed.user + benchCpuUsed.system) / 1000 / (elapsedSeconds * 1000);
      const cacheAfter = await readCacheStats(server.url);
      const computed = cacheAfter.miss - cacheBefore.miss;
      const after = reader.rings().filter((r) => r.state === 'stable' && r.active_release_id === r.desired_release_id).length;
      const entry = {
        name: target.name,
        responseBytes: probeText.length,
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
        requestsPerSecond: result.requests.average,
        total: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        // autocannon counts timeouts among the errors.
        timeouts: result.timeouts,
        serverCpuCores: cpu,
        ringsReleasedDuringRun: after - before,
        // Answers computed afresh (the data changed, or a new second began); the rest came from the read cache.
        computedPerSecond: computed / elapsedSeconds,
        loadGeneratorCpuCores: generatorCpu,
        // CPU the server spent per answer (the running release's share included): steadier than p99 when the
        // machine is shared, so it is what a before → after on a busy machine can compare.
        serverCpuMsPerRequest: (cpu * elapsedSeconds * 1000) / Math.max(1, result.requests.total * (elapsedSeconds / duration)),
      };
      log(`load ${target.name}: p99 ${entry.p99} ms, ${Math.round(entry.requestsPerSecond)} req/s, non2xx ${entry.non2xx}, errors ${entry.errors}, server CPU ${cpu.toFixed(2)} cores (${entry.serverCpuMsPerRequest.toFixed(3)} ms a request), load generator ${generatorCpu.toFixed(2)} cores, ${entry.ringsReleasedDuringRun} rings released meanwhile, ${entry.computedPerSecond.toFixed(1)} answers computed/s`);
      await sleep(500);
      return entry;
    }
    for (let round = 0; round < LOAD_ROUNDS; round++) {
      const entries: RoundEntry[] = [];
      for (const target of targets) entries.push(await measureTarget(target));
      rounds.push(entries);
    }
    // Per route: the median round (by p99 over that round's floor), with every round's ratio alongside.
    const floorOf = (entries: RoundEntry[]) => entries.find((entry) => entry.name === FLOOR_NAME)!;
    const measured = targets.map((target) => {
      const perRound = rounds.map((entries) => {
        const entry = entries.find((e) => e.name === target.name)!;
        return { ...entry, p99OverFloor: entry.p99 / Math.max(1, floorOf(entries).p99) };
      });
      const sorted = [...perRound].sort((a, b) => a.p99OverFloor - b.p99OverFloor || a.p99 - b.p99);
      const middle = sorted[Math.floor((sorted.length - 1) / 2)]!;
      return {
        ...middle,
        rounds: perRound.map((r) => ({ p99: r.p99, p99OverFloor: r.p99OverFloor, requestsPerSecond: r.requestsPerSecond })),
        non2xx: perRound.reduce((sum, r) => sum + r.non2xx, 0),
        errors: perRound.reduce((sum, r) => sum + r.errors, 0),
        timeouts: perRound.reduce((sum, r) => sum + r.timeouts, 0),
        requestsPerSecond: Math.min(...perRound.map((r) => r.requestsPerSecond)),
        ringsReleasedDuringRun: perRound.reduce((sum, r) => sum + r.ringsReleasedDuringRun, 0),
      };
    });
    const floor = measured.find((entry) => entry.name === FLOOR_NAME)!;
    const roundsNote = LOAD_ROUNDS > 1 ? ` (median of ${LOAD_ROUNDS} interleaved rounds of ${duration} s)` : '';
    for (const entry of measured) {
      const isFloor = entry === floor;
      const ratios = entry.rounds.map((r) => `${r.p99OverFloor.toFixed(2)}×`).join(', ');
      rows.push({
        benchmark: `Load (500 rings, release running): ${entry.name}, 50 connections${roundsNote || `, ${duration} s`}`,
        measured: `p99 ${entry.p99} ms (p50 ${entry.p50})${isFloor ? '' : ` = ${entry.p99OverFloor.toFixed(2)}× the floor of its round${LOAD_ROUNDS > 1 ? ` (rounds: ${ratios})` : ''}`}, ≥ ${Math.round(entry.requestsPerSecond).toLocaleString('en-US')} req/s, ${entry.serverCpuMsPerRequest.toFixed(2)} ms server CPU a request, ${entry.non2xx + entry.errors} failed (${entry.timeouts} of them timed out after 10 s); ${entry.ringsReleasedDuringRun} rings released meanwhile`,
        target: isFloor ? 'reference: what the HTTP stack alone allows here' : `p99 ≤ ${LOAD_P99_OVER_FLOOR}× the floor, ≥ 1,000 req/s`,
        original: BEFORE_ISSUE_16[entry.name] ?? 'n/a',
        ok: isFloor ? null : entry.p99OverFloor <= LOAD_P99_OVER_FLOOR && entry.requestsPerSecond >= 1000 && entry.non2xx + entry.errors === 0,
      });
      if (!isFloor) log(`load ${entry.name}: p99 ${entry.p99} ms = ${entry.p99OverFloor.toFixed(2)}× the /healthz floor of its round (rounds: ${ratios})`);
    }
    results.load = { rings: 500, pinned: PIN, floorP99: floor.p99, durationSeconds: duration, connections: 50, startBurst: { ms: burstMs, cpuCores: burstCpu, mattermostPosts: posted }, releaseCpuCores: releaseCpu, targets: measured, mattermostPosts: mm.posts(channel.id).length };
  } finally {
    unpin();
    reader.close();
    await server.stop();
    await provisioner.stop();
    await mm.stop();
  }
}

// ------------------------------------------------------------------------------------------------------
// 4b. What one answer costs in CPU: the load run's p99 depends on who else uses the cores, CPU time much less.

async function answers(): Promise<void> {
  const file = path.join(WORK, 'answers.db');
  await seedDatabase(file, { rings: 500, groupsPerRing: 1, ringSoakSeconds: 0 });
  // The answer cache keys on the clock's second: moving a manual clock a second makes the next answer a fresh one.
  const clock = new ManualClock(Date.now());
  const token = 'bench-slash-token';
  const server = await startInProcess(
    { ...defaultServerConfig(), database: `sqlite://${file}`, listen: '127.0.0.1:0', poll: 0, provisionerServer: 'http://127.0.0.1:9', provisionerWebhooks: false, slashCommandTokens: [token] },
    { clock, log: createLogger({ silent: true }), startLoops: false },
  );
  const command = (text: string) =>
    new URLSearchParams({ token, team_id: 't'.repeat(26), team_domain: 'release', channel_id: 'c'.repeat(26), channel_name: 'releases', user_id: 'u'.repeat(26), user_name: 'bench', command: '/elrond', text, response_url: 'http://127.0.0.1:9/hooks', trigger_id: 'bench' }).toString();
  const targets = [
    { name: '/elrond ring list', path: '/mattermost/command', body: command('ring list') },
    { name: '/elrond status', path: '/mattermost/command', body: command('status') },
    { name: 'GET /api/rings', path: '/api/rings' },
    { name: FLOOR_NAME, path: '/healthz', cachedOnly: true },
  ];
  const ask = async (target: (typeof targets)[number]) => {
    const response = await fetch(`${server.url}${target.path}`, target.body ? { method: 'POST', body: target.body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } } : {});
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${target.name} answered ${response.status}`);
  };
  /** CPU ms per request over `count` requests (after 50 unmeasured), a fresh answer each time when `fresh`. */
  const cpuPerRequest = async (target: (typeof targets)[number], fresh: boolean, count: number) => {
    for (let i = 0; i < 50; i++) await ask(target);
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      if (fresh) clock.advance(1000);
      await ask(target);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / count;
  };
  const measured: Record<string, { cachedMs: number; freshMs?: number }> = {};
  try {
    for (const target of targets) {
      const cachedMs = await cpuPerRequest(target, false, QUICK ? 500 : 2000);
      const freshMs = target.cachedOnly ? undefined : await cpuPerRequest(target, true, QUICK ? 100 : 300);
      measured[target.name] = { cachedMs, ...(freshMs === undefined ? {} : { freshMs }) };
      log(`answers ${target.name}: ${cachedMs.toFixed(2)} ms CPU from the cache${freshMs === undefined ? '' : `, ${freshMs.toFixed(2)} ms computed afresh`} (client included)`);
      rows.push({
        benchmark: `CPU of one answer (500 rings, in-process, client included): ${target.name}`,
        measured: `${cachedMs.toFixed(2)} ms from the cache${freshMs === undefined ? '' : `, ${freshMs.toFixed(2)} ms computed afresh`}`,
        target: 'reference: a computed answer stalls every request waiting for it',
        original: 'n/a (compare builds in one sitting: BENCHMARKS.md, issue 16)',
        ok: null,
      });
    }
    results.answers = { rings: 500, cpuMsPerRequest: measured };
  } finally {
    await server.close();
  }
}

// ------------------------------------------------------------------------------------------------------
// 5. Scale: 5,000 rings with 25,000 groups.

async function scale(): Promise<void> {
  const provisioner = new FakeProvisioner({ settleInstantly: true });
  const provisionerUrl = await provisioner.start();
  const file = path.join(WORK, 'scale.db');
  const seedStarted = performance.now();
  const rings: SeededRing[] = await seedDatabase(file, { rings: 5000, groupsPerRing: 5, ringSoakSeconds: 3600 });
  log(`scale: seeded ${rings.length} rings / ${rings.length * 5} groups in ${ms(performance.now() - seedStarted)}`);

  // Idle supervisor tick, timed in this process on the same database (the server's code, from dist).
  const store = connect(`sqlite://${file}`);
  const supervisor = new Supervisor(
    {
      store,
      clock: systemClock,
      log: createLogger({ silent: true }),
      sinks: [],
      provisioner: { getGroup: () => Promise.reject(new Error('unused')), updateGroup: () => Promise.reject(new Error('unused')), getGroupStatus: () => Promise.reject(new Error('unused')), installations: () => Promise.resolve([]) },
      config: { maxParallelGroups: 1, groupReleaseTimeoutMs: 3_600_000, statusIntervalMs: 10_000, leaseMs: 60_000, sloIntervalMs: 60_000, sloMaxFailures: 10 },
      owner: 'bench-tick',
      random: Math.random,
    },
    { pollSeconds: 0, rings: true, groups: true },
  );
  const ticks: number[] = [];
  for (let i = 0; i < 220; i++) {
    const started = performance.now();
    await supervisor.runUntilIdle(1);
    if (i >= 20) ticks.push(performance.now() - started);
  }
  await supervisor.stop();
  await store.close();
  log(`scale: idle tick p50 ${ms(median(ticks))} p99 ${ms(percentile(ticks, 99))}`);

  const startups: number[] = [];
  let server: ElrondProcess | undefined;
  try {
    for (let i = 0; i < 3; i++) {
      server = await startServer(`sqlite://${file}`, provisionerUrl, { name: 'scale', poll: 30 });
      startups.push(server.startupMs);
      if (i < 2) {
        await server.stop();
        server = undefined;
      }
    }
    const running = server!;
    await sleep(1000);
    const rssIdle = running.rssMiB();
    // The real process's backstop: CPU per idle second with --poll 30 (cron + outbox, nothing due).
    const cpu0 = running.cpuMs();
    await sleep(5000);
    const idleCpuPerSecond = (running.cpuMs() - cpu0) / 5;
    const probe = await callApi(running.url, 'GET', '/rings?per_page=100');
    if (probe.status !== 200 || (probe.body as unknown[]).length !== 100) throw new Error(`GET /api/rings?per_page=100 answered ${probe.status}`);
    // Every page read once, one after another, after a write: each is a read-cache miss, so this is the cost of
    // computing a page. A first round warms the process up (JIT) and is not counted.
    const coldMs: number[] = [];
    const someRing = (probe.body as Array<{ ID: string }>)[0]!.ID;
    for (const round of ['warm-up', 'measured']) {
      const locked = await callApi(running.url, 'POST', `/security/ring/${someRing}/api/${round === 'warm-up' ? 'lock' : 'unlock'}`);
      if (locked.status !== 200) throw new Error(`api lock answered ${locked.status}`);
      for (let page = 0; page < 50; page++) {
        // Timed to the last byte, without parsing the 190 KB (as autocannon times the other rows).
        const started = performance.now();
        const answer = await fetch(`${running.url}/api/rings?per_page=100&page=${page}`);
        await answer.arrayBuffer();
        if (round === 'measured') coldMs.push(performance.now() - started);
        if (answer.status !== 200) throw new Error(`GET /api/rings?page=${page} answered ${answer.status}`);
      }
    }
    log(`scale: each of the 50 pages read once (uncached): p50 ${ms(median(coldMs))}, p99 ${ms(percentile(coldMs, 99))}`);
    const pages = [];
    for (const [label, query, connections] of [
      ['first page', 'per_page=100', 1],
      ['first page', 'per_page=100', 10],
      ['last page', 'per_page=100&page=49', 10],
      ['first page', 'per_page=100', 50],
    ] as const) {
      const result = await autocannon({ url: `${running.url}/api/rings?${query}`, connections, duration: QUICK ? 4 : 10 });
      pages.push({ label, query, connections, p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, failed: result.non2xx + result.errors });
      log(`scale GET /api/rings?${query} @${connections}: p99 ${result.latency.p99} ms, ${Math.round(result.requests.average)} req/s`);
      await sleep(300);
    }
    const rssLoaded = running.rssMiB();
    const whole = await callApi(running.url, 'GET', '/rings?per_page=-1', undefined, 60_000);
    const rssAfterAll = running.rssMiB();
    results.scale = { coldPageMs: { p50: median(coldMs), p99: percentile(coldMs, 99), max: Math.max(...coldMs) }, rings: 5000, groups: 25000, idleTickMs: { p50: median(ticks), p99: percentile(ticks, 99), max: Math.max(...ticks), samples: ticks.length }, idleCpuMsPerSecond: idleCpuPerSecond, startupMs: startups, rssMiB: { idle: rssIdle, afterLoad: rssLoaded, afterListingAll: rssAfterAll }, listAllStatus: whole.status, pages };
    rows.push({ benchmark: 'Scale (5,000 rings / 25,000 groups): supervisor tick, nothing to do', measured: `p50 ${ms(median(ticks))}, p99 ${ms(percentile(ticks, 99))} (full pass); server idle CPU ${idleCpuPerSecond.toFixed(1)} ms/s`, target: '< 20 ms', original: 'n/a', ok: percentile(ticks, 99) < 20 });
    const [first1, first10, last10, first50] = pages;
    const pageKb = Math.round(Buffer.byteLength(JSON.stringify(probe.body)) / 1024);
    rows.push({
      benchmark: `Scale: GET /api/rings?per_page=100 (${pageKb} KB per page), one client`,
      measured: `p99 ${first1!.p99} ms, p50 ${first1!.p50} ms (${Math.round(first1!.rps).toLocaleString('en-US')} req/s)`,
      target: 'p99 < 30 ms',
      original: 'n/a',
      ok: first1!.p99 < 30 && first1!.failed === 0,
    });
    rows.push({
      benchmark: 'Scale: GET /api/rings?per_page=100, every one of the 50 pages read once after a write (each computed afresh), one client',
      measured: `p50 ${ms(median(coldMs))}, p99 ${ms(percentile(coldMs, 99))}, max ${ms(Math.max(...coldMs))}`,
      target: 'p99 < 30 ms',
      original: 'n/a',
      ok: percentile(coldMs, 99) < 30,
    });
    rows.push({
      benchmark: 'Scale: GET /api/rings?per_page=100, 10 concurrent clients',
      measured: `first page p99 ${first10!.p99} ms (${Math.round(first10!.rps).toLocaleString('en-US')} req/s), last page p99 ${last10!.p99} ms`,
      target: 'p99 < 30 ms',
      original: 'n/a',
      ok: first10!.p99 < 30 && last10!.p99 < 30 && first10!.failed + last10!.failed === 0,
    });
    rows.push({
      benchmark: 'Scale: GET /api/rings?per_page=100, 50 concurrent clients',
      measured: `p99 ${first50!.p99} ms, p50 ${first50!.p50} ms (${Math.round(first50!.rps).toLocaleString('en-US')} req/s)`,
      target: 'p99 < 30 ms',
      original: 'n/a',
      ok: first50!.p99 < 30 && first50!.failed === 0,
    });
    rows.push({ benchmark: 'Scale: resident memory of the server', measured: `${rssIdle.toFixed(0)} MiB idle, ${rssLoaded.toFixed(0)} MiB after load, ${rssAfterAll.toFixed(0)} MiB after listing all rings`, target: '< 250 MB', original: 'n/a', ok: Math.max(rssIdle, rssLoaded) < 250 });
    rows.push({ benchmark: 'Scale: start-up (spawn → listening)', measured: `${startups.map((s) => ms(s)).join(', ')}`, target: '< 2 s', original: 'n/a', ok: Math.max(...startups) < 2000 });
  } finally {
    await server?.stop();
    await provisioner.stop();
  }
}

// ------------------------------------------------------------------------------------------------------
// 6. Provisioner webhooks (issue 16): one group of 10 installations, rolled by the fake's own supervisor passes
//    (each installation stable → update-requested → update-in-progress → stable, 2 at a time), with Elrond's
//    webhook registered or not. A 10-minute rollout scaled down to 60 s (20 s with --quick): the 30 s backstop
//    fires at most once or twice here, so the status calls with webhooks are mostly event-driven reads.

async function webhooksRun(mode: 'on' | 'off', rolloutMs: number, run: number): Promise<{ statusCalls: number; listings: number; noticedMs: number; events: number }> {
  const provisioner = new FakeProvisioner({ settleInstantly: false });
  const provisionerUrl = await provisioner.start();
  const file = path.join(WORK, `webhooks-${mode}-${run}.db`);
  const pgs = createProvisionerGroups(provisioner, 1, 1, { installations: 10 });
  await seedDatabase(file, { rings: 1, groupsPerRing: 1, ringSoakSeconds: 0, provisionerGroupId: (r, g) => pgs[r]![g]! });
  const port = await freePort();
  const server = await ElrondProcess.start({ database: `sqlite://${file}`, provisionerUrl, poll: 30, port, args: ['--public-url', `http://127.0.0.1:${port}`, `--provisioner-webhooks=${mode === 'on'}`], logFile: LOG_FILE });
  const reader = new DbReader(file);
  try {
    if (mode === 'on') await waitFor(() => provisioner.webhooks().length === 1, 10_000, 'webhook registration');
    // 10 installations × 3 changes, 2 at a time: about 15 passes of the fake move the whole group.
    provisioner.autoRollout({ intervalMs: Math.round(rolloutMs / 15) });
    provisioner.clearLog();
    await requestRelease(server.url, 'v2', true);
    const rolloutId = await waitForRelease(reader, 'v2', rolloutMs * 4 + 60_000);
    provisioner.autoRollout(false);
    const lastStable = Math.max(...provisioner.stateChanges.filter((c) => c.newState === 'stable').map((c) => c.at));
    const moved = reader.events(rolloutId).find((e) => e.kind === 'group.state' && e.old_state === 'release-requested');
    return {
      statusCalls: provisioner.requests.filter((r) => r.route === 'getStatus').length,
      listings: provisioner.requests.filter((r) => r.route === 'getInstallations').length,
      noticedMs: (moved?.at ?? Number.NaN) - lastStable,
      events: provisioner.stateChanges.length,
    };
  } finally {
    reader.close();
    await server.stop();
    await provisioner.stop();
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function webhooks(): Promise<void> {
  const rolloutMs = QUICK ? 20_000 : 60_000;
  const runs = QUICK ? 1 : 3;
  const measured: Record<'on' | 'off', Array<Awaited<ReturnType<typeof webhooksRun>>>> = { on: [], off: [] };
  for (let i = 0; i < runs; i++) {
    for (const mode of ['off', 'on'] as const) {
      const result = await webhooksRun(mode, rolloutMs, i);
      measured[mode].push(result);
      log(`webhooks ${mode}: ${result.statusCalls} status calls, ${result.listings} listings, end noticed after ${ms(result.noticedMs)} (${result.events} installation events)`);
    }
  }
  results.webhooks = { rolloutMs, measured };
  const calls = (mode: 'on' | 'off') => median(measured[mode].map((r) => r.statusCalls));
  const noticed = (mode: 'on' | 'off') => percentile(measured[mode].map((r) => r.noticedMs), 99);
  rows.push({
    benchmark: `Status calls per group rollout (10 installations, ${seconds(rolloutMs)} rollout), webhooks on / off`,
    measured: `${calls('on')} / ${calls('off')} (+ ${median(measured.on.map((r) => r.listings))} installation listings with webhooks)`,
    target: '≤ 20 with webhooks',
    original: 'one GetGroupStatus per 60 s',
    ok: calls('on') <= 20,
  });
  rows.push({
    benchmark: 'End of a group rollout noticed (last installation stable → group moves), webhooks on / off, p99',
    measured: `${ms(noticed('on'))} / ${ms(noticed('off'))}`,
    target: '≤ 500 ms with webhooks',
    original: 'up to 60 s',
    ok: noticed('on') <= 500,
  });
}

// ------------------------------------------------------------------------------------------------------

function printTable(): string {
  const headers = ['Benchmark', 'Measured', 'Target', 'Original (simulated)', ''];
  const body = rows.map((r) => [r.benchmark, r.measured, r.target, r.original, r.ok === null ? '' : r.ok ? 'PASS' : 'MISS']);
  const widths = headers.map((h, i) => Math.min(70, Math.max(h.length, ...body.map((b) => b[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  const started = new Date();
  const loadBefore = os.loadavg();
  log(`scenarios: ${chosen.join(', ')}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; work dir ${WORK}`);
  const failures: string[] = [];
  const run: Record<Scenario, () => Promise<void>> = { orchestration, urgent, soak, load, answers, scale, webhooks };
  for (const name of chosen) {
    const t = performance.now();
    try {
      await run[name]();
    } catch (error) {
      failures.push(`${name}: ${(error as Error).stack ?? String(error)}`);
      rows.push({ benchmark: name, measured: `ERROR: ${(error as Error).message.split('\n')[0]}`, target: '', original: '', ok: false });
      log(`${name} failed: ${(error as Error).message}\nserver log: ${LOG_FILE}`);
    }
    log(`${name} done in ${seconds(performance.now() - t)}`);
  }
  const table = printTable();
  const markdown = [
    '| Benchmark | Measured | Target | Original (simulated) | |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${[r.benchmark, r.measured, r.target, r.original, r.ok === null ? '' : r.ok ? 'PASS' : 'MISS'].map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
  const loadAfter = os.loadavg();
  const output = {
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machine(),
    loadAverage: { before: loadBefore, after: loadAfter },
    rows,
    markdown,
    results,
    failures,
  };
  process.stdout.write(`\n${table}\n\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`);
  const file = path.join(ROOT, 'bench', chosen.length === ALL.length ? 'results.json' : `results-${chosen.join('-')}.json`);
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);
  process.stdout.write(`results written to ${path.relative(process.cwd(), file) || file}\n`);
  if (liveProcessCount() > 0) log(`warning: ${liveProcessCount()} server process(es) still running; killing them`);
  if (failures.length === 0) rmSync(WORK, { recursive: true, force: true });
  else log(`kept ${WORK} (databases and ${path.basename(LOG_FILE)}) for a look at the failures`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
