/**
 * Real `elrond server` processes (the built binary, dist/src/cli/main.js) for benchmarks and chaos runs:
 * spawn on 127.0.0.1, wait for "listening", kill (SIGKILL or SIGTERM), read RSS and CPU time from /proc.
 * Every process started here is remembered and killed when the bench process exits, whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the first folder above this file holding package.json (works from bench/ and dist/bench/). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the repository root (package.json) above bench/lib');
}

/** The built `elrond` binary. */
export const ELROND_BINARY = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

export interface ElrondOptions {
  /** sqlite:///abs/path.db or postgres://… */
  database: string;
  /** Port on 127.0.0.1; 0 (default) lets the OS choose. */
  port?: number;
  /** --poll seconds (default 30, the original's and a real deployment's value). */
  poll?: number;
  provisionerUrl: string;
  leaseDuration?: number;
  /** More flags, e.g. ['--mattermost-url', url]. */
  args?: readonly string[];
  /** Flags for node itself, e.g. ['--cpu-prof']. */
  nodeArgs?: readonly string[];
  /** Every output line is appended here when set. */
  logFile?: string;
  /** How long to wait for "listening" (default 30 s). */
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Number of elrond processes this module started that have not exited yet. */
export function liveProcessCount(): number {
  return live.size;
}

/** One running `elrond server`. */
export class ElrondProcess {
  readonly child: ChildProcess;
  /** Base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** Milliseconds from spawn to the "listening" line. */
  readonly startupMs: number;
  readonly exited: Promise<number | null>;
  readonly #lines: string[];

  private constructor(child: ChildProcess, url: string, startupMs: number, exited: Promise<number | null>, lines: string[]) {
    this.child = child;
    this.url = url;
    this.startupMs = startupMs;
    this.exited = exited;
    this.#lines = lines;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last output lines (stdout and stderr), for failure reports. */
  tail(count = 40): string {
    return this.#lines.slice(-count).join('\n');
  }

  /** Every output line kept (the last 5,000). */
  lines(): readonly string[] {
    return this.#lines;
  }

  static async start(options: ElrondOptions): Promise<ElrondProcess> {
    installExitHook();
    const args = [
      ...(options.nodeArgs ?? []),
      ELROND_BINARY,
      'server',
      '--database',
      options.database,
      '--listen',
      `127.0.0.1:${options.port ?? 0}`,
      '--poll',
      String(options.poll ?? 30),
      '--provisioner-server',
      options.provisionerUrl,
      '--lease-duration',
      String(options.leaseDuration ?? 60),
      ...(options.args ?? []),
    ];
    // A clean environment: no ELROND_* setting of the caller leaks into the server.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ELROND_')));
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        live.delete(child);
        resolve(code);
      });
      child.once('error', () => {
        live.delete(child);
        resolve(null);
      });
    });
    let onListening: ((url: string) => void) | undefined;
    const listening = new Promise<string>((resolve) => (onListening = resolve));
    const collect = (stream: NodeJS.ReadableStream | null) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        partial += chunk;
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          if (lines.length > 5000) lines.splice(0, lines.length - 5000);
          if (options.logFile) appendFileSync(options.logFile, `[${child.pid}] ${line}\n`);
          const match = /elrond server listening on (http:\/\/\S+)/.exec(line);
          if (match?.[1]) onListening?.(match[1]);
        }
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      listening.then((url) => ({ url })),
      exited.then((code) => ({ exit: code })),
      new Promise<{ timeout: true }>((resolve) => (timer = setTimeout(() => resolve({ timeout: true }), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!('url' in outcome)) {
      child.kill('SIGKILL');
      await exited;
      const why = 'exit' in outcome ? `exited with ${outcome.exit}` : `did not listen within ${timeoutMs} ms`;
      throw new Error(`elrond server ${why}:\n${lines.slice(-30).join('\n')}`);
    }
    return new ElrondProcess(child, outcome.url, performance.now() - started, exited, lines);
  }

  /** SIGKILL (no shutdown at all) and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful shutdown), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return void (await this.exited);
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resident set size in MiB (VmRSS), or NaN when gone. */
  rssMiB(): number {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      return kb / 1024;
    } catch {
      return Number.NaN;
    }
  }

  /** User + system CPU time used so far, ms (from /proc/PID/stat, 100 ticks per second). */
  cpuMs(): number {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return Number.NaN;
    }
  }
}
