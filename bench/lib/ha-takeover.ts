/**
 * HA takeover (issue 16): two `elrond server` replicas on one Postgres database with default settings
 * (`--lease-duration 60`, `--poll 30`). The replica holding a group's lease mid-step (its status read hangs) is
 * SIGKILLed; measured: SIGKILL → the other replica's first provisioner call for that group. Each group PUT once.
 */
import pg from 'pg';
import { FakeProvisioner } from '../../test/fakes/fake-provisioner.js';
import { ElrondProcess } from './elrond-process.js';
import { callApi } from './release-driver.js';
import { sleep } from '../../test/helpers/processes.js';
import { BENCH_IMAGE } from './seed.js';

export interface TakeoverReport {
  takeoverMs: number[];
  violations: string[];
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One database per round, created from `adminUrl` (a Postgres URL whose user may create databases). */
export async function runTakeover(options: { adminUrl: string; rounds: number; log: (line: string) => void }): Promise<TakeoverReport> {
  const report: TakeoverReport = { takeoverMs: [], violations: [] };
  for (let round = 0; round < options.rounds; round++) {
    const name = `elrond_takeover_${process.pid}_${round}`;
    const admin = new pg.Client({ connectionString: options.adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    const url = options.adminUrl.replace(/\/[^/?]*(\?.*)?$/, `/${name}`);
    const provisioner = new FakeProvisioner({ rolloutDurationMs: 1000 });
    const provisionerUrl = await provisioner.start();
    const replicas: ElrondProcess[] = [];
    try {
      const first = await ElrondProcess.start({ database: url, provisionerUrl, args: ['--provisioner-status-interval', '1'] });
      replicas.push(first, await ElrondProcess.start({ database: url, provisionerUrl, args: ['--provisioner-status-interval', '1'] }));
      const ring = await callApi(first.url, 'POST', '/rings', { name: 'canary', priority: 1, soakTime: 0, image: BENCH_IMAGE, version: 'v1' });
      await until('ring created', async () => ((await callApi(first.url, 'GET', `/ring/${ring.body.ID}`)).body.State === 'stable' ? true : undefined), 10_000);
      const group = provisioner.createGroup({ Name: 'canary-0', Image: BENCH_IMAGE, Version: 'v1', MaxRolling: 5 });
      for (let i = 0; i < 2; i++) provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence });
      await callApi(first.url, 'POST', `/ring/${ring.body.ID}/installationgroup`, { name: 'canary-ig', provisionerGroupID: group.ID });
      provisioner.hangNext('getStatus');
      await callApi(first.url, 'POST', '/rings/release', { image: BENCH_IMAGE, version: 'v2', force: true });
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const holderOwner = await until('a replica stuck in the group step', async () => {
        if (!provisioner.requests.some((r) => r.route === 'getStatus')) return undefined;
        const { rows } = await db.query<{ locked_by: string | null }>('select locked_by from installation_groups where provisioner_group_id = $1', [group.ID]);
        return rows[0]?.locked_by ?? undefined;
      }, 15_000).finally(() => db.end());
      const holder = replicas.find((r) => r.lines().some((l) => l.includes(`owner=${holderOwner}`) || l.includes(`"owner":"${holderOwner}"`)));
      if (!holder) throw new Error(`no replica has owner ${holderOwner}`);
      const killedAt = Date.now();
      await holder.kill();
      provisioner.clearFaults();
      const takeover = await until('the other replica to take the group over', () => provisioner.requests.find((r) => r.at > killedAt && r.path.includes(group.ID)), 90_000);
      report.takeoverMs.push(takeover.at - killedAt);
      await until('the release done', async () => ((await callApi(replicas.find((r) => r !== holder)!.url, 'GET', `/ring/${ring.body.ID}`)).body.State === 'stable' ? true : undefined), 30_000);
      const puts = provisioner.puts(group.ID).length;
      if (puts !== 1) report.violations.push(`round ${round + 1}: group PUT ${puts} times`);
      options.log(`takeover round ${round + 1}: SIGKILL → other replica's next provisioner call ${takeover.at - killedAt} ms; ${puts} PUT`);
    } finally {
      for (const replica of replicas) await replica.kill();
      await provisioner.stop();
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end();
    }
  }
  return report;
}
