/** Small statistics helpers for benchmark samples (milliseconds unless said otherwise). */

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / samples.length;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** `1234.5` → `"1,235 ms"`, `12.34` → `"12.3 ms"`. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return `${Math.round(value).toLocaleString('en-US')} ms`;
  return `${value.toFixed(1)} ms`;
}

export function seconds(valueMs: number): string {
  if (!Number.isFinite(valueMs)) return 'n/a';
  if (valueMs >= 3_600_000) return `${(valueMs / 3_600_000).toFixed(2)} h`;
  if (valueMs >= 60_000) return `${(valueMs / 60_000).toFixed(1)} min`;
  return `${(valueMs / 1000).toFixed(2)} s`;
}

/** A seeded PRNG (mulberry32) so chaos runs can be replayed with the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
