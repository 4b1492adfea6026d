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
  /** `weigh`: the answer's size in bytes, so that large answers (a list of every ring) count for what they hold. */
  read<T>(key: string, compute: () => Promise<T>, weigh?: (answer: T) => number): Promise<T>;
  /**
   * The answer `read` would give now, if there is one without computing it: computed (or being computed) for the
   * data as it is now, else undefined. Counted as a hit when found.
   */
  peek<T>(key: string): Promise<T | undefined>;
  readonly stats: { hits: number; misses: number };
}

export interface ReadCacheOptions {
  dataVersion: () => Promise<string>;
  clock: Clock;
  /** Distinct answers kept, least recently used dropped first. */
  maxEntries?: number;
  /** Bytes of answers kept (by their weight), least recently used dropped first. */
  maxBytes?: number;
}

/** What an answer without a weight counts for. */
const DEFAULT_WEIGHT = 1024;

interface Entry {
  version: string;
  answer: Promise<unknown>;
  /** Resolves (never rejects) once `answer` is settled. */
  settled: Promise<void>;
  computing: boolean;
  bytes: number;
}

export function createReadCache(options: ReadCacheOptions): ReadCache {
  const maxEntries = options.maxEntries ?? 64;
  const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const stats = { hits: 0, misses: 0 };
  const versionNow = async () => `${await options.dataVersion()}@${Math.floor(options.clock.now() / 1000)}`;

  function forget(key: string): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
  }

  function remember(key: string, entry: Entry): void {
    // Most recently used last, so the first key is the one to drop.
    forget(key);
    entries.set(key, entry);
    bytes += entry.bytes;
    while (entries.size > 1 && (entries.size > maxEntries || bytes > maxBytes)) forget(entries.keys().next().value!);
  }

  return {
    stats,
    async peek<T>(key: string): Promise<T | undefined> {
      const version = await versionNow();
      const found = entries.get(key);
      if (!found || found.version !== version) return undefined;
      stats.hits++;
      remember(key, found);
      return found.answer as Promise<T>;
    },
    async read<T>(key: string, compute: () => Promise<T>, weigh?: (answer: T) => number): Promise<T> {
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
        // Weightless until its answer is known.
        const entry: Entry = { version, answer, settled: answer.then(() => undefined, () => undefined), computing: true, bytes: 0 };
        remember(key, entry);
        answer.then(
          (value) => {
            entry.computing = false;
            if (entries.get(key) !== entry) return;
            // Weighed once known; an answer too large to keep is not kept.
            const weight = weigh ? weigh(value) : DEFAULT_WEIGHT;
            if (weight > maxBytes) return forget(key);
            remember(key, { ...entry, bytes: weight });
          },
          () => {
            // A failure is the caller's answer this time only.
            entry.computing = false;
            if (entries.get(key) === entry) forget(key);
          },
        );
        return answer;
      }
    },
  };
}
