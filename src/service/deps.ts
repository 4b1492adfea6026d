import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/connect.js';
import type { Clock } from '../model/clock.js';
import type { EventSink, NewEvent } from '../store/event-log.js';
import { recordEvent } from '../store/event-log.js';
import { takeRingGate } from '../store/system.js';
import type { AccessPolicy } from './access-policy.js';

/** Everything an operation needs, passed explicitly (no globals). */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Where events are fanned out to (webhooks, Grafana, Mattermost), inside the recording transaction. */
  sinks: readonly EventSink[];
  /** Wake the supervisor now (coalesced). */
  nudge: () => void;
  /** Who may do what from chat; everyone may everything when absent. */
  policy?: AccessPolicy;
}

/** A transaction plus helpers bound to it. */
export interface Tx {
  db: Kysely<Database>;
  now: number;
  record(event: NewEvent): Promise<void>;
}

/**
 * Run `work` in one write transaction: the change and its events commit together or not at all.
 * The first statement takes the shared gate row, so writers are serialized across processes
 * (SQLite would otherwise fail a deferred transaction that read before another process wrote).
 */
export async function inTransaction<T>(deps: Pick<ServiceDeps, 'store' | 'clock' | 'sinks'>, work: (tx: Tx) => Promise<T>): Promise<T> {
  const now = deps.clock.now();
  return deps.store.db.transaction().execute(async (trx) => {
    await takeRingGate(trx, now);
    const tx: Tx = {
      db: trx,
      now,
      record: async (event) => {
        await recordEvent(trx, event, { now, sinks: deps.sinks });
      },
    };
    return work(tx);
  });
}
