import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/helpers/processes.ts). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built `elrond` binary; `npm test` builds it first (pretest), or run `npx tsc -p tsconfig.json`. */
export const ELROND_BIN = path.join(ROOT, 'dist/src/cli/main.js');

/** A port on 127.0.0.1 nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServerProcessOptions {
  /** A label for errors and logs, e.g. "replica-1". */
  name: string;
  /** `elrond server` flags other than --listen, e.g. `['--database', url, '--poll', '1']`. */
  flags: readonly string[];
  /** Extra environment (ELROND_* settings); the test process's own ELROND_* variables are not passed on. */
  env?: Record<string, string>;
  /** Listen on this port (default: a free one). */
  port?: number;
  /** How long to wait for `GET /healthz` to answer 200 (default 20 s). */
  readyTimeoutMs?: number;
}

export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The lease owner this process writes into locked_by (from its "elrond is listening" log line). */
  readonly owner: string;
  readonly pid: number;
  /** False once the process has exited. */
  readonly alive: boolean;
  /** Everything it printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Its JSON log lines (the process runs with --machine-readable-logs). */
  logs(): Array<Record<string, unknown>>;
  /** Call its REST API: JSON in, `{ status, body }` out (10 s timeout). */
  api<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** SIGKILL: no shutdown, no lease given back, as if the machine died. Resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit (at most 10 s, then SIGKILL). */
  stop(): Promise<void>;
  /** Start it again with the same flags on the same port (after kill/stop); resolves when it is healthy. */
  restart(): Promise<ServerProcess>;
}

/** Every child started here and not yet exited: killed by {@link stopAllServerProcesses} and on exit. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Start `node dist/src/cli/main.js server --listen 127.0.0.1:<port> <flags> --machine-readable-logs` and
 * resolve once `/healthz` answers 200. Fails with the process's output when it exits or never gets healthy.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  if (!existsSync(ELROND_BIN)) throw new Error(`${ELROND_BIN} is missing: build first with "npx tsc -p tsconfig.json" (npm test does it)`);
  const port = options.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('ELROND_')) env[key] = value;
  Object.assign(env, options.env);
  const args = [ELROND_BIN, 'server', '--listen', `127.0.0.1:${port}`, '--machine-readable-logs', ...options.flags];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      children.delete(child);
      resolve();
    });
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const logs = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exited) throw new Error(`${options.name} exited before it was healthy:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} was not healthy after ${options.readyTimeoutMs ?? 20_000} ms:\n${output}`);
    }
    if ((await healthStatus(url)) === 200) break;
    await sleep(100);
  }
  const owner = String(logs().find((line) => line.msg === 'elrond is listening')?.owner ?? '');
  const handle: ServerProcess = {
    name: options.name,
    port,
    url,
    owner,
    pid: child.pid!,
    get alive() {
      return !exited;
    },
    output: () => output,
    logs,
    api: (method, route, body) => callApi(url, method, route, body),
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
    async restart() {
      await handle.kill();
      return startServerProcess({ ...options, port });
    },
  };
  return handle;
}

/** SIGKILL every server process still running (use in afterAll). */
export async function stopAllServerProcesses(): Promise<void> {
  const running = [...children];
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** `fetch` a replica's `/api<route>` with a JSON body; the answer's status and parsed JSON body. */
export async function callApi<T = any>(url: string, method: string, route: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}/api${route}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed as T };
}

async function healthStatus(url: string): Promise<number> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `check` every `everyMs` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, options: { timeoutMs: number; everyMs?: number }): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await sleep(options.everyMs ?? 100);
  }
}

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`: what Mattermost (the fake) calls, like a Kubernetes Service in front of the replicas. */
  url: string;
  /** Which backend (its URL) answered each request, in order, with the request path. */
  served: Array<{ path: string; backend: string }>;
  close(): Promise<void>;
}

/**
 * A tiny load balancer on 127.0.0.1: each request goes to the next backend in turn; a backend that refuses
 * the connection (a killed replica) is skipped, as a Service skips a pod that failed its probes.
 */
export async function startRoundRobinProxy(backends: () => readonly string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const served: RoundRobinProxy['served'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const targets = backends();
      const attempt = (tries: number): void => {
        if (tries >= targets.length) {
          res.writeHead(502).end();
          return;
        }
        const backend = targets[next++ % targets.length]!;
        const target = new URL(req.url ?? '/', backend);
        const upstream = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
          served.push({ path: target.pathname, backend });
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', () => {
          if (res.headersSent) res.destroy();
          else attempt(tries + 1);
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
