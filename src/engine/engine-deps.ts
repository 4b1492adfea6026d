import type { Logger } from 'pino';
import type { Store } from '../store/connect.js';
import type { Clock } from '../model/clock.js';
import type { EventSink } from '../store/event-log.js';
import type { ProvisionerClient } from '../integrations/provisioner-client.js';

/** One SLO check of a ring: healthy, a breach (with its description), or no answer (with the query and why). */
export type SloCheckResult = { kind: 'healthy' } | { kind: 'breach'; message: string } | { kind: 'error'; error: string; query: string; group: string };

/** Checks a ring's groups against their SLOs while the ring soaks. */
export interface SloChecker {
  check(groups: ReadonlyArray<{ name: string; provisionerGroupId: string }>): Promise<SloCheckResult>;
}

export interface EngineConfig {
  maxParallelGroups: number;
  groupReleaseTimeoutMs: number;
  statusIntervalMs: number;
  leaseMs: number;
  /** How often a soaking ring's SLO is queried. */
  sloIntervalMs: number;
  /** Failed SLO checks in a row after which a soaking ring fails (`--slo-max-failures`). */
  sloMaxFailures: number;
  /** `--approvers`, named in a ring's "waiting for approval" status. */
  approvers?: readonly string[];
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
  /** When a rolling group's status is read next; provisioner webhooks stretch it (wake-ups.ts). Default: today's backoff. */
  statusPolls?: StatusPollSchedule;
}

/** Delay before the next status read of a group `elapsedMs` into its rollout, at most `maxIntervalMs` unless events arrive. */
export interface StatusPollSchedule {
  statusPollDelay(elapsedMs: number, maxIntervalMs: number): number;
  /** A group's rollout began at the provisioner (its update was sent or found already there). */
  rolloutStarted?(provisionerGroupId: string): void;
  /**
   * Whether the provisioner's events say every installation of the group has left the rolling states since its
   * rollout began: a hint (events may be forged, lost or late) that the next status read will find it done.
   */
  rolloutLooksDone?(provisionerGroupId: string): boolean;
}
