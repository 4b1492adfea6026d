/**
 * Every delivery in flight gets the outbox's one stopping signal, and may listen on it (axios does, per request).
 * Up to eight per sink and several sinks at once: more than Node's default of ten listeners, by design.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Store } from '../src/store/connect.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { enqueue } from '../src/store/event-log.js';
import { OutboxWorker, type Deliverer } from '../src/engine/outbox-worker.js';
import { ManualClock } from '../src/model/clock.js';
import { createLogger } from '../src/logging.js';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('the outbox stopping signal', () => {
  it('is shared by more than ten deliveries in flight without a MaxListenersExceededWarning, and stops them all', async () => {
    store = connect('sqlite://:memory:');
    await migrateToLatest(store.db);
    const clock = new ManualClock(Date.UTC(2026, 11, 2));
    const sinks = ['webhook', 'grafana'];
    await enqueue(store.db, sinks.flatMap((sink) => Array.from({ length: 8 }, (_, i) => ({ sink, target: `${sink}-${i}`, orderingKey: `${sink}-${i}`, payload: { i } }))), clock.now());
    let inFlight = 0;
    let allStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (allStarted = resolve));
    const hang = (sink: string): Deliverer => ({
      sink,
      deliver: (_row, attempt) =>
        new Promise((_resolve, reject) => {
          attempt.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
          if (++inFlight === 16) allStarted();
        }),
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const worker = new OutboxWorker({ store, clock, log: createLogger({ silent: true }), owner: 'test', leaseMs: 60_000, random: () => 0.5 }, sinks.map(hang), 0);
    try {
      worker.start();
      await started;
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map((warning) => warning.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await worker.stop();
    }
    // Every delivery gave up when the worker stopped, and its row is waiting for a next attempt.
    expect((await store.db.selectFrom('outbox').select('id').where('delivered_at', 'is', null).execute()).length).toBe(16);
  });
});
