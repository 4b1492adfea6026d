/**
 * Property-based: random `elrond` argument vectors.
 *
 * 1. In-process, thousands of vectors through `parseCommandLine` (CLI and chat grammar, with random ELROND_*
 *    variables): it never throws, answers exactly one of help / error / command, an error's first line is the
 *    whole message ("error: …", control characters escaped), a command's input is well-typed, and the same
 *    vector always parses the same way.
 * 2. A bounded number through the built binary against a running server: no crash and no stack trace on
 *    stderr, exit code 0, 1 or 2 only, a failure says what is wrong on its first stderr line, and a command
 *    that fails writes nothing (every table unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, optionsFor, type ParseMode } from '../src/commands/build-program.js';
import { COMMANDS } from '../src/commands/index.js';
import { defaultServerConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { startServer, type RunningServer } from '../src/server.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/src/cli/main.js');
const IMAGE = 'mattermost/mattermost-enterprise-edition';
const PARSE_RUNS = 3000;
const BINARY_RUNS = 36;

const WORDS = [...new Set(COMMANDS.flatMap((spec) => spec.path))];
const FLAGS = [...new Set(COMMANDS.flatMap((spec) => spec.options.flatMap((o) => (o.kind === 'bool' ? [`--${o.name}`, `--no-${o.name}`] : [`--${o.name}`]))))];
const ENV_NAMES = [...new Set(COMMANDS.flatMap((spec) => spec.options.map((o) => o.env).filter((e): e is string => Boolean(e))))];
const AWKWARD = ['', ' ', '-', '--', '-h', '--help', '--version', '-1', '0', '3600', '99999999999999', '1e3', '0x10', 'true', 'false', 'yes', 'null', 'undefined', '__proto__', 'constructor', '{}', '[]', '%00', 'a\nb', 'x\r\ny', 'tab\there', 'nul\u0000byte', 'esc\u001b[31mred', '☃', '👍🏽', 'é', '\u202Eevil', 'NAME:VALUE', 'MM_X:', ':x', 'http://127.0.0.1:1', 'ring', IMAGE, 'v1', 'x'.repeat(300)];

/** One token of an argument vector. */
function token(extraValues: readonly string[]) {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...WORDS) },
    { weight: 5, arbitrary: fc.constantFrom(...FLAGS) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...FLAGS), fc.constantFrom(...AWKWARD, ...extraValues)).map(([flag, value]) => `${flag}=${value}`) },
    { weight: 4, arbitrary: fc.constantFrom(...AWKWARD, ...extraValues) },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.fullUnicodeString({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }).map(String) },
  );
}

/** A command path (valid, partial or not one), then random tokens. */
function argvArbitrary(extraValues: readonly string[] = []) {
  const paths = [...COMMANDS.map((spec) => spec.path), ...COMMANDS.map((spec) => spec.path.slice(0, -1))];
  return fc.tuple(fc.constantFrom(...paths), fc.array(token(extraValues), { maxLength: 10 }), fc.boolean()).map(([prefix, rest, keepPrefix]) => (keepPrefix ? [...prefix, ...rest] : rest));
}

/** Plausible values per option kind, so most binary runs get past the parser and reach the server. */
function valueFor(option: (typeof COMMANDS)[number]['options'][number], ringId: string) {
  if (option.name === 'ring') return fc.constantFrom(ringId, ringId, 'ybndrfg8ejkmcpqxot1uwisza3', 'not-a-ring');
  if (option.kind === 'int') return fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -5, max: 7200 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('abc', '1.5', '99999999999999') });
  if (option.kind === 'list') return fc.constantFrom('MM_FUZZ:on', 'MM_FUZZ:', 'BAD', 'alice', 'team/channel');
  return fc.constantFrom('fuzz-a', 'fuzz-b', IMAGE, 'v2', 'v3', 'http://127.0.0.1:9/fuzz-hook', '2030-01-01T00:00:00Z', '+1h', '0 22 * * 5', 'fuzz reason', '', 'a\nb', '\u001b[2J');
}

/** A real command with mostly plausible options, then maybe damaged (an option dropped, a random token added). */
function commandArbitrary(ringId: string) {
  const specs = COMMANDS.filter((spec) => !spec.cliOnly);
  return fc.constantFrom(...specs).chain((spec) => {
    const options = spec.options.filter((o) => !o.cliOnly);
    const pieces = options.map((o) =>
      fc.oneof(
        { weight: o.required ? 8 : 2, arbitrary: o.kind === 'bool' ? fc.constant([`--${o.name}`]) : valueFor(o, ringId).map((v) => [`--${o.name}`, v]) },
        { weight: o.required ? 1 : 3, arbitrary: fc.constant([] as string[]) },
      ),
    );
    const damage = fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.array(token([ringId]), { minLength: 1, maxLength: 2 }) });
    return fc.tuple(fc.tuple(...pieces), damage).map(([chosen, extra]) => [...spec.path, ...chosen.flat(), ...extra]);
  });
}

const envArbitrary = fc.dictionary(fc.constantFrom(...ENV_NAMES), fc.constantFrom(...AWKWARD), { maxKeys: 3 });

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

describe('parseCommandLine with random argument vectors', () => {
  for (const mode of ['cli', 'chat'] as ParseMode[]) {
    it(`never throws and answers help, a one-line error or a well-typed command (${mode})`, () => {
      fc.assert(
        fc.property(argvArbitrary(), envArbitrary, (argv, env) => {
          const result = parseCommandLine(argv, mode, env);
          const kinds = ['help', 'error', 'spec'].filter((k) => k in result);
          expect(kinds).toHaveLength(1);
          if ('help' in result) {
            expect(result.help).toMatch(/Usage: /);
            return;
          }
          if ('error' in result) {
            const [first = '', ...rest] = result.error.split('\n');
            expect(first).toMatch(/^error: \S/);
            if (!argv.some((t) => /undefined|object/.test(t)) && !Object.values(env).some((v) => /undefined|object/.test(v ?? ''))) expect(first).not.toMatch(/undefined|\[object /);
            expect(first).not.toMatch(/at .*\(.*:\d+:\d+\)/);
            // The message is its first line: what the user typed is escaped, never a second line or a control code.
            expect(first).not.toMatch(CONTROL);
            for (const line of rest) expect(line).toMatch(/^(Usage: |Run "|\(Did you mean )/);
            return;
          }
          const { spec, input } = result;
          if (mode === 'chat') expect(spec.cliOnly).not.toBe(true);
          const options = optionsFor(spec, mode);
          expect(Object.keys(input).sort()).toEqual(options.map((o) => o.name).sort());
          for (const option of options) {
            const value = input[option.name];
            if (option.kind === 'bool') expect(typeof value).toBe('boolean');
            if (option.kind === 'list') expect(Array.isArray(value) && value.every((v) => typeof v === 'string')).toBe(true);
            if (option.kind === 'int' && value !== undefined) expect(Number.isSafeInteger(value)).toBe(true);
            if (option.kind === 'string' && value !== undefined) expect(typeof value).toBe('string');
            if (option.required) expect(value).not.toBeUndefined();
          }
        }),
        { numRuns: PARSE_RUNS, seed: 20261125 },
      );
    });
  }

  it('parses the same vector the same way every time (no state kept between parses)', () => {
    fc.assert(
      fc.property(argvArbitrary(), envArbitrary, (argv, env) => {
        const strip = (r: ReturnType<typeof parseCommandLine>) => ('spec' in r ? { path: r.spec.path, input: r.input } : r);
        expect(strip(parseCommandLine(argv, 'cli', env))).toEqual(strip(parseCommandLine(argv, 'cli', env)));
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});

// ------------------------------------------------------------------------------------------------------

interface Run {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

function elrond(args: string[], env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ELROND_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, timeout: 20_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number | string }).code ?? (error as { signal?: string }).signal ?? null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let server: RunningServer;
let ringId: string;

async function snapshot() {
  const db = server.store.db;
  const [rings, groups, releases, rollouts, webhooks, freezes, events, outbox] = await Promise.all([
    db.selectFrom('rings').selectAll().orderBy('id').execute(),
    db.selectFrom('installation_groups').selectAll().orderBy('id').execute(),
    db.selectFrom('releases').selectAll().orderBy('id').execute(),
    db.selectFrom('rollouts').selectAll().orderBy('id').execute(),
    db.selectFrom('webhooks').selectAll().orderBy('id').execute(),
    db.selectFrom('freezes').selectAll().orderBy('id').execute(),
    db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return JSON.stringify({ rings, groups, releases, rollouts, webhooks, freezes, events: Number(events.n), outbox: Number(outbox.n) });
}

describe('the elrond binary with random argument vectors, against a running server', () => {
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npx tsc -p tsconfig.json" first`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'elrond-cli-fuzz-'));
    // No supervisor loops: the database changes only through the commands under test.
    server = await startServer({ ...defaultServerConfig(), database: `sqlite://${path.join(dir, 'e.db')}`, listen: '127.0.0.1:0', poll: 0 }, { log: createLogger({ silent: true }), startLoops: false });
    const created = await fetch(`${server.url}/api/rings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'fuzz-ring', priority: 1, image: IMAGE, version: 'v1' }) });
    ringId = ((await created.json()) as { ID: string }).ID;
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${BINARY_RUNS} runs: exit 0/1/2, no stack trace, a clear first line, nothing written on failure`, async () => {
    const vectors = fc.oneof({ weight: 3, arbitrary: commandArbitrary(ringId) }, { weight: 1, arbitrary: argvArbitrary([ringId, 'fuzz-ring']) });
    const samples = fc.sample(fc.tuple(vectors, fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: envArbitrary })), { numRuns: BINARY_RUNS, seed: 424242 });
    const seen = new Map<string, number>();
    for (const [raw, env] of samples) {
      // Never start a server or touch a database file; always talk to the server under test. An operating system
      // cannot pass a NUL byte in an argument or a variable, so those stay in the in-process part.
      const argv = raw.filter((t) => !/^--(server|database|api-token)(=|$)/.test(t) && !t.includes('\u0000'));
      if (argv[0] === 'server' || argv[0] === 'schema') argv[0] = 'status';
      const safeEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => k !== 'ELROND_SERVER' && k !== 'ELROND_DATABASE' && !v.includes('\u0000')));
      const before = await snapshot();
      const run = await elrond([...argv, '--server', server.url], safeEnv);
      const after = await snapshot();
      const where = `elrond ${JSON.stringify(argv)} env ${JSON.stringify(safeEnv)}\nstdout: ${run.stdout.slice(0, 300)}\nstderr: ${run.stderr.slice(0, 600)}`;
      seen.set(String(run.code), (seen.get(String(run.code)) ?? 0) + 1);
      expect([0, 1, 2], where).toContain(run.code);
      expect(run.stderr, where).not.toMatch(/^\s+at .+:\d+:\d+\)?$|Error: .*\n\s+at |node:internal|TypeError|ReferenceError/m);
      if (run.code !== 0) {
        const first = run.stderr.split('\n')[0] ?? '';
        expect(first, where).toMatch(/^(error|elrond): \S/);
        expect(first, where).not.toMatch(CONTROL);
        expect(after, `a failed command wrote to the database: ${where}`).toBe(before);
      } else {
        expect(run.stderr, where).toBe('');
      }
      if (run.code === 2) expect(run.stdout, where).toBe('');
    }
    // The sample reaches the server (successes and server-side refusals), not only the parser.
    expect(seen.get('0') ?? 0, JSON.stringify([...seen])).toBeGreaterThan(3);
    expect((seen.get('1') ?? 0) + (seen.get('2') ?? 0), JSON.stringify([...seen])).toBeGreaterThan(3);
    console.info(`cli-fuzz binary exit codes: ${JSON.stringify(Object.fromEntries(seen))}`);
  }, 180_000);
});
