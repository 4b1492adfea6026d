/**
 * Chaos runs against real `elrond server` processes and the test fakes, on 127.0.0.1 only, bounded in count
 * and time. Used by `npm run chaos` (bench/run-chaos.ts) and, shortened, by test/chaos-smoke.test.ts.
 *
 * - Kills: SIGKILL the server at random moments of a release, restart it each time, then check that every
 *   group is on the target version, was PUT once, in ring order, and that every thread reply and card edit
 *   reached Mattermost exactly once.
 * - Faults: the provisioner fails 30% of requests with latency spikes, Mattermost fails half its requests
 *   for a while, Grafana is down throughout: every release still completes and every notification arrives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeProvisioner } from '../../test/fakes/fake-provisioner.js';
import { FakeMattermost } from '../../test/fakes/fake-mattermost.js';
import { FakeGrafana } from '../../test/fakes/fake-grafana.js';
import { ElrondProcess } from './elrond-process.js';
import { DbReader } from './db-reader.js';
import { createProvisionerGroups, seedDatabase, type SeededRing } from './seed.js';
import { callApi, waitForRelease } from './release-driver.js';
import { seededRandom } from './stats.js';
import { freePort, sleep, waitFor } from '../../test/helpers/processes.js';

export interface ChaosLog {
  (line: string): void;
}

interface World {
  dir: string;
  file: string;
  provisioner: FakeProvisioner;
  mm: FakeMattermost;
  grafana: FakeGrafana | undefined;
  channelId: string;
  botUserId: string;
  rings: SeededRing[];
  /** Provisioner group id → ring priority. */
  priorityOf: Map<string, number>;
  port: number;
  args: string[];
  leaseSeconds: number;
  server: ElrondProcess | undefined;
  /** Every server process started, for CPU and crash accounting. */
  processes: ElrondProcess[];
  logFile: string;
}

interface WorldOptions {
  rings: number;
  groupsPerRing: number;
  rolloutMs: number;
  ringSoakSeconds: number;
  leaseSeconds: number;
  grafana: boolean;
  workDir?: string;
}

async function createWorld(options: WorldOptions): Promise<World> {
  const dir = mkdtempSync(path.join(options.workDir ?? os.tmpdir(), 'elrond-chaos-'));
  const provisioner = new FakeProvisioner({ settleInstantly: false, rolloutDurationMs: options.rolloutMs });
  const provisionerUrl = await provisioner.start();
  const mm = new FakeMattermost();
  const mmUrl = await mm.start();
  const team = mm.addTeam({ name: 'release' });
  const channel = mm.addChannel({ teamId: team.id, name: 'releases' });
  const bot = mm.addBot({ username: 'elrond-bot' });
  mm.addChannelMember(channel.id, bot.userId);
  // A team admin may register /elrond (a plain team member may not manage slash commands).
  mm.addTeamMember(team.id, bot.userId, { admin: true });
  let grafana: FakeGrafana | undefined;
  const args = ['--mattermost-url', mmUrl, '--mattermost-token', bot.token, '--mattermost-team', 'release', '--notify-channel', 'release/releases', '--provisioner-status-interval', '1'];
  if (options.grafana) {
    grafana = new FakeGrafana();
    const grafanaUrl = await grafana.start();
    grafana.addToken('glsa_chaos', 1);
    args.push('--grafana-url', grafanaUrl, '--grafana-token', 'glsa_chaos');
  }
  const pgs = createProvisionerGroups(provisioner, options.rings, options.groupsPerRing);
  const file = path.join(dir, 'elrond.db');
  const rings = await seedDatabase(file, { rings: options.rings, groupsPerRing: options.groupsPerRing, ringSoakSeconds: options.ringSoakSeconds, provisionerGroupId: (r, g) => pgs[r]![g]! });
  const priorityOf = new Map(rings.flatMap((ring) => ring.groups.map((g) => [g.provisionerGroupId, ring.priority] as const)));
  args.push('--provisioner-server', provisionerUrl);
  return { dir, file, provisioner, mm, grafana, channelId: channel.id, botUserId: bot.userId, rings, priorityOf, port: await freePort(), args, leaseSeconds: options.leaseSeconds, server: undefined, processes: [], logFile: path.join(dir, 'servers.log') };
}

async function startElrond(world: World): Promise<ElrondProcess> {
  const provisionerUrl = world.args[world.args.indexOf('--provisioner-server') + 1]!;
  const server = await ElrondProcess.start({
    database: `sqlite://${world.file}`,
    port: world.port,
    poll: 30,
    provisionerUrl,
    leaseDuration: world.leaseSeconds,
    args: world.args.filter((_, i, all) => all[i] !== '--provisioner-server' && all[i - 1] !== '--provisioner-server'),
    logFile: world.logFile,
  });
  world.server = server;
  world.processes.push(server);
  return server;
}

async function destroyWorld(world: World, keep: boolean): Promise<void> {
  for (const server of world.processes) await server.stop(5000);
  await world.provisioner.stop();
  await world.mm.stop();
  await world.grafana?.stop();
  if (!keep) rmSync(world.dir, { recursive: true, force: true });
}

/** Ask for a release, retrying while the server is (re)starting. */
async function release(world: World, version: string, force = false): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const requestedAt = Date.now();
    const answer = await callApi(world.server!.url, 'POST', '/rings/release', { image: 'mattermost/mattermost-enterprise-edition', version, force });
    if (answer.status === 202) return requestedAt;
    if (Date.now() > deadline) throw new Error(`release ${version} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    await sleep(200);
  }
}

export interface ReleaseCheck {
  version: string;
  rolloutId: string;
  puts: number;
  threadReplies: number;
  cardEdits: number;
  dedupes: number;
  violations: string[];
}

/**
 * Everything one finished release must satisfy. `exactlyOncePuts`: each group PUT exactly once (no faults
 * injected on the provisioner); otherwise only that the last accepted PUT carried the release.
 */
function versionViolations(world: World, version: string): string[] {
  const violations: string[] = [];
  for (const id of world.priorityOf.keys()) {
    const group = world.provisioner.group(id);
    if (group?.Version !== version) violations.push(`provisioner group ${id} is on ${group?.Version}, not ${version}`);
  }
  return violations;
}

function checkRelease(world: World, reader: DbReader, version: string, rolloutId: string, window: { since: number; until: number }, exactlyOncePuts: boolean): ReleaseCheck {
  const { since, until } = window;
  const pgIds = [...world.priorityOf.keys()];
  // 1. Every group carries the release (checked right after the release when several follow each other).
  const violations: string[] = exactlyOncePuts ? versionViolations(world, version) : [];
  // 2. Each group PUT at most (here: exactly) once for this release; 3. PUTs in ring priority order.
  const puts = world.provisioner.requests.filter((r) => r.route === 'putGroup' && r.at >= since && r.at <= until && (r.body as { Version?: string } | undefined)?.Version === version);
  const perGroup = new Map<string, number>();
  for (const put of puts) {
    const id = put.path.split('/').pop() ?? '';
    perGroup.set(id, (perGroup.get(id) ?? 0) + 1);
  }
  if (exactlyOncePuts) {
    for (const id of pgIds) if ((perGroup.get(id) ?? 0) !== 1) violations.push(`provisioner group ${id} was PUT ${perGroup.get(id) ?? 0} times for ${version}`);
  }
  let highest = 0;
  for (const put of puts) {
    const priority = world.priorityOf.get(put.path.split('/').pop() ?? '') ?? 0;
    if (priority < highest) violations.push(`ring order violated: a group of priority ${priority} was PUT after one of priority ${highest}`);
    highest = Math.max(highest, priority);
  }
  // 4. The events table: each ring started once and finished once, in priority order; each group likewise.
  const events = reader.events(rolloutId);
  let previousStable = 0;
  for (const ring of world.rings) {
    const starts = events.filter((e) => e.kind === 'ring.state' && e.ring_id === ring.id && e.new_state === 'release-requested');
    const stables = events.filter((e) => e.kind === 'ring.state' && e.ring_id === ring.id && e.new_state === 'stable');
    if (starts.length !== 1 || stables.length !== 1) violations.push(`ring ${ring.name}: ${starts.length} starts and ${stables.length} completions recorded for ${version}`);
    if (starts[0] && starts[0].id < previousStable) violations.push(`ring ${ring.name} started before the ring ahead of it was stable`);
    previousStable = stables[0]?.id ?? previousStable;
    for (const group of ring.groups) {
      const moves = events.filter((e) => e.kind === 'group.state' && e.installation_group_id === group.id);
      const started = moves.filter((e) => e.new_state === 'release-requested').length;
      const done = moves.filter((e) => e.new_state === 'stable').length;
      if (started !== 1 || done !== 1) violations.push(`group ${group.name}: ${started} starts and ${done} completions recorded for ${version}`);
    }
  }
  // 5. Mattermost: one card, every queued reply in the thread exactly once and in order, every narrated
  //    state change queued once, every card edit applied exactly once (props.elrond_revision = outbox id).
  const rollout = reader.rollout(rolloutId);
  const outbox = reader.outbox('mattermost').filter((row) => row.ordering_key === `mm:${rolloutId}:thread` || row.ordering_key === `mm:${rolloutId}:card`);
  const undelivered = outbox.filter((row) => row.delivered_at === null);
  if (undelivered.length) violations.push(`${undelivered.length} Mattermost deliveries of ${version} never arrived`);
  const replies = outbox.filter((row) => row.payload.includes('"op":"reply"'));
  const edits = outbox.filter((row) => row.payload.includes('"op":"edit-card"') && row.delivered_at !== null);
  let threadCount = 0;
  let revisionsCount = 0;
  if (!rollout?.post_id) {
    violations.push(`release ${version} has no card`);
  } else {
    const cards = world.mm.posts(world.channelId).filter((p) => p.user_id === world.botUserId && !p.root_id && p.create_at >= since && p.create_at <= until);
    if (cards.length !== 1) violations.push(`${cards.length} cards were posted for ${version}`);
    const thread = world.mm.thread(rollout.post_id).filter((p) => p.id !== rollout.post_id).map((p) => p.message);
    threadCount = thread.length;
    const expected = replies.map((row) => (JSON.parse(row.payload) as { message: string }).message);
    if (JSON.stringify(thread) !== JSON.stringify(expected)) {
      const extra = thread.filter((m, i) => thread.indexOf(m) !== i);
      violations.push(`thread of ${version} differs from the queued replies: ${thread.length} posted, ${expected.length} queued${extra.length ? `, duplicated: ${extra.slice(0, 3).join(' | ')}` : ''}`);
    }
    const revisions = world.mm
      .postHistory(rollout.post_id)
      .filter((v) => v.via === 'patch')
      .map((v) => Number((v.props as { elrond_revision?: unknown }).elrond_revision));
    revisionsCount = revisions.length;
    const seen = new Set<number>();
    for (const revision of revisions) {
      if (seen.has(revision)) violations.push(`card edit ${revision} of ${version} was applied twice`);
      seen.add(revision);
    }
    const missing = edits.filter((row) => !seen.has(row.id));
    if (missing.length) violations.push(`${missing.length} card edits of ${version} marked delivered never reached the card (${missing.map((r) => r.id).join(', ')})`);
  }
  // Each milestone once (src/model/milestones.ts): the request; per ring its start, each group rolled, its soak
  // and its end; then one reply for the end of the release (queued with the last ring's end). Nothing else.
  const replyEvents = new Map<number, number>();
  for (const row of replies) if (row.event_id !== null) replyEvents.set(row.event_id, (replyEvents.get(row.event_id) ?? 0) + 1);
  const moving = ['release-requested', 'release-in-progress', 'soaking-requested'];
  const milestone = (e: (typeof events)[number]) =>
    e.kind === 'release.requested' ||
    (e.kind === 'group.state' && e.old_state === 'release-requested' && (e.new_state === 'stable' || e.new_state === 'release-soaking-requested')) ||
    (e.kind === 'ring.state' && e.source === 'supervisor' && ((e.new_state === 'release-requested' && e.old_state === 'release-pending') || e.new_state === 'soaking-requested' || (e.new_state === 'stable' && moving.includes(e.old_state ?? ''))));
  const told = events.filter(milestone);
  for (const event of events.filter((e) => e.kind === 'ring.state' || e.kind === 'group.state' || e.kind === 'release.requested')) {
    const count = replyEvents.get(event.id) ?? 0;
    const expected = !milestone(event) ? 0 : event.id === told.at(-1)?.id ? 2 : 1;
    if (count !== expected) violations.push(`event "${event.message}" has ${count} thread replies queued, not ${expected}`);
  }
  const dedupes = world.mm.dedupes().filter((d) => d.at >= since && d.at <= until).length;
  return { version, rolloutId, puts: puts.length, threadReplies: threadCount, cardEdits: revisionsCount, dedupes, violations };
}

/** Wait (bounded) until every ring is stable on `version`; fail at once when a ring fails instead. */
async function waitForOutcome(reader: DbReader, version: string, timeoutMs: number): Promise<string> {
  await waitFor(
    `${version} to complete`,
    () => {
      const failed = reader.rings().find((r) => r.state.includes('failed'));
      if (failed) throw new Error(`${version} failed: ${reader.describeUnfinished()}`);
      return reader.allStableOn(version);
    },
    { timeoutMs, everyMs: 50 },
  );
  return waitForRelease(reader, version, 10_000, 25);
}

/** Wait (bounded) until the release is done and every Mattermost delivery of it is made. */
async function waitSettled(world: World, reader: DbReader, version: string, timeoutMs: number): Promise<string> {
  const rolloutId = await waitForOutcome(reader, version, timeoutMs);
  await waitFor(`Mattermost deliveries of ${version}`, () => reader.undelivered('mattermost') === 0, { timeoutMs, everyMs: 50 }).catch((error: unknown) => {
    const stuck = reader.outbox('mattermost').filter((row) => row.delivered_at === null).slice(0, 3).map((row) => `${row.payload.slice(0, 60)} (attempts ${row.attempts}, ${row.last_error})`);
    throw new Error(`${(error as Error).message}: ${stuck.join('; ')}`);
  });
  return rolloutId;
}

// ------------------------------------------------------------------------------------------------------

export interface KillChaosOptions {
  runs: number;
  killsPerRun: number;
  rings?: number;
  groupsPerRing?: number;
  rolloutMs?: number;
  ringSoakSeconds?: number;
  /** A kill comes 0 to this many ms after the server is up again. */
  maxKillDelayMs?: number;
  leaseSeconds?: number;
  seed?: number;
  /** Per release, from the request to everything delivered. */
  releaseTimeoutMs?: number;
  log?: ChaosLog;
  workDir?: string;
}

export interface KillChaosReport {
  seed: number;
  kills: number;
  /** When each kill struck, ms after its release was requested, and what the release was doing. */
  moments: Array<{ run: number; atMs: number; ringsStable: number }>;
  releases: ReleaseCheck[];
  violations: string[];
  durationMs: number;
  /** Restart: SIGKILL → listening again, ms. */
  restartMs: number[];
  /**
   * SIGKILL → the release's next step after the restart (a provisioner call or a supervisor event), ms; a kill
   * during a wait (a soak) counts the rest of the wait too. Before liveness (issue 16) a kill mid-step cost a lease.
   */
  nextStepMs: number[];
  errorLines: string[];
}

/** When the release next moved after `since` (ms since epoch): undefined when it had already finished. */
async function nextStep(world: World, reader: DbReader, since: number, version: string, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const call = world.provisioner.requests.find((r) => r.at >= since && r.route !== 'getWebhooks' && r.route !== 'createWebhook');
    const event = reader.events().find((e) => e.at >= since && e.source === 'supervisor');
    const candidates = [call?.at, event?.at].filter((v): v is number => v !== undefined);
    if (candidates.length) return Math.min(...candidates);
    if (reader.allStableOn(version)) return undefined;
    await sleep(20);
  }
  return deadline;
}

export async function runKillChaos(options: KillChaosOptions): Promise<KillChaosReport> {
  const seed = options.seed ?? Date.now() % 1_000_000;
  const random = seededRandom(seed);
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const world = await createWorld({
    rings: options.rings ?? 5,
    groupsPerRing: options.groupsPerRing ?? 2,
    rolloutMs: options.rolloutMs ?? 400,
    ringSoakSeconds: options.ringSoakSeconds ?? 1,
    leaseSeconds: options.leaseSeconds ?? 5,
    grafana: false,
    ...(options.workDir ? { workDir: options.workDir } : {}),
  });
  const reader = new DbReader(world.file);
  const report: KillChaosReport = { seed, kills: 0, moments: [], releases: [], violations: [], durationMs: 0, restartMs: [], nextStepMs: [], errorLines: [] };
  let failed = false;
  try {
    await startElrond(world);
    for (let run = 0; run < options.runs; run++) {
      const version = `v${run + 2}`;
      const since = await release(world, version);
      for (let k = 0; k < options.killsPerRun; k++) {
        await sleep(Math.floor(random() * (options.maxKillDelayMs ?? 2000)));
        const server = world.server!;
        if (!server.running) report.violations.push(`the server exited on its own (run ${run + 1}):\n${server.tail(20)}`);
        const ringsStable = reader.rings().filter((r) => r.state === 'stable' && reader.releaseVersion(r.active_release_id) === version).length;
        report.moments.push({ run: run + 1, atMs: Date.now() - since, ringsStable });
        const killedAt = performance.now();
        await server.kill();
        report.kills++;
        await startElrond(world);
        report.restartMs.push(performance.now() - killedAt);
        const restartedAt = Date.now();
        const next = await nextStep(world, reader, restartedAt, version, 90_000);
        if (next !== undefined) report.nextStepMs.push(next - restartedAt);
      }
      const rolloutId = await waitSettled(world, reader, version, options.releaseTimeoutMs ?? 120_000);
      const check = checkRelease(world, reader, version, rolloutId, { since, until: Date.now() }, true);
      report.releases.push(check);
      report.violations.push(...check.violations.map((v) => `run ${run + 1}: ${v}`));
      log(`kill run ${run + 1}/${options.runs}: ${version} done after ${options.killsPerRun} kills; ${check.puts} PUTs, ${check.threadReplies} thread replies, ${check.cardEdits} card edits, ${check.dedupes} posts deduplicated by Mattermost; ${check.violations.length} violations`);
    }
  } catch (error) {
    failed = true;
    report.violations.push(`aborted: ${(error as Error).message}`);
  } finally {
    for (const p of world.processes) report.errorLines.push(...p.lines().filter((l) => / (ERROR|FATAL) /.test(l) || /^\s+at /.test(l)));
    reader.close();
    if (failed || report.violations.length) log(`keeping ${world.dir} (database and servers.log) for a look`);
    await destroyWorld(world, failed || report.violations.length > 0);
  }
  report.durationMs = Date.now() - started;
  return report;
}

// ------------------------------------------------------------------------------------------------------

export interface FaultChaosOptions {
  releases: number;
  rings?: number;
  groupsPerRing?: number;
  rolloutMs?: number;
  ringSoakSeconds?: number;
  provisionerErrorRate?: number;
  /** Latency spikes: this share of each second's requests wait spikeMs (uniform up to it); others up to 30 ms. */
  spikeShare?: number;
  spikeMs?: number;
  /** Mattermost fails half its requests for this long (from the first release). */
  mattermostFaultMs?: number;
  /** After the releases, bring Grafana back and wait (bounded) for its backlog. */
  waitForGrafanaMs?: number;
  seed?: number;
  releaseTimeoutMs?: number;
  log?: ChaosLog;
  workDir?: string;
}

export interface FaultChaosReport {
  seed: number;
  releases: Array<ReleaseCheck & { durationMs: number }>;
  violations: string[];
  durationMs: number;
  provisionerRequests: number;
  provisionerFailures: number;
  mattermostFailures: number;
  grafana: { queued: number; deliveredWhileDown: number; abandoned: number; deliveredAfterwards: number | null };
  errorLines: string[];
}

export async function runFaultChaos(options: FaultChaosOptions): Promise<FaultChaosReport> {
  const seed = options.seed ?? Date.now() % 1_000_000;
  const random = seededRandom(seed);
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const world = await createWorld({
    rings: options.rings ?? 5,
    groupsPerRing: options.groupsPerRing ?? 2,
    rolloutMs: options.rolloutMs ?? 400,
    ringSoakSeconds: options.ringSoakSeconds ?? 1,
    leaseSeconds: 10,
    grafana: true,
    ...(options.workDir ? { workDir: options.workDir } : {}),
  });
  const reader = new DbReader(world.file);
  const report: FaultChaosReport = { seed, releases: [], violations: [], durationMs: 0, provisionerRequests: 0, provisionerFailures: 0, mattermostFailures: 0, grafana: { queued: 0, deliveredWhileDown: 0, abandoned: 0, deliveredAfterwards: null }, errorLines: [] };
  let spikes: NodeJS.Timeout | undefined;
  let failed = false;
  try {
    world.grafana!.down(true);
    await startElrond(world);
    const faultsFrom = world.provisioner.requests.length;
    world.provisioner.setErrorRate(options.provisionerErrorRate ?? 0.3, 503);
    const spikeShare = options.spikeShare ?? 0.25;
    const spikeMs = options.spikeMs ?? 2500;
    spikes = setInterval(() => world.provisioner.setLatency(random() < spikeShare ? { minMs: Math.floor(spikeMs / 5), maxMs: spikeMs } : { minMs: 0, maxMs: 30 }), 1000);
    spikes.unref();
    const mmFaultUntil = Date.now() + (options.mattermostFaultMs ?? 60_000);
    world.mm.setErrorRate(0.5, 503, mmFaultUntil);
    const mmFrom = world.mm.requests.length;
    const done: Array<{ version: string; rolloutId: string; since: number; durationMs: number; versions: string[] }> = [];
    for (let i = 0; i < options.releases; i++) {
      const version = `v${i + 2}`;
      const since = await release(world, version);
      const rolloutId = await waitForOutcome(reader, version, options.releaseTimeoutMs ?? 300_000);
      const durationMs = Date.now() - since;
      log(`fault release ${version} complete in ${(durationMs / 1000).toFixed(1)} s`);
      done.push({ version, rolloutId, since, durationMs, versions: versionViolations(world, version) });
    }
    // Faults off on the provisioner; Mattermost recovers when its window ends: every notification must arrive.
    clearInterval(spikes);
    world.provisioner.clearFaults();
    report.provisionerRequests = world.provisioner.requests.length - faultsFrom;
    const waitMm = Math.max(0, mmFaultUntil - Date.now());
    if (waitMm > 0) log(`waiting ${(waitMm / 1000).toFixed(0)} s for the Mattermost fault window to end`);
    await sleep(waitMm);
    await waitFor('every Mattermost delivery', () => reader.undelivered('mattermost') === 0, { timeoutMs: 240_000, everyMs: 200 }).catch((error: unknown) => {
      const stuck = reader.outbox('mattermost').filter((row) => row.delivered_at === null).slice(0, 3).map((row) => `${row.payload.slice(0, 60)} (attempts ${row.attempts}, ${row.last_error})`);
      throw new Error(`${(error as Error).message}: ${stuck.join('; ')}`);
    });
    report.mattermostFailures = world.mm.requests.slice(mmFrom).filter((r) => (r.status ?? 200) >= 500).length;
    for (const [i, entry] of done.entries()) {
      const check = checkRelease(world, reader, entry.version, entry.rolloutId, { since: entry.since, until: done[i + 1]?.since ?? Date.now() }, false);
      check.violations.unshift(...entry.versions);
      report.releases.push({ ...check, durationMs: entry.durationMs });
      report.violations.push(...check.violations);
    }
    // Grafana: down throughout, so nothing delivered, nothing dropped; then back up, the backlog arrives.
    const grafanaRows = reader.outbox('grafana');
    report.grafana.queued = grafanaRows.length;
    report.grafana.deliveredWhileDown = grafanaRows.filter((row) => row.delivered_at !== null && !row.last_error?.includes('abandon')).length;
    report.grafana.abandoned = grafanaRows.filter((row) => row.delivered_at !== null && row.last_error !== null).length;
    if (report.grafana.queued === 0) report.violations.push('no Grafana annotation was queued');
    if (report.grafana.deliveredWhileDown > 0) report.violations.push(`${report.grafana.deliveredWhileDown} Grafana annotations counted as delivered while Grafana was down`);
    if (options.waitForGrafanaMs) {
      world.grafana!.down(false);
      const delivered = await waitFor('the Grafana backlog', () => reader.undelivered('grafana') === 0, { timeoutMs: options.waitForGrafanaMs, everyMs: 500 }).then(
        () => true,
        () => false,
      );
      report.grafana.deliveredAfterwards = report.grafana.queued - reader.undelivered('grafana');
      if (!delivered) report.violations.push(`${reader.undelivered('grafana')} Grafana annotations still queued ${(options.waitForGrafanaMs / 1000).toFixed(0)} s after Grafana came back`);
    }
    if (world.server && !world.server.running) report.violations.push(`the server exited on its own:\n${world.server.tail(20)}`);
  } catch (error) {
    failed = true;
    report.violations.push(`aborted: ${(error as Error).message}; rings: ${reader.describeUnfinished()}`);
  } finally {
    if (spikes) clearInterval(spikes);
    for (const p of world.processes) report.errorLines.push(...p.lines().filter((l) => / (FATAL) /.test(l) || /^\s+at /.test(l)));
    reader.close();
    if (failed || report.violations.length) log(`keeping ${world.dir} (database and servers.log) for a look`);
    await destroyWorld(world, failed || report.violations.length > 0);
  }
  report.durationMs = Date.now() - started;
  return report;
}
