import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultServerConfig, type ServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/model/clock.js';
import { createLogger } from '../../src/logging.js';
import { FakeProvisioner } from '../fakes/fake-provisioner.js';
import { TEST_POSTGRES_URL } from './temp-database.js';
import { tempDatabase } from './temp-database.js';

export const IMAGE = 'mattermost/mattermost-enterprise-edition';

export interface Harness {
  server: RunningServer;
  provisioner: FakeProvisioner;
  clock: ManualClock;
  /** Call the REST API: JSON in, `{ status, body }` out. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Run the supervisor until nothing is due, then deliver every queued notification that is due. */
  settle(): Promise<void>;
  /** Advance the clock by `ms` and settle. */
  advance(ms: number): Promise<void>;
  /** Create a ring with `groups` installation groups (real provisioner groups with `installations` each). */
  ring(name: string, priority: number, options?: { soak?: number; groups?: number; groupSoak?: number; installations?: number; version?: string }): Promise<{ id: string; groups: Array<{ id: string; provisionerGroupId: string; name: string }> }>;
  close(): Promise<void>;
}

/**
 * One Elrond server (in-process, real HTTP on 127.0.0.1, real SQLite file or Postgres) against a real fake
 * provisioner, with a manual clock: soaks and timeouts take milliseconds.
 */
export async function startHarness(options: { config?: Partial<ServerConfig>; dialect?: 'sqlite' | 'postgres'; settleInstantly?: boolean } = {}): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  const provisioner = new FakeProvisioner({ now: () => clock.now(), settleInstantly: options.settleInstantly ?? true });
  const provisionerUrl = await provisioner.start();
  let database: string;
  let cleanupDb: () => Promise<void>;
  if (options.dialect === 'postgres' && TEST_POSTGRES_URL) {
    const temp = await tempDatabase('postgres', false);
    await temp.store.close();
    database = temp.url;
    cleanupDb = temp.cleanup;
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'elrond-e2e-'));
    database = `sqlite://${path.join(dir, 'elrond.db')}`;
    cleanupDb = async () => rmSync(dir, { recursive: true, force: true });
  }
  const server = await startServer(
    { ...defaultServerConfig(), database, listen: '127.0.0.1:0', poll: 0, provisionerServer: provisionerUrl, ...options.config },
    { clock, log: createLogger({ silent: true }), startLoops: false, random: () => 0.5 },
  );
  let groupCounter = 0;
  const harness: Harness = {
    server,
    provisioner,
    clock,
    async api(method, route, body) {
      const response = await fetch(`${server.url}/api${route}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...(options.config?.apiToken ? { Authorization: `Bearer ${options.config.apiToken}` } : {}) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async settle() {
      for (let i = 0; i < 50; i++) {
        await server.supervisor.runUntilIdle();
        const result = await server.outbox.pass();
        if (!result.again) break;
      }
    },
    async advance(ms) {
      clock.advance(ms);
      await harness.settle();
    },
    async ring(name, priority, ringOptions = {}) {
      const created = await harness.api('POST', '/rings', { name, priority, soakTime: ringOptions.soak ?? 1, image: IMAGE, version: ringOptions.version ?? 'v1' });
      if (created.status !== 202) throw new Error(`ring create failed: ${JSON.stringify(created.body)}`);
      const groups = [];
      for (let g = 0; g < (ringOptions.groups ?? 1); g++) {
        const group = provisioner.createGroup({ Name: `${name}-group-${g}`, Image: IMAGE, Version: ringOptions.version ?? 'v1', MaxRolling: 2 });
        for (let i = 0; i < (ringOptions.installations ?? 2); i++) {
          const inst = provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence });
          void inst;
        }
        const igName = `${name}-ig-${g}-${++groupCounter}`;
        const reg = await harness.api('POST', `/ring/${created.body.ID}/installationgroup`, { name: igName, soakTime: ringOptions.groupSoak ?? 0, provisionerGroupID: group.ID });
        if (reg.status !== 200) throw new Error(`group register failed: ${JSON.stringify(reg.body)}`);
        groups.push({ id: reg.body.installationGroups[0].id, provisionerGroupId: group.ID, name: igName });
      }
      return { id: created.body.ID, groups };
    },
    async close() {
      await server.close();
      await provisioner.stop();
      await cleanupDb();
    },
  };
  return harness;
}
