import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TEST_POSTGRES_URL, tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { startServerProcess, stopAllServerProcesses, type ServerProcess } from './helpers/processes.js';
import { FakeProvisioner } from './fakes/fake-provisioner.js';

/**
 * The README's flow on two replicas over one Postgres database, as a new user runs it: `ring create` on one, then
 * at once `ring installation-group register` on the other. The second request meets the supervisor's creation step
 * holding the ring's lease; it must wait the step out, never answer 409 (the Go client treats any 409 as failure).
 */

const IMAGE = 'mattermost/mattermost-enterprise-edition';
const ROUNDS = 12;

let database: TempDatabase | undefined;
let provisioner: FakeProvisioner | undefined;
let replicas: ServerProcess[] = [];

describe.skipIf(!TEST_POSTGRES_URL)('two replicas: a request meeting a running step waits for it (needs ELROND_TEST_POSTGRES_URL)', () => {
  beforeAll(async () => {
    database = await tempDatabase('postgres', false);
    await database.store.close();
    provisioner = new FakeProvisioner();
    const provisionerUrl = await provisioner.start();
    const flags = ['--database', database.url, '--poll', '1', '--provisioner-server', provisionerUrl, '--db-pool-size', '4'];
    replicas = await Promise.all([1, 2].map((n) => startServerProcess({ name: `replica-${n}`, flags })));
  }, 45_000);

  afterAll(async () => {
    await stopAllServerProcesses();
    await provisioner?.stop();
    await database?.cleanup();
  });

  it(`ring create on one replica then at once installation-group register on the other, ${ROUNDS} times: never a 409`, async () => {
    const [first, second] = replicas as [ServerProcess, ServerProcess];
    const answers: Array<{ ring: number; status: number; error?: string }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const group = provisioner!.createGroup({ Name: `pg-${i}`, Image: IMAGE, Version: 'v1', MaxRolling: 1 });
      const [creator, registrar] = i % 2 === 0 ? [first, second] : [second, first];
      const created = await creator.api('POST', '/rings', { name: `ring-${i}`, priority: i + 1, soakTime: 0, image: IMAGE, version: 'v1' });
      expect(created.status).toBe(202);
      const registered = await registrar.api('POST', `/ring/${created.body.ID}/installationgroup`, { name: `ig-${i}`, soakTime: 0, provisionerGroupID: group.ID });
      answers.push({ ring: i, status: registered.status, ...(registered.status === 200 ? {} : { error: String(registered.body?.error) }) });
    }
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  }, 60_000);
});
