import type { Logger } from 'pino';
import type { Store } from '../store/connect.js';
import type { OutboxRow } from '../store/schema.js';
import type { Clock } from '../model/clock.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { WorkLoop, type PassResult } from './work-loop.js';
import { keepLeaseAlive } from '../store/leases.js';

/**
 * Delivers one kind of outbox row. Throw to have it retried with backoff; return `{ retryAt }` to have it
 * tried again at that time without counting a failure (e.g. to space out edits of one post).
 */
export interface Deliverer {
  readonly sink: string;
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
const CONCURRENCY = 8;

/**
 * Lease one outbox row (free, or its holder's lease expired). The outbox has no `locked_at` column, so the
 * generic store lease (which writes one) cannot be used here.
 */
async function takeRow(db: Kysely<Database>, id: number, owner: string, now: number, ttlMs: number): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set({ locked_by: owner, locked_until: now + ttlMs })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('locked_by', 'is', null), eb('locked_until', '<', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

async function renewRow(db: Kysely<Database>, id: number, owner: string, now: number, ttlMs: number): Promise<boolean> {
  const result = await db.updateTable('outbox').set({ locked_until: now + ttlMs }).where('id', '=', id).where('locked_by', '=', owner).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

async function giveBackRow(db: Kysely<Database>, id: number, owner: string): Promise<void> {
  await db.updateTable('outbox').set({ locked_by: null, locked_until: 0 }).where('id', '=', id).where('locked_by', '=', owner).execute();
}

export function deliveryBackoff(attempts: number, random: () => number): number {
  const base = Math.min(300_000, 500 * 2 ** Math.min(attempts, 12));
  return Math.round(base * (0.5 + random() / 2));
}

/**
 * Delivers queued notifications (webhooks, Grafana, Mattermost) from the database: in id order per
 * ordering key, one at a time per key, retried with backoff, nothing lost across restarts. A sink being
 * down only delays its own deliveries.
 */
export class OutboxWorker {
  readonly loop: WorkLoop;
  readonly #deps: OutboxDeps;
  readonly #deliverers: Map<string, Deliverer>;

  constructor(deps: OutboxDeps, deliverers: readonly Deliverer[], pollSeconds: number) {
    this.#deps = deps;
    this.#deliverers = new Map(deliverers.map((d) => [d.sink, d]));
    this.loop = new WorkLoop({ name: 'outbox', pass: () => this.pass(), clock: deps.clock, log: deps.log, pollSeconds });
  }

  start(): void {
    this.loop.start();
  }
  stop(): Promise<void> {
    return this.loop.stop();
  }
  nudge(): void {
    this.loop.nudge();
  }

  /** Deliver everything due now; for tests, call until it reports nothing left. */
  async pass(): Promise<PassResult> {
    const { store, clock } = this.#deps;
    const now = clock.now();
    const heads = await store.db
      .selectFrom('outbox as o')
      .selectAll()
      .where('o.delivered_at', 'is', null)
      .where('o.id', '=', (eb) =>
        eb.selectFrom('outbox as p').select((e) => e.fn.min('p.id').as('first')).where('p.ordering_key', '=', eb.ref('o.ordering_key')).where('p.delivered_at', 'is', null),
      )
      .orderBy('o.id')
      .limit(200)
      .execute();
    const due = heads.filter((row) => row.next_attempt_at <= now);
    let delivered = 0;
    for (let i = 0; i < due.length; i += CONCURRENCY) {
      const results = await Promise.all(due.slice(i, i + CONCURRENCY).map((row) => this.#deliverOne(row)));
      delivered += results.filter(Boolean).length;
    }
    const waiting = heads.filter((row) => row.next_attempt_at > now).map((row) => row.next_attempt_at);
    return { again: delivered > 0, nextDeadline: waiting.length ? Math.min(...waiting) : null };
  }

  /** Number of deliveries not yet made. */
  async backlog(): Promise<number> {
    const row = await this.#deps.store.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('delivered_at', 'is', null).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async #deliverOne(row: OutboxRow): Promise<boolean> {
    const { store, clock, log, owner, leaseMs, random } = this.#deps;
    if (!(await takeRow(store.db, row.id, owner, clock.now(), leaseMs))) return false;
    // A delivery slower than the lease (a sink near its timeout) must not be sent again by another replica.
    const keep = keepLeaseAlive(() => renewRow(store.db, row.id, owner, clock.now(), leaseMs), leaseMs);
    try {
      const fresh = await store.db.selectFrom('outbox').selectAll().where('id', '=', row.id).executeTakeFirst();
      if (!fresh || fresh.delivered_at !== null) return false;
      const deliverer = this.#deliverers.get(fresh.sink);
      try {
        if (!deliverer) throw new Error(`no deliverer for sink ${fresh.sink}`);
        const outcome = await deliverer.deliver(fresh, { mayHaveBeenSent: fresh.attempts > 0 || (row.locked_by !== null && row.locked_by !== owner) });
        if (outcome && 'retryAt' in outcome) {
          await store.db.updateTable('outbox').set({ next_attempt_at: outcome.retryAt }).where('id', '=', fresh.id).where('locked_by', '=', owner).execute();
          return false;
        }
        await store.db.updateTable('outbox').set({ delivered_at: clock.now(), attempts: fresh.attempts + 1, last_error: null }).where('id', '=', fresh.id).where('locked_by', '=', owner).execute();
        return true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const now = clock.now();
        const abandon = now - fresh.create_at > GIVE_UP_AFTER_MS;
        if (abandon) log.error({ sink: fresh.sink, target: fresh.target, error: message }, 'delivery abandoned after 24 hours of failures');
        else log.warn({ sink: fresh.sink, target: fresh.target, attempt: fresh.attempts + 1, error: message }, 'delivery failed; will retry');
        await store.db
          .updateTable('outbox')
          .set({ attempts: fresh.attempts + 1, last_error: message.slice(0, 500), next_attempt_at: now + deliveryBackoff(fresh.attempts + 1, random), ...(abandon ? { delivered_at: now } : {}) })
          .where('id', '=', fresh.id)
          .where('locked_by', '=', owner)
          .execute();
        return false;
      }
    } finally {
      await keep.stop();
      await giveBackRow(store.db, row.id, owner);
    }
  }
}
