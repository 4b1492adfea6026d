import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Store } from '../store/connect.js';
import type { OutboxRow } from '../store/schema.js';
import type { Clock } from '../model/clock.js';
import { WorkLoop, type PassResult } from './work-loop.js';
import { holdLease } from '../store/leases.js';
import { dueHeads, findOutboxRow, nextHeadDueAt, recordDelivery, undeliveredCount } from '../store/outbox.js';

/**
 * Delivers one kind of outbox row. Throw to have it retried with backoff; return `{ retryAt }` to have it
 * tried again at that time without counting a failure (e.g. to space out edits of one post).
 */
export interface Deliverer {
  readonly sink: string;
  /**
   * Deliveries of this sink in flight at once (default {@link DEFAULT_SINK_CONCURRENCY}), each to a different
   * target: a sink's targets never wait for each other, and sinks never wait for each other.
   */
  readonly concurrency?: number;
  deliver(row: OutboxRow, attempt: DeliveryAttempt): Promise<void | { retryAt: number }>;
}

/** What the worker knows about earlier attempts at a row. */
export interface DeliveryAttempt {
  /**
   * An earlier attempt may have reached the sink without being recorded: it failed (perhaps after the sink
   * acted, e.g. a timeout), or the process making it died mid-delivery (its lease ran out unreturned). A sink
   * that can tell should check before acting again (bench/ chaos: a SIGKILL between a card edit and its record
   * applied the edit twice).
   */
  mayHaveBeenSent: boolean;
  /** Aborted when the worker stops: a delivery in flight should give up rather than hold the shutdown. */
  signal: AbortSignal;
}

/** Deliveries that cannot succeed (e.g. 4xx from a webhook) are kept this long, then abandoned with the error. */
export interface OutboxDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  owner: string;
  leaseMs: number;
  random: () => number;
}

const GIVE_UP_AFTER_MS = 24 * 3600_000;
export const DEFAULT_SINK_CONCURRENCY = 8;
/** Due rows read per sink and pass; a full read means "look again" once the targets just started are busy. */
const READ_LIMIT = 200;

export function deliveryBackoff(attempts: number, random: () => number): number {
  const base = Math.min(300_000, 500 * 2 ** Math.min(attempts, 12));
  return Math.round(base * (0.5 + random() / 2));
}

/** One target of one sink: deliveries to it go one at a time. */
const laneOf = (row: Pick<OutboxRow, 'sink' | 'target'>) => JSON.stringify([row.sink, row.target]);

interface Flight {
  sink: string;
  target: string;
  /** Resolves to true when the row was delivered; never rejects. */
  delivery: Promise<boolean>;
}

/**
 * Delivers queued notifications (webhooks, Grafana, Mattermost) from the database: in id order per
 * ordering key, retried with backoff, nothing lost across restarts. Each target of each sink is a lane with
 * one delivery at a time, and a pass only starts deliveries (it never waits for them), so a slow or failing
 * target delays only its own deliveries: never another target's, never another sink's.
 */
/**
 * The one signal every delivery in flight is handed, with no limit on its listeners: up to
 * {@link DEFAULT_SINK_CONCURRENCY} deliveries per sink, several sinks at once, each may listen (axios does, per
 * request), and more than Node's default of ten made it warn of a leak that is not one.
 */
function stoppingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export class OutboxWorker {
  readonly loop: WorkLoop;
  readonly #deps: OutboxDeps;
  readonly #deliverers: Map<string, Deliverer>;
  /** Lane → the delivery in flight on it. */
  readonly #inFlight = new Map<string, Flight>();
  #stopping = stoppingController();

  constructor(deps: OutboxDeps, deliverers: readonly Deliverer[], pollSeconds: number) {
    this.#deps = deps;
    this.#deliverers = new Map(deliverers.map((d) => [d.sink, d]));
    this.loop = new WorkLoop({
      name: 'outbox',
      pass: async () => {
        const { started, more, nextDeadline } = await this.#dispatch();
        // Each finished delivery frees its lane: look again then, not only at the next poll.
        for (const delivery of started) void delivery.then(() => this.loop.nudge());
        return { again: more, nextDeadline };
      },
      clock: deps.clock,
      log: deps.log,
      pollSeconds,
    });
  }

  start(): void {
    if (this.#stopping.signal.aborted) this.#stopping = stoppingController();
    this.loop.start();
  }
  /** Stop looking for work, abort the deliveries in flight and wait until they have given their rows back. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.#stopping.abort();
    await Promise.all([...this.#inFlight.values()].map((flight) => flight.delivery));
  }
  nudge(): void {
    this.loop.nudge();
  }

  /**
   * Start every delivery that is due now and wait for them (tests, benchmarks and `--once` style callers; the
   * running loop does not wait). Call until it reports nothing left.
   */
  async pass(): Promise<PassResult> {
    const { started, more, nextDeadline } = await this.#dispatch();
    const results = await Promise.all(started);
    return { again: more || results.some(Boolean), nextDeadline };
  }

  /** Number of deliveries not yet made. */
  async backlog(): Promise<number> {
    return undeliveredCount(this.#deps.store.db);
  }

  /**
   * Start deliveries on free lanes, per sink up to its concurrency. Rows are filtered (due, not leased by
   * another replica, not on a busy lane) before the read limit applies, so however many rows one target or
   * sink has failing, the others' due rows are read in the same pass.
   */
  async #dispatch(): Promise<{ started: Array<Promise<boolean>>; more: boolean; nextDeadline: number | null }> {
    const now = this.#deps.clock.now();
    const started: Array<Promise<boolean>> = [];
    let more = false;
    const known = [...this.#deliverers.keys()];
    // Rows of a sink nobody delivers here (chat turned off since) still fail, back off and are abandoned.
    const groups: Array<{ sink: string | null; concurrency: number }> = [
      ...[...this.#deliverers.values()].map((d) => ({ sink: d.sink, concurrency: d.concurrency ?? DEFAULT_SINK_CONCURRENCY })),
      { sink: null, concurrency: DEFAULT_SINK_CONCURRENCY },
    ];
    for (const { sink, concurrency } of groups) {
      const busy = [...this.#inFlight.values()].filter((flight) => (sink === null ? !known.includes(flight.sink) : flight.sink === sink));
      const free = concurrency - busy.length;
      if (free <= 0) continue;
      const rows = await dueHeads(this.#deps.store.db, { sink, known, busyTargets: busy.map((flight) => flight.target), limit: READ_LIMIT }, now);
      const lanes = new Set<string>();
      for (const row of rows) {
        const lane = laneOf(row);
        if (lanes.has(lane)) continue;
        if (lanes.size >= free) {
          more = true;
          break;
        }
        lanes.add(lane);
        const delivery = this.#deliverOne(row)
          .catch((error: unknown) => {
            // The database failed around the delivery; the row's lease runs out and it is tried again.
            this.#deps.log.error({ err: error, sink: row.sink, target: row.target }, 'delivery bookkeeping failed; it will be retried');
            return false;
          })
          .finally(() => this.#inFlight.delete(lane));
        this.#inFlight.set(lane, { sink: row.sink, target: row.target, delivery });
        started.push(delivery);
      }
      if (rows.length === READ_LIMIT) more = true;
    }
    return { started, more, nextDeadline: await nextHeadDueAt(this.#deps.store.db, now) };
  }

  async #deliverOne(row: OutboxRow): Promise<boolean> {
    const { store, clock, log, owner, leaseMs, random } = this.#deps;
    // Renewed while the sink answers: a delivery slower than the lease (a sink near its timeout) must not be sent
    // again by another replica.
    const lease = await holdLease(store.db, 'outbox', row.id, owner, clock, leaseMs);
    if (!lease) return false;
    try {
      const fresh = await findOutboxRow(store.db, row.id);
      if (!fresh || fresh.delivered_at !== null) return false;
      const deliverer = this.#deliverers.get(fresh.sink);
      try {
        if (!deliverer) throw new Error(`no deliverer for sink ${fresh.sink}`);
        const outcome = await deliverer.deliver(fresh, { mayHaveBeenSent: fresh.attempts > 0 || (row.locked_by !== null && row.locked_by !== owner), signal: this.#stopping.signal });
        if (outcome && 'retryAt' in outcome) {
          await recordDelivery(store.db, fresh.id, owner, { next_attempt_at: outcome.retryAt });
          return false;
        }
        await recordDelivery(store.db, fresh.id, owner, { delivered_at: clock.now(), attempts: fresh.attempts + 1, last_error: null });
        return true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const now = clock.now();
        const abandon = now - fresh.create_at > GIVE_UP_AFTER_MS;
        if (abandon) log.error({ sink: fresh.sink, target: fresh.target, error: message }, 'delivery abandoned after 24 hours of failures');
        else log.warn({ sink: fresh.sink, target: fresh.target, attempt: fresh.attempts + 1, error: message }, 'delivery failed; will retry');
        await recordDelivery(store.db, fresh.id, owner, { attempts: fresh.attempts + 1, last_error: message.slice(0, 500), next_attempt_at: now + deliveryBackoff(fresh.attempts + 1, random), ...(abandon ? { delivered_at: now } : {}) });
        return false;
      }
    } finally {
      await lease.release();
    }
  }
}
