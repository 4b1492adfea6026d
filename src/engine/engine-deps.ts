import type { Logger } from 'pino';
import type { Store } from '../store/connect.js';
import type { Clock } from '../model/clock.js';
import type { EventSink } from '../store/event-log.js';
import type { ProvisionerClient } from '../integrations/provisioner-client.js';

/** Checks a ring's groups against their SLOs while the ring soaks; resolves to a breach description or null. */
export interface SloChecker {
  check(groups: ReadonlyArray<{ name: string; provisionerGroupId: string }>): Promise<{ breach: string | null }>;
}

export interface EngineConfig {
  maxParallelGroups: number;
  groupReleaseTimeoutMs: number;
  statusIntervalMs: number;
  leaseMs: number;
  /** How often a soaking ring's SLO is queried. */
  sloIntervalMs: number;
}

export interface EngineDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  sinks: readonly EventSink[];
  provisioner: ProvisionerClient;
  slo?: SloChecker;
  config: EngineConfig;
  /** This process's identity as a lease owner. */
  owner: string;
  random: () => number;
}
