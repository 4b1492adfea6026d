import type { Clock } from '../model/clock.js';

/**
 * Answers to read requests (`GET /api/rings`, `/elrond status`, …), kept while the data they were computed from
 * is unchanged: fifty people asking for the ring list during a release get one database read between them, not
 * fifty.
 *
 * An answer is served again only for the same key, the same data version (store/data-version.ts: it moves on
 * every write, this process's or another's) and the same second of the clock (answers may count down soak
 * time). The version is taken before the answer is computed, so a cached answer is never older than the
 * request that found it: a change you made is in the next answer you get, from any replica. Requests that find
 * an answer still being computed wait for it instead of computing it again.
 */
export interface ReadCache {
  read<T>(key: string, compute: () => Promise<T>): Promise<T>;
  readonly stats: { hits: number; misses: number };
}

export interface ReadCacheOptions {
  dataVersion: () => Promise<string>;
  clock: Clock;
  /** Distinct answers kept, least recently used dropped first (each is a page of JSON, ~100 KB). */
  maxEntries?: number;
}

interface Entry {
  version: string;
  answer: Promise<unknown>;
  /** Resolves (never rejects) once `answer` is settled. */
  settled: Promise<void>;
  computing: boolean;
}

export function createReadCache(options: ReadCacheOptions): ReadCache {
  const maxEntries = options.maxEntries ?? 64;
  const entries = new Map<string, Entry>();
  const stats = { hits: 0, misses: 0 };
  const versionNow = async () => `${await options.dataVersion()}@${Math.floor(options.clock.now() / 1000)}`;

  function remember(key: string, entry: Entry): void {
    // Most recently used last, so the first key is the one to drop.
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  }

  return {
    stats,
    async read<T>(key: string, compute: () => Promise<T>): Promise<T> {
      for (;;) {
        const version = await versionNow();
        const found = entries.get(key);
        if (found && found.version === version) {
          stats.hits++;
          remember(key, found);
          return found.answer as Promise<T>;
        }
        // An answer for older data is being computed: wait for it, then look again, so that when the data
        // changes while an answer is computed, the requests that arrive meanwhile share one new computation
        // instead of each starting its own.
        if (found?.computing) {
          await found.settled;
          continue;
        }
        stats.misses++;
        const answer = compute();
        const entry: Entry = { version, answer, settled: answer.then(() => undefined, () => undefined), computing: true };
        remember(key, entry);
        void entry.settled.then(() => {
          entry.computing = false;
        });
        // A failure is the caller's answer this time only.
        answer.catch(() => {
          if (entries.get(key) === entry) entries.delete(key);
        });
        return answer;
      }
    },
  };
}
