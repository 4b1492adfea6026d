import { badRequest } from '../model/errors.js';
import { formatDuration, parseDuration } from '../model/durations.js';

/** How the simulated provisioner behaves: `--provisioner-server sim://?rollout=5s&installations=4&…`. */
export interface SimulatorOptions {
  /** How long one installation's update takes (before jitter), ms. */
  rolloutMs: number;
  /** Each update takes rolloutMs × (1 ± jitter), drawn uniformly. */
  jitter: number;
  /** Probability that an installation's update ends in `update-failed`. */
  failProbability: number;
  /** Installations of a group the simulator creates (on first use). */
  installations: number;
  /** `MaxRolling` of a group the simulator creates: installations updated at the same time (0 = paused). */
  maxRolling: number;
  /** Seed of every random draw; undefined = a new one each start (logged, so a run can be replayed). */
  seed: number | undefined;
  /** A failed installation is updated again after this long, as an operator would; null = it stays failed. */
  repairMs: number | null;
}

export const DEFAULT_SIMULATOR_OPTIONS: SimulatorOptions = {
  rolloutMs: 10_000,
  jitter: 0.2,
  failProbability: 0,
  installations: 4,
  maxRolling: 1,
  seed: undefined,
  repairMs: null,
};

const SCHEME = /^sim:\/\//i;

/** True when `--provisioner-server` selects the built-in simulator instead of a real provisioner. */
export function isSimulatorUrl(url: string): boolean {
  return SCHEME.test(url.trim());
}

const MAX_ROLLOUT_MS = 86_400_000;
const MAX_INSTALLATIONS = 500;

type Setter = (options: SimulatorOptions, value: string, problem: (fix: string) => never) => void;

function fraction(value: string, max: number, problem: (fix: string) => never): number {
  const number = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= 0 && number <= max)) problem(`use a number from 0 to ${max}`);
  return number;
}

function integer(value: string, max: number, problem: (fix: string) => never): number {
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= 0 && number <= max)) problem(`use a whole number from 0 to ${max}`);
  return number;
}

function duration(value: string, problem: (fix: string) => never): number {
  let ms: number;
  try {
    ms = parseDuration(value, 'duration');
  } catch {
    return problem('use a duration like 5s, 2m or 1h (a bare number is seconds)');
  }
  if (ms < 1000 || ms > MAX_ROLLOUT_MS) problem('use a duration from 1s to 24h, e.g. 5s or 2m');
  return ms;
}

/** Each option, by its lowercased name: how to read it. */
const OPTIONS: Record<string, { name: string; set: Setter }> = {
  rollout: { name: 'rollout', set: (o, v, p) => void (o.rolloutMs = duration(v, p)) },
  jitter: { name: 'jitter', set: (o, v, p) => void (o.jitter = fraction(v, 0.9, p)) },
  fail: { name: 'fail', set: (o, v, p) => void (o.failProbability = fraction(v, 1, p)) },
  installations: { name: 'installations', set: (o, v, p) => void (o.installations = integer(v, MAX_INSTALLATIONS, p)) },
  maxrolling: { name: 'maxRolling', set: (o, v, p) => void (o.maxRolling = integer(v, 1000, p)) },
  seed: { name: 'seed', set: (o, v, p) => void (o.seed = integer(v, 0xffffffff, p)) },
  repair: { name: 'repair', set: (o, v, p) => void (o.repairMs = /^(off|never)$/i.test(v) ? null : duration(v, p)) },
};

const KNOWN = Object.values(OPTIONS)
  .map((o) => o.name)
  .join(', ');

/**
 * Read `sim://?rollout=5s&installations=4&fail=0.05&jitter=0.2&maxRolling=2&seed=42&repair=1m`. Every option is
 * optional; a bad one is refused with a message naming it and the fix.
 *
 * @example parseSimulatorUrl('sim://?rollout=5s').rolloutMs // 5000
 */
export function parseSimulatorUrl(url: string): SimulatorOptions {
  const trimmed = url.trim();
  const where = `--provisioner-server "${trimmed}"`;
  if (!isSimulatorUrl(trimmed)) throw badRequest(`${where} is not a simulator URL: it must start with sim://`);
  const rest = trimmed.replace(SCHEME, '');
  const at = rest.indexOf('?');
  const place = at < 0 ? rest : rest.slice(0, at);
  if (place !== '' && place !== '/') {
    throw badRequest(`${where}: the simulator takes no host or path ("${place}"); put its options after "?", e.g. sim://?rollout=5s&installations=4`);
  }
  const query = at < 0 ? '' : rest.slice(at + 1);
  if (query.includes('#')) throw badRequest(`${where}: remove the "#…" part; options go after "?", separated by "&"`);
  const options: SimulatorOptions = { ...DEFAULT_SIMULATOR_OPTIONS };
  const seen = new Set<string>();
  for (const [key, value] of new URLSearchParams(query)) {
    const option = OPTIONS[key.toLowerCase()];
    if (!option) throw badRequest(`${where}: unknown simulator option "${key}"; the options are ${KNOWN}`);
    if (seen.has(option.name)) throw badRequest(`${where}: option ${option.name} is given twice; keep one`);
    seen.add(option.name);
    option.set(options, value.trim(), (fix) => {
      throw badRequest(`${where}: ${option.name}=${JSON.stringify(value)} is not valid: ${fix}`);
    });
  }
  if (options.failProbability === 1 && options.repairMs !== null) {
    throw badRequest(`${where}: fail=1 with repair would fail and repair every update forever; use a fail probability below 1, or drop repair`);
  }
  return options;
}

/** One line for logs and labels, e.g. "4 installations per group, 2 at a time, 5s ±20% per update, 5% fail, seed 42". */
export function describeSimulatorOptions(options: SimulatorOptions, seed: number): string {
  const parts = [
    `${options.installations} installation${options.installations === 1 ? '' : 's'} per new group`,
    options.maxRolling === 0 ? 'MaxRolling 0 (paused)' : `${options.maxRolling} at a time`,
    `${formatDuration(options.rolloutMs)}${options.jitter > 0 ? ` ±${Math.round(options.jitter * 100)}%` : ''} per update`,
    `${+(options.failProbability * 100).toFixed(2)}% of updates fail`,
    options.repairMs === null ? 'failed ones stay failed' : `failed ones retried after ${formatDuration(options.repairMs)}`,
    `seed ${seed}`,
  ];
  return parts.join(', ');
}
