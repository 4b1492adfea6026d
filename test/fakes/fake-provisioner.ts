/**
 * A fake Mattermost Cloud provisioner (installation-group API) for tests and benchmarks.
 * Contract: /work/shared/reference/provisioner-api.md Part A and the "Fake provisioner"
 * section of fakes.md. Implementation modules live in `./provisioner/`.
 */
import { closeServer, listenOnLoopback } from './loopback-server.js';
import http from 'node:http';
import { decodeCreateGroup, isObject } from './provisioner/decode.js';
import { FaultInjector, type LatencyRange } from './provisioner/faults.js';
import { mulberry32, newId } from './provisioner/model.js';
import { matchRoute, type Reply, type RouteMatch } from './provisioner/routes.js';
import { ProvisionerStore, type AddInstallationOptions } from './provisioner/store.js';
import { WebhookRegistry } from './provisioner/webhooks.js';
import {
  HttpStatusError,
  type EnvVarMap,
  type FaultRoute,
  type GroupDTO,
  type GroupStatus,
  type Installation,
  type JsonObject,
  type LoggedRequest,
  type PatchGroupWire,
  type RouteName,
  type StateChange,
  type Webhook,
} from './provisioner/types.js';

export * from './provisioner/types.js';
export type { LatencyRange } from './provisioner/faults.js';
export type { AddInstallationOptions } from './provisioner/store.js';
export { FakeTokenEndpoint, type ClientAuthMethod, type FakeTokenEndpointOptions, type TokenRequest } from './provisioner/token-endpoint.js';

/** Options of {@link FakeProvisioner}. */
export interface FakeProvisionerOptions {
  /** Clock in ms used for CreateAt/DeleteAt, the request log and `rolloutDurationMs`. Default `Date.now`. */
  now?: () => number;
  /** When set, every request needs `Authorization: Bearer <token>`, else 401 (empty body). */
  requireToken?: string;
  /** Seed of the PRNGs behind IDs, `setErrorRate` and `setLatency`. Default 1. */
  seed?: number;
  /** Initial value of {@link FakeProvisioner.settleInstantly}. */
  settleInstantly?: boolean;
  /** Initial value of {@link FakeProvisioner.rolloutDurationMs}. */
  rolloutDurationMs?: number | null;
  /** `extra_data.Environment` of webhook payloads. Default `"test"`. */
  environment?: string;
}

/** Input of {@link FakeProvisioner.createGroup}: a `CreateGroupRequest` (A.3). */
export interface CreateGroupInput {
  Name: string;
  Description?: string;
  Version?: string;
  Image?: string;
  MaxRolling?: number;
  APISecurityLock?: boolean;
  MattermostEnv?: EnvVarMap | null;
  Scheduling?: JsonObject | null;
  Annotations?: string[];
}

type ParsedBody = { ok: true; value: unknown } | { ok: false };

function parseBody(raw: string): ParsedBody {
  if (raw.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

function firstValues(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of params) if (!(key in query)) query[key] = value;
  return query;
}

function writeReply(res: http.ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.destroyed) return;
  if (reply.json !== undefined) {
    const body = `${JSON.stringify(reply.json)}\n`;
    res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  } else if (reply.text !== undefined) {
    res.writeHead(reply.status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(reply.text),
    });
    res.end(reply.text);
  } else {
    res.writeHead(reply.status, reply.status === 204 ? {} : { 'Content-Length': '0' });
    res.end();
  }
}

/**
 * A real HTTP fake of the provisioner's installation-group API (`node:http`, 127.0.0.1,
 * random port), with PascalCase JSON, empty-body errors and the patch/status rules of A.4-A.6.
 *
 * Rollout modes (installations only move when one of these says so):
 * - **tick** (default): call {@link tick} for one deterministic supervisor pass;
 *   {@link autoRollout} calls it on a real, unref'd `setInterval`.
 * - **settleInstantly**: a PUT that bumps `Sequence` immediately makes every member that is
 *   stable or mid-update `stable` at the new sequence. Failed, hibernating and
 *   deletion-pending members keep their state.
 * - **rolloutDurationMs**: a PUT that bumps `Sequence` settles the group the same way
 *   exactly that many ms later by the injectable clock, checked before each request, each
 *   tick and each direct accessor — and, on the real clock, by a timer at the due time, so
 *   registered webhooks hear the rollout end when it happens. A second bump restarts the
 *   wait. Until then members simply stay awaiting update. `settleInstantly` wins when both
 *   are set. Either settle walks each member through update-requested and update-in-progress
 *   to stable, one recorded (and delivered) change each, as the real supervisors do.
 *
 * `tick()` works in every mode. Only sequence bumps trigger the instant/timed settle;
 * installations joined later are rolled by `tick()` (or the next bump).
 *
 * Faults ({@link failNext}, {@link hangNext}, {@link setErrorRate}, {@link setLatency}) act
 * after the Bearer check and before the handler. Every request is logged in {@link requests}.
 */
export class FakeProvisioner {
  /** Every request received, in arrival order (including failed, hung and 401 ones). */
  readonly requests: LoggedRequest[] = [];
  /** Every installation state change, in order (also POSTed to registered webhooks). */
  readonly stateChanges: StateChange[] = [];

  private readonly now: () => number;
  private readonly requireToken: string | undefined;
  private readonly store: ProvisionerStore;
  private readonly faults: FaultInjector;
  private readonly webhookRegistry: WebhookRegistry;
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: http.Server | null = null;
  private baseUrl: string | null = null;
  private autoTimer: NodeJS.Timeout | null = null;

  /** Creates the fake; call {@link start} to listen. */
  constructor(opts: FakeProvisionerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.requireToken = opts.requireToken;
    const seed = opts.seed ?? 1;
    const idRandom = mulberry32(seed ^ 0x5bd1e995);
    this.faults = new FaultInjector(mulberry32(seed));
    this.store = new ProvisionerStore({
      now: () => this.now(),
      newId: () => newId(idRandom),
      onStateChange: (change) => this.onStateChange(change),
      ...(opts.now === undefined ? { schedule: (delayMs: number, settle: () => void) => this.later(delayMs, settle) } : {}),
    });
    this.webhookRegistry = new WebhookRegistry({
      now: () => this.now(),
      newId: () => newId(idRandom),
      environment: opts.environment ?? 'test',
    });
    this.store.settleInstantly = opts.settleInstantly ?? false;
    this.store.rolloutDurationMs = opts.rolloutDurationMs ?? null;
  }

  // ------------------------------------------------------------- lifecycle

  /** Listens on 127.0.0.1 with a random port; resolves to the base URL `http://127.0.0.1:PORT`. */
  async start(): Promise<string> {
    if (this.baseUrl !== null) return this.baseUrl;
    const server = http.createServer((req, res) => this.onRequest(req, res));
    this.baseUrl = await listenOnLoopback(server);
    this.server = server;
    return this.baseUrl;
  }

  /** Stops auto-rollout and pending delays, closes every socket (hung ones too) and the server. */
  async stop(): Promise<void> {
    this.autoRollout(false);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    this.server = null;
    this.baseUrl = null;
    if (server === null) return;
    await closeServer(server);
  }

  /** The base URL; throws before {@link start}. */
  get url(): string {
    if (this.baseUrl === null) throw new Error('FakeProvisioner is not started');
    return this.baseUrl;
  }

  // --------------------------------------------------------------- rollout

  /** See the class doc: bumps settle at once when true. */
  get settleInstantly(): boolean {
    return this.store.settleInstantly;
  }
  set settleInstantly(value: boolean) {
    this.store.settleInstantly = value;
  }

  /** See the class doc: bumps settle this many ms (fake clock) later; null turns it off. */
  get rolloutDurationMs(): number | null {
    return this.store.rolloutDurationMs;
  }
  set rolloutDurationMs(value: number | null) {
    this.store.rolloutDurationMs = value;
  }

  /**
   * One supervisor pass: `update-in-progress → stable` (GroupSequence = group.Sequence),
   * `update-requested → update-in-progress`, then per live group with MaxRolling > 0 and no
   * row lock, up to `MaxRolling − rolling` awaiting members (by ID) → `update-requested`.
   */
  tick(): void {
    this.store.tick();
  }

  /** Calls {@link tick} every `intervalMs` on an unref'd timer; `false` stops it. */
  autoRollout(opts: { intervalMs: number } | false): void {
    if (this.autoTimer !== null) clearInterval(this.autoTimer);
    this.autoTimer = null;
    if (opts === false) return;
    this.autoTimer = setInterval(() => this.tick(), opts.intervalMs);
    this.autoTimer.unref();
  }

  // ---------------------------------------------------------------- faults

  /** The next `count` requests to `route` answer `status` with an empty body, changing nothing. */
  failNext(route: FaultRoute, status: number, count = 1): void {
    this.faults.failNext(route, status, count);
  }

  /** Each request to `routes` (default all) fails with `status` with probability `rate` (seeded PRNG). */
  setErrorRate(rate: number, status = 503, routes?: RouteName[]): void {
    this.faults.setErrorRate(rate, status, routes);
  }

  /** Delays every answer by a seeded-random time in [minMs, maxMs] (before the handler runs); null = off. */
  setLatency(range: LatencyRange | null): void {
    this.faults.setLatency(range);
  }

  /** The next `count` requests to `route` are never answered (the client must time out). */
  hangNext(route: FaultRoute, count = 1): void {
    this.faults.hangNext(route, count);
  }

  /** Drops queued failures/hangs, the error rate and the latency. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Holds the group's row lock (`LockAcquiredBy` set): PUT/DELETE/annotation routes answer 409. */
  lockGroup(id: string): void {
    this.store.setGroupRowLock(id, true);
  }

  /** Releases the row lock taken by {@link lockGroup}. */
  unlockGroup(id: string): void {
    this.store.setGroupRowLock(id, false);
  }

  /** Holds an installation's row lock: join/leave/assign answer 409. */
  lockInstallation(id: string): void {
    this.store.setInstallationRowLock(id, true);
  }

  /** Releases the row lock taken by {@link lockInstallation}. */
  unlockInstallation(id: string): void {
    this.store.setInstallationRowLock(id, false);
  }

  /** Forces an installation state, e.g. `update-failed`, `hibernating`, `deletion-pending`. */
  setInstallationState(installationId: string, state: string): void {
    this.store.setInstallationState(installationId, state);
  }

  // ------------------------------------------------------- direct accessors

  /** Creates a group exactly like `POST /api/groups` (throws HttpStatusError 400 when invalid). */
  createGroup(input: CreateGroupInput): GroupDTO {
    return this.store.createGroup(decodeCreateGroup(input));
  }

  /** The group as `GET /api/group/{id}` returns it, or undefined. */
  group(id: string): GroupDTO | undefined {
    this.store.settleDue();
    return this.store.hasGroup(id) ? this.store.getGroup(id) : undefined;
  }

  /** Every group, deleted ones included, ordered by CreateAt. */
  groups(): GroupDTO[] {
    return this.store.listGroups({ page: 0, perPage: -1, includeDeleted: true }, false);
  }

  /** The group's status (A.6 formulas), or undefined for an unknown group. */
  status(id: string): GroupStatus | undefined {
    this.store.settleDue();
    return this.store.hasGroup(id) ? this.store.groupStatus(id) : undefined;
  }

  /** Adds an installation directly; with a group it starts awaiting update (GroupSequence null). */
  addInstallation(opts: AddInstallationOptions = {}): Installation {
    return this.store.addInstallation(opts);
  }

  /** The raw installation (not merged with its group), or undefined. */
  installation(id: string): Installation | undefined {
    this.store.settleDue();
    return this.store.installations().find((i) => i.ID === id);
  }

  /** Raw installations; with `groupId`, only that group's live members. */
  installations(groupId?: string): Installation[] {
    this.store.settleDue();
    return this.store.installations(groupId);
  }

  /** Marks an installation deleted (`DeleteAt` set), so it leaves every count. */
  deleteInstallation(id: string): void {
    this.store.deleteInstallation(id);
  }

  /** Registered, non-deleted webhooks. */
  webhooks(): Webhook[] {
    return this.webhookRegistry.list(undefined, { page: 0, perPage: -1, includeDeleted: false });
  }

  // ------------------------------------------------------------ request log

  /** Bodies of `PUT /api/group/{id}` requests (optionally one group's), in order, faulted ones included. */
  puts(groupId?: string): PatchGroupWire[] {
    return this.requests
      .filter((r) => r.route === 'putGroup' && (groupId === undefined || r.path === `/api/group/${groupId}`))
      .map((r) => r.body)
      .filter(isObject);
  }

  /** Empties {@link requests} and {@link stateChanges}. */
  clearLog(): void {
    this.requests.length = 0;
    this.stateChanges.length = 0;
  }

  // ---------------------------------------------------------------- private

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.dispatch(req, res, Buffer.concat(chunks).toString('utf8')));
  }

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const match = matchRoute(method, url.pathname);
    const body = parseBody(rawBody);
    this.requests.push({
      method,
      path: url.pathname,
      query: firstValues(url.searchParams),
      body: body.ok ? body.value : undefined,
      rawBody,
      route: match.name,
      at: this.now(),
    });
    if (!this.authorized(req)) return writeReply(res, { status: 401 });
    const decision = this.faults.decide(match.name);
    if (decision.kind === 'hang') return;
    const respond = (): void =>
      writeReply(res, decision.kind === 'fail' ? { status: decision.status } : this.handle(match, url.searchParams, body));
    if (decision.delayMs > 0) this.later(decision.delayMs, respond);
    else respond();
  }

  private handle(match: RouteMatch, query: URLSearchParams, body: ParsedBody): Reply {
    if ('reply' in match) return match.reply;
    try {
      this.store.settleDue();
      return match.handle({
        store: this.store,
        webhooks: this.webhookRegistry,
        query,
        params: match.params,
        body: () => {
          if (!body.ok) throw new HttpStatusError(400, 'request body is not valid JSON');
          return body.value;
        },
      });
    } catch (error) {
      if (error instanceof HttpStatusError) return { status: error.status };
      console.error('FakeProvisioner internal error', error);
      return { status: 500 };
    }
  }

  private authorized(req: http.IncomingMessage): boolean {
    return this.requireToken === undefined || req.headers.authorization === `Bearer ${this.requireToken}`;
  }

  private later(delayMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    this.timers.add(timer);
  }

  private onStateChange(change: StateChange): void {
    this.stateChanges.push(change);
    if (change.webhook) this.webhookRegistry.deliver(change);
  }
}
