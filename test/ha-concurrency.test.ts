import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import pg from 'pg';
import { TEST_POSTGRES_URL, tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { startServerProcess, stopAllServerProcesses, waitFor, sleep, type ServerProcess } from './helpers/processes.js';
import { FakeProvisioner } from './fakes/fake-provisioner.js';
import { RING_STATES, RING_STATES_FAILED, RING_STATES_RELEASE_IN_PROGRESS, RING_STATES_RESTING } from '../src/model/ring-states.js';

/**
 * Twenty release / pause / resume / cancel requests at once (twice), spread over three replicas on one Postgres
 * database, while their supervisors run: the rings end in legal states, never more than one ring runs a
 * non-forced release at a time, and the event log tells one consistent story per ring.
 */

const IMAGE = 'mattermost/mattermost-enterprise-edition';
const MID_RELEASE: readonly string[] = RING_STATES_RELEASE_IN_PROGRESS;

let database: TempDatabase | undefined;
let sql: pg.Pool | undefined;
let provisioner: FakeProvisioner | undefined;
const replicas: ServerProcess[] = [];

describe.skipIf(!TEST_POSTGRES_URL)('concurrent requests over three replicas (needs ELROND_TEST_POSTGRES_URL)', () => {
  beforeAll(async () => {
    database = await tempDatabase('postgres', true);
    await database.store.close();
    sql = new pg.Pool({ connectionString: database.url, max: 2 });
    provisioner = new FakeProvisioner({ rolloutDurationMs: 300 });
    const provisionerUrl = await provisioner.start();
    const flags = ['--database', database.url, '--poll', '1', '--lease-duration', '5', '--provisioner-server', provisionerUrl, '--provisioner-status-interval', '1', '--db-pool-size', '4'];
    replicas.push(...(await Promise.all([1, 2, 3].map((n) => startServerProcess({ name: `replica-${n}`, flags })))));
  }, 30_000);

  afterAll(async () => {
    await stopAllServerProcesses();
    await provisioner?.stop();
    await sql?.end();
    await database?.cleanup();
  });

  it('two rounds of 20 concurrent release/pause/resume/cancel requests leave a consistent state', async () => {
    const db = sql!;
    const fake = provisioner!;
    const rings: Array<{ id: string; name: string; pgid: string }> = [];
    for (let i = 0; i < 4; i++) {
      const created = await replicas[i % 3]!.api('POST', '/rings', { name: `ring-${i}`, priority: i + 1, soakTime: 1, image: IMAGE, version: 'v1' });
      expect(created.status).toBe(202);
      rings.push({ id: created.body.ID, name: `ring-${i}`, pgid: '' });
    }
    await waitFor('the rings to be created', async () => Number((await db.query(`select count(*) as n from rings where state = 'stable'`)).rows[0].n) === 4, { timeoutMs: 10_000 });
    for (const [i, ring] of rings.entries()) {
      const group = fake.createGroup({ Name: `g-${i}`, Image: IMAGE, Version: 'v1', MaxRolling: 1 });
      fake.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence, name: `inst-${i}` });
      ring.pgid = group.ID;
      expect((await replicas[(i + 1) % 3]!.api('POST', `/ring/${ring.id}/installationgroup`, { name: `ig-${i}`, provisionerGroupID: group.ID })).status).toBe(200);
    }

    // Watch the rings from outside while everything runs: at most one non-forced ring mid-release, ever.
    const violations: string[] = [];
    const seenStates = new Set<string>();
    let samples = 0;
    let mostWaiting = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching && samples < 5_000) {
        const { rows } = await db.query(`select r.name, r.state, rel.force from rings r join releases rel on rel.id = r.desired_release_id where r.delete_at = 0`);
        samples++;
        for (const row of rows) seenStates.add(row.state);
        const running = rows.filter((r) => MID_RELEASE.includes(r.state) && !r.force);
        if (running.length > 1) violations.push(running.map((r) => `${r.name}:${r.state}`).join(', '));
        // How many replica sessions wait on a row lock (the write gate) right now: contention, for the log below.
        const waiting = await db.query(`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        mostWaiting = Math.max(mostWaiting, Number(waiting.rows[0].n));
        await sleep(10);
      }
    })();

    // Two rounds of 20 at once: one on idle rings, one while the first round's releases run. Mostly releases (so rings
    // do run), some forced (those may run beside another ring), pauses, resumes and a cancel.
    const KINDS = ['all', 'ring', 'pause', 'all', 'ring-forced', 'resume', 'all', 'ring', 'pause', 'all', 'ring', 'resume', 'all', 'ring-forced', 'cancel', 'all', 'ring', 'pause', 'all', 'resume'];
    const answers: Array<{ route: string; status: number }> = [];
    let slowest = 0;
    for (const round of [0, 1]) {
      const requests = KINDS.map((kind, i) => {
        const replica = replicas[i % 3]!;
        const ring = rings[(i + round) % 4]!;
        const version = `v${2 + round * 4 + (i % 3)}`;
        if (kind === 'all') return { replica, route: '/rings/release', body: { image: IMAGE, version } };
        if (kind === 'ring') return { replica, route: `/ring/${ring.id}/release`, body: { image: IMAGE, version: `v${10 + round}` } };
        if (kind === 'ring-forced') return { replica, route: `/ring/${ring.id}/release`, body: { image: IMAGE, version: `v${20 + round}`, force: true } };
        return { replica, route: `/rings/release/${kind}`, body: undefined };
      });
      const burstStart = Date.now();
      const statuses = await Promise.all(requests.map(async (r) => ({ route: r.route, status: (await r.replica.api('POST', r.route, r.body)).status })));
      slowest = Math.max(slowest, Date.now() - burstStart);
      answers.push(...statuses);
      if (round === 0) await waitFor('a ring to be mid-release', async () => (await db.query(`select 1 from rings where state in ('release-requested', 'release-in-progress', 'soaking-requested')`)).rows.length > 0, { timeoutMs: 10_000, everyMs: 50 }).catch(() => undefined);
    }
    // Each is accepted or refused with a reason (409 while a step holds the ring, 400 for a ring mid-release), never a 5xx.
    for (const answer of answers) expect(`${answer.route} ${answer.status}`).toMatch(/ (200|202|400|403|409)$/);
    expect(answers.filter((a) => a.status < 300).length).toBeGreaterThan(0);

    // Let whatever was accepted finish (a paused release is resumed).
    await waitFor(
      'every ring to come to rest',
      async () => {
        await replicas[0]!.api('POST', '/rings/release/resume');
        const { rows } = await db.query('select state from rings where delete_at = 0');
        return rows.every((r) => !MID_RELEASE.includes(r.state) && !['release-pending', 'release-paused'].includes(r.state));
      },
      { timeoutMs: 35_000, everyMs: 500 },
    )
      .catch(async (error: Error) => {
        const { rows } = await db.query('select r.name, r.state, r.status_message, d.version as desired, (select string_agg(g.state || \' \' || coalesce(gr.version, \'-\'), \', \') from ring_installation_groups l join installation_groups g on g.id = l.installation_group_id left join releases gr on gr.id = g.release_id where l.ring_id = r.id) as groups from rings r join releases d on d.id = r.desired_release_id order by r.priority');
        throw new Error(`${error.message}: ${JSON.stringify(rows)}`);
      })
      .finally(() => {
        watching = false;
      });
    await watcher;
    // The watcher watched while rings moved: it saw one mid-release (a count of samples was the guard, and it failed
    // whenever the releases came to rest in under ~1.5 s, which is the engine getting faster, not the watch missing).
    expect(samples).toBeGreaterThan(10);
    expect([...seenStates].filter((state) => MID_RELEASE.includes(state))).not.toEqual([]);
    expect(violations).toEqual([]);
    for (const state of seenStates) expect(RING_STATES).toContain(state);

    // Every ring rests in a legal state; a stable ring carries what it was asked for, on the provisioner too.
    const final = (await db.query('select r.id, r.state, r.active_release_id, r.desired_release_id, rel.version from rings r join releases rel on rel.id = r.active_release_id')).rows;
    for (const ring of final) {
      expect([...RING_STATES_RESTING, ...RING_STATES_FAILED]).toContain(ring.state);
      if (ring.state === 'stable') {
        expect(ring.active_release_id).toBe(ring.desired_release_id);
        expect(fake.group(rings.find((r) => r.id === ring.id)!.pgid)!.Version).toBe(ring.version);
      }
    }

    // No group was patched twice in a row with the same release.
    for (const ring of rings) {
      const versions = fake.puts(ring.pgid).map((p) => p.Version);
      for (let i = 1; i < versions.length; i++) expect(versions[i]).not.toBe(versions[i - 1]);
    }

    // The event log: per ring, each transition starts where the previous ended; no supervisor step recorded twice.
    const events = (await db.query('select id, kind, source, ring_id, installation_group_id, rollout_id, old_state, new_state from events order by id')).rows as Array<Record<string, string | null>>;
    for (const ring of rings) {
      const chain = events.filter((e) => e.kind === 'ring.state' && e.ring_id === ring.id && e.installation_group_id === null);
      for (let i = 1; i < chain.length; i++) expect(`${ring.name} #${i}: ${chain[i]!.old_state}`).toBe(`${ring.name} #${i}: ${chain[i - 1]!.new_state}`);
    }
    const supervisorSteps = events.filter((e) => e.source === 'supervisor' && (e.kind === 'ring.state' || e.kind === 'group.state')).map((e) => `${e.ring_id}/${e.installation_group_id}/${e.rollout_id}: ${e.old_state}→${e.new_state}`);
    expect(supervisorSteps.length).toBeGreaterThan(0);
    expect(supervisorSteps.filter((step, i) => supervisorSteps.indexOf(step) !== i)).toEqual([]);
    const started = events.filter((e) => e.kind === 'ring.state' && e.new_state === 'release-requested').length;
    console.info(`${answers.filter((a) => a.status < 300).length} of ${answers.length} requests accepted, ${started} ring releases started, ${samples} samples, at most ${mostWaiting} sessions waiting on a lock at once, a burst answered in ${slowest} ms`);
  }, 55_000);
});
