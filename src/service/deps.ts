import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/connect.js';
import type { Clock } from '../model/clock.js';
import type { EventSink, NewEvent } from '../store/event-log.js';
import { recordEvent } from '../store/event-log.js';
import { takeWriteGate } from '../store/system.js';

/** Everything an operation needs, passed explicitly (no globals). */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Where events are fanned out to (webhooks, Grafana, Mattermost), inside the recording transaction. */
  sinks: readonly EventSink[];
  /** Wake the supervisor now (coalesced). */
  nudge: () => void;
  /** How long a write waits for a supervisor step holding its ring's lease before a 409 (ms; service/lease-wait.ts). */
  leaseWaitMs?: number;
}

/** A transaction plus helpers bound to it. */
export interface Tx {
  db: Kysely<Database>;
  now: number;
  record(event: NewEvent): Promise<void>;
}

/**
 * Postgres errors after which the whole transaction may simply run again: a serialization failure (40001, only
 * possible if the server's default isolation was raised above READ COMMITTED) and a deadlock victim (40P01).
 * Neither can leave a partial write behind: Postgres rolled the transaction back.
 */
const RETRYABLE_PG_CODES = new Set(['40001', '40P01']);
const MAX_TRANSACTION_ATTEMPTS = 3;

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_PG_CODES.has(code);
}

/**
 * Run `work` in one write transaction: the change and its events commit together or not at all.
 * The first statement takes the shared gate row, so writers are serialized across processes: on Postgres a
 * row lock held to commit (READ COMMITTED, so everything `work` reads after it is what the previous writer
 * committed); on SQLite the database write lock (a deferred transaction that read before another process
 * wrote would otherwise fail). `work` only talks to the database, so it is run again, at most
 * {@link MAX_TRANSACTION_ATTEMPTS} times, when Postgres aborts the transaction as a deadlock victim or a
 * serialization failure.
 */
export async function inTransaction<T>(deps: Pick<ServiceDeps, 'store' | 'clock' | 'sinks'>, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const now = deps.clock.now();
    try {
      return await deps.store.db.transaction().execute(async (trx) => {
        await takeWriteGate(trx, now);
        const tx: Tx = {
          db: trx,
          now,
          record: async (event) => {
            await recordEvent(trx, event, { now, sinks: deps.sinks });
          },
        };
        return work(tx);
      });
    } catch (error) {
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
}
