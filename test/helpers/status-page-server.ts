import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultServerConfig, type ServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/model/clock.js';
import { createLogger } from '../../src/logging.js';
import { DEFAULT_DIALECT, IMAGE } from './harness.js';
import { tempDatabase, TEST_POSTGRES_URL } from './temp-database.js';

export interface PageServer {
  server: RunningServer;
  clock: ManualClock;
  database: string;
  /** Call /api with JSON (and the API token when one is configured). */
  api<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
  settle(): Promise<void>;
  /** Advance the clock `step` ms at a time, settling, until `done` or `maxMs`. */
  advanceUntil(done: () => Promise<boolean>, step: number, maxMs: number): Promise<void>;
  /** Rings of `groups` simulated groups each, through the REST API; the last one requires approval when asked. */
  fleet(rings: Array<{ name: string; priority: number; approval?: boolean; soak?: number }>, groups?: number): Promise<string[]>;
  close(): Promise<void>;
}

let groupCounter = 0;

/** A database for one test: a temp SQLite file, or a fresh Postgres database on the Postgres pass. */
export async function freshDatabase(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (DEFAULT_DIALECT === 'postgres' && TEST_POSTGRES_URL) {
    const temp = await tempDatabase('postgres', false);
    await temp.store.close();
    return { url: temp.url, cleanup: temp.cleanup };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'elrond-page-'));
  return { url: `sqlite://${path.join(dir, 'elrond.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Elrond on the provisioner simulator (real HTTP on 127.0.0.1, a real database, a manual clock; supervisor steps
 * run by `settle`), its event stream reading the table every 50 ms.
 */
export async function startPageServer(options: { config?: Partial<ServerConfig>; database?: string; clock?: ManualClock; simulator?: string } = {}): Promise<PageServer> {
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 10, 25, 12));
  const fresh = options.database ? undefined : await freshDatabase();
  const database = options.database ?? fresh!.url;
  const config: ServerConfig = {
    ...defaultServerConfig(),
    database,
    listen: '127.0.0.1:0',
    poll: 0,
    provisionerServer: options.simulator ?? 'sim://?rollout=4s&installations=4&maxRolling=2&jitter=0&seed=11',
    provisionerStatusInterval: 1,
    ...options.config,
  };
  const server = await startServer(config, { clock, log: createLogger({ silent: true }), startLoops: false, random: () => 0.5, streamPollMs: 50 });
  const token = config.apiToken;
  const handle: PageServer = {
    server,
    clock,
    database,
    async api(method, route, body) {
      const response = await fetch(`${server.url}/api${route}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async settle() {
      for (let i = 0; i < 50; i++) {
        await server.supervisor.runUntilIdle();
        if (!(await server.outbox.pass()).again) break;
      }
    },
    async advanceUntil(done, step, maxMs) {
      for (let elapsed = 0; !(await done()); elapsed += step) {
        if (elapsed >= maxMs) throw new Error(`not done after ${maxMs} ms of clock time`);
        clock.advance(step);
        await handle.settle();
      }
    },
    async fleet(rings, groups = 2) {
      const ids: string[] = [];
      for (const spec of rings) {
        const created = await handle.api('POST', '/rings', { name: spec.name, priority: spec.priority, soakTime: spec.soak ?? 10, image: IMAGE, version: 'v1', approvalRequired: spec.approval ?? false });
        if (created.status !== 202) throw new Error(JSON.stringify(created.body));
        for (let g = 0; g < groups; g++) {
          const groupId = `pg${String(++groupCounter).padStart(6, '0')}${'x'.repeat(18)}`;
          const registered = await handle.api('POST', `/ring/${created.body.ID}/installationgroup`, { name: `${spec.name}-${g + 1}`, soakTime: 2, provisionerGroupID: groupId });
          if (registered.status !== 200) throw new Error(JSON.stringify(registered.body));
        }
        ids.push(created.body.ID as string);
      }
      await handle.settle();
      return ids;
    },
    async close() {
      await server.close();
      await fresh?.cleanup();
    },
  };
  return handle;
}

/** One Server-Sent Events connection: the messages so far, and a way to wait for one. */
export interface SseConnection {
  status: number;
  headers: Headers;
  messages: Array<{ id: string | undefined; event: string | undefined; data: any }>;
  waitFor(what: string, match: (message: SseConnection['messages'][number]) => boolean, timeoutMs?: number): Promise<SseConnection['messages'][number]>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const connection: SseConnection = {
    status: response.status,
    headers: response.headers,
    messages: [],
    async waitFor(what, match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = connection.messages.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no SSE message ${what} within ${timeoutMs} ms; got ${JSON.stringify(connection.messages)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => abort.abort(),
  };
  if (!response.ok || !response.body) return connection;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || !line.includes(':')) continue;
            const at = line.indexOf(':');
            fields.set(line.slice(0, at), line.slice(at + 1).replace(/^ /, ''));
          }
          if (!fields.has('data')) continue;
          connection.messages.push({ id: fields.get('id'), event: fields.get('event'), data: JSON.parse(fields.get('data')!) });
        }
      }
    } catch {
      // closed
    }
  })();
  return connection;
}
