/**
 * Engine dependencies for driving one ring or group step by hand against a harness's database and fake provisioner,
 * as another supervisor (`owner`) would: tests that need a step outside the harness's own supervisor.
 */
import type { Kysely } from 'kysely';
import type { Harness } from './harness.js';
import type { EngineDeps } from '../../src/engine/engine-deps.js';
import type { Database } from '../../src/store/schema.js';
import { createLogger } from '../../src/logging.js';
import { createProvisionerClient } from '../../src/integrations/provisioner-client.js';

export function stepDeps(h: Harness, owner: string, options: { db?: Kysely<Database> } = {}): EngineDeps {
  return {
    store: options.db ? { ...h.server.store, db: options.db } : h.server.store,
    clock: h.clock,
    log: createLogger({ silent: true }),
    sinks: [],
    provisioner: createProvisionerClient({ baseUrl: h.provisioner.url }),
    config: { maxParallelGroups: 1, groupReleaseTimeoutMs: 3_600_000, statusIntervalMs: 10_000, leaseMs: 60_000, sloIntervalMs: 60_000, sloMaxFailures: 3 },
    owner,
    random: () => 0.5,
  };
}
