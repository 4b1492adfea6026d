import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultServerConfig, type ServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/model/clock.js';
import { createLogger, type Logger } from '../../src/logging.js';
import { FakeProvisioner, type FakeProvisionerOptions } from '../fakes/fake-provisioner.js';
import { createProvisionerClient } from '../../src/integrations/provisioner-client.js';
import { RING_STATES_PENDING_WORK } from '../../src/model/ring-states.js';
import { IG_STATES_ACTIVE } from '../../src/model/installation-group-states.js';
import { NO_DEADLINE } from '../../src/store/schema.js';
import { TEST_POSTGRES_URL } from './temp-database.js';
import { tempDatabase } from './temp-database.js';

export const IMAGE = 'mattermost/mattermost-enterprise-edition';

/**
 * The database end-to-end tests use unless they ask for one: SQLite, or Postgres when the suite runs with
 * ELROND_TEST_DIALECT=postgres (and ELROND_TEST_POSTGRES_URL), as CI's second pass does.
 */
export const DEFAULT_DIALECT: 'sqlite' | 'postgres' = process.env.ELROND_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';

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
  ring(name: string, priority: number, options?: RingOptions): Promise<{ id: string; groups: Array<{ id: string; provisionerGroupId: string; name: string }> }>;
  /** Move the clock to the earliest stored deadline of a ring or group still working and settle; false when there is none. */
  advanceToNextDeadline(): Promise<boolean>;
  /** GET /api/ring/{id} body (throws unless 200). */
  getRing(id: string): Promise<any>;
  /** GET /api/events (newest first), optionally for one ring. */
  events(ringId?: string, limit?: number): Promise<Array<{ kind: string; ringId: string | null; installationGroupId: string | null; oldState: string | null; newState: string | null; message: string; data: any }>>;
  close(): Promise<void>;
}

export interface RingOptions {
  /** Ring soak, seconds (default 1). */
  soak?: number;
  groups?: number;
  /** Each group's soak, seconds (default 0). */
  groupSoak?: number;
  installations?: number;
  version?: string;
  /** The provisioner groups' MattermostEnv. */
  env?: Record<string, { value?: string; valueFrom?: Record<string, unknown> }>;
}

export interface HarnessOptions {
  config?: Partial<ServerConfig>;
  dialect?: 'sqlite' | 'postgres';
  settleInstantly?: boolean;
  /** Extra options of the fake provisioner (e.g. `requireToken`, `rolloutDurationMs`). */
  provisioner?: Omit<FakeProvisionerOptions, 'now' | 'settleInstantly'>;
  /** Per-request timeout of Elrond's provisioner client (default: the client's own, 10 s). */
  provisionerTimeoutMs?: number;
  /** Share a clock with other fakes (default: a new ManualClock). */
  clock?: ManualClock;
  /** How long a request waits for a step holding its ring's lease before a 409 (ms; the server's default 5000). */
  leaseWaitMs?: number;
  /** The server's logger (default: silent unless ELROND_TEST_LOG). */
  log?: Logger;
  /** Runs once the fake provisioner is up, before the server starts (e.g. to queue faults its start-up meets). */
  beforeServer?: (provisioner: FakeProvisioner) => void;
}

/**
 * One Elrond server (in-process, real HTTP on 127.0.0.1, real SQLite file or Postgres) against a real fake
 * provisioner, with a manual clock: soaks and timeouts take milliseconds.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 10, 25, 12));
  const provisioner = new FakeProvisioner({ ...options.provisioner, now: () => clock.now(), settleInstantly: options.settleInstantly ?? true });
  const provisionerUrl = await provisioner.start();
  options.beforeServer?.(provisioner);
  let database: string;
  let cleanupDb: () => Promise<void>;
  if ((options.dialect ?? DEFAULT_DIALECT) === 'postgres' && TEST_POSTGRES_URL) {
    const temp = await tempDatabase('postgres', false);
    await temp.store.close();
    database = temp.url;
    cleanupDb = temp.cleanup;
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'elrond-e2e-'));
    database = `sqlite://${path.join(dir, 'elrond.db')}`;
    cleanupDb = async () => rmSync(dir, { recursive: true, force: true });
  }
  const config: ServerConfig = { ...defaultServerConfig(), database, listen: '127.0.0.1:0', poll: 0, provisionerServer: provisionerUrl, ...options.config };
  const client =
    options.provisionerTimeoutMs === undefined
      ? undefined
      : createProvisionerClient({
          baseUrl: config.provisionerServer,
          timeoutMs: options.provisionerTimeoutMs,
          now: () => clock.now(),
          ...(config.provisionerClientId && config.provisionerClientSecret && config.provisionerTokenEndpoint
            ? { oauth: { clientId: config.provisionerClientId, clientSecret: config.provisionerClientSecret, tokenEndpoint: config.provisionerTokenEndpoint } }
            : {}),
        });
  const server = await startServer(config, { clock, log: options.log ?? createLogger({ silent: !process.env.ELROND_TEST_LOG, debug: Boolean(process.env.ELROND_TEST_LOG) }), startLoops: false, random: () => 0.5, awaitRegistration: true, ...(client ? { provisioner: client } : {}), ...(options.leaseWaitMs !== undefined ? { leaseWaitMs: options.leaseWaitMs } : {}) });
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
        const group = provisioner.createGroup({ Name: `${name}-group-${g}`, Image: IMAGE, Version: ringOptions.version ?? 'v1', MaxRolling: 2, ...(ringOptions.env ? { MattermostEnv: ringOptions.env } : {}) });
        for (let i = 0; i < (ringOptions.installations ?? 2); i++) {
          const inst = provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence, name: `${name}-g${g}-inst-${i}` });
          void inst;
        }
        const igName = `${name}-ig-${g}-${++groupCounter}`;
        const reg = await harness.api('POST', `/ring/${created.body.ID}/installationgroup`, { name: igName, soakTime: ringOptions.groupSoak ?? 0, provisionerGroupID: group.ID });
        if (reg.status !== 200) throw new Error(`group register failed: ${JSON.stringify(reg.body)}`);
        groups.push({ id: reg.body.installationGroups[0].id, provisionerGroupId: group.ID, name: igName });
      }
      return { id: created.body.ID, groups };
    },
    async advanceToNextDeadline() {
      const db = server.store.db;
      const ring = await db.selectFrom('rings').select((eb) => eb.fn.min('next_check_at').as('at')).where('state', 'in', [...RING_STATES_PENDING_WORK]).where('next_check_at', '<', NO_DEADLINE).executeTakeFirst();
      const group = await db.selectFrom('installation_groups').select((eb) => eb.fn.min('next_check_at').as('at')).where('state', 'in', [...IG_STATES_ACTIVE]).where('next_check_at', '<', NO_DEADLINE).executeTakeFirst();
      const candidates = [ring?.at, group?.at].filter((v) => v !== null && v !== undefined).map(Number);
      if (candidates.length === 0) return false;
      clock.set(Math.max(clock.now(), Math.min(...candidates)));
      await harness.settle();
      return true;
    },
    async getRing(id) {
      const response = await harness.api('GET', `/ring/${id}`);
      if (response.status !== 200) throw new Error(`GET /ring/${id} answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body;
    },
    async events(ringId, limit = 1000) {
      const response = await harness.api('GET', `/events?limit=${limit}${ringId ? `&ring=${ringId}` : ''}`);
      if (response.status !== 200) throw new Error(`GET /events answered ${response.status}`);
      return response.body;
    },
    async close() {
      await server.close();
      await provisioner.stop();
      await cleanupDb();
    },
  };
  return harness;
}
