/**
 * A fake Mattermost server for tests: a real `node:http` server on 127.0.0.1 implementing the bot-facing
 * REST API (`/api/v4`, B.1–B.8 of `/work/shared/reference/mattermost-api.md`), `response_url` hooks, and
 * test drivers that call the bot the way Mattermost does (slash commands, button clicks, dialog submissions).
 *
 * It follows the server's code (v11), each behaviour commented with the function it models: action contexts kept
 * as Go maps and sent back re-marshalled, buttons on ephemeral posts clicked through encrypted cookies, clicks
 * resolved by action id in the post as stored now, update vs patch, permissions from the default roles (editing
 * needs channel membership, post:all only creates, slash commands need a team admin), dialog validation, who a new
 * post notifies (mentions in the message, attachment text and field values; direct messages), direct message
 * channels, and the props size limit.
 *
 * Implementation lives in `./mattermost/*`; this module is the public entry point.
 */
import { closeServer, listenOnLoopback } from './loopback-server.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  applyCommandResponse,
  clickButton,
  clickEphemeralButton,
  fillDialog,
  parseCommandResponse,
  postDialogSubmission,
  runSlashCommand,
  submitDialog,
  type ClickArgs,
  type DialogSubmitArgs,
  type DriverEnv,
  type EphemeralClickArgs,
  type SlashArgs,
} from './mattermost/drivers.js';
import { handleRest, type RestDeps } from './mattermost/rest.js';
import { MmError, MmState } from './mattermost/state.js';
import type {
  ClickResult,
  Command,
  DedupeRecord,
  DialogRecord,
  DialogSubmitResult,
  EphemeralRecord,
  MmChannel,
  MmTeam,
  MmUser,
  OutboundLogEntry,
  Post,
  PostVersion,
  RequestLogEntry,
  SlashResult,
  TriggerRecord,
} from './mattermost/types.js';
import { idGenerator, mulberry32, readBody, sendJson, tryParseJson } from './mattermost/util.js';

export type * from './mattermost/types.js';
export type { ClickArgs, DialogSubmitArgs, EphemeralClickArgs, SlashArgs } from './mattermost/drivers.js';

/** Options of {@link FakeMattermost}. */
export interface FakeMattermostOptions {
  /** Clock in epoch ms (default `Date.now`). Drives timestamps, trigger expiry, dedupe and hook windows. */
  now?: () => number;
  /** Seed for ids, tokens and the error-rate PRNG (default 0x5eed). */
  seed?: number;
  /** How long a trigger id stays valid for `dialogs/open` (default 3000 ms, the older-server value; 30000 on current servers). */
  triggerExpiryMs?: number;
  /** Timeout of outbound requests to the bot (default 30000 ms, `OutgoingIntegrationRequestsTimeout`). */
  outgoingTimeoutMs?: number;
  /** Honour `username`/`icon_url` of in_channel command responses (`EnablePostUsernameOverride`; default false). */
  enablePostOverrides?: boolean;
}

/** How {@link FakeMattermost.down} fails requests. */
export type DownMode = 'status' | 'reset';

/** `pending_post_id` dedupe window of the server. */
export const PENDING_POST_WINDOW_MS = 30_000;
/** `response_url` limits (B.3). */
export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_WINDOW_MS = 30 * 60_000;

/** Fake Mattermost server. Seed it, `start()` it, point the bot at the returned URL. */
export class FakeMattermost {
  /** Every inbound request (REST and hooks), oldest first. */
  readonly requests: RequestLogEntry[] = [];
  /** Every request the fake made to the bot, oldest first. */
  readonly outbound: OutboundLogEntry[] = [];
  /** Trigger-id validity for `dialogs/open`, ms. Mutable so tests can switch between 3 s and 30 s. */
  triggerExpiryMs: number;

  private readonly now: () => number;
  private readonly state: MmState;
  private readonly requestId: () => string;
  private readonly faultRand: () => number;
  private readonly env: DriverEnv;
  private server: Server | undefined;
  private baseUrl = '';
  private errorRate = { rate: 0, status: 503, until: undefined as number | undefined };
  private failQueue: number[] = [];
  private downMode: DownMode | undefined;

  constructor(opts: FakeMattermostOptions = {}) {
    this.now = opts.now ?? Date.now;
    const seed = opts.seed ?? 0x5eed;
    this.state = new MmState(this.now, idGenerator(mulberry32(seed)));
    this.requestId = idGenerator(mulberry32(seed ^ 0x9e3779b9));
    this.faultRand = mulberry32(seed + 0x51ed);
    this.triggerExpiryMs = opts.triggerExpiryMs ?? 3000;
    this.env = {
      state: this.state,
      baseUrl: () => this.baseUrl,
      timeoutMs: opts.outgoingTimeoutMs ?? 30_000,
      enableOverrides: opts.enablePostOverrides ?? false,
      logOutbound: (e) => this.outbound.push(e),
    };
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Starts listening on 127.0.0.1 (random port) and resolves to the base URL, e.g. `http://127.0.0.1:41234`. */
  async start(): Promise<string> {
    if (this.server) return this.baseUrl;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendError(res, new MmError(500, 'api.context.500.app_error', err instanceof Error ? err.message : String(err)));
        else res.destroy();
      });
    });
    this.baseUrl = await listenOnLoopback(server);
    this.server = server;
    return this.baseUrl;
  }

  /** Stops the server, closing all open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  /** Base URL after {@link start} (empty before). */
  get url(): string {
    return this.baseUrl;
  }

  // ---- seeding -----------------------------------------------------------------------------

  /** Adds a user (`isAdmin` gives `system_admin`). */
  addUser(opts: { username: string; isAdmin?: boolean }): { id: string; username: string } {
    const u = this.state.addUser(opts.username, { isAdmin: opts.isAdmin ?? false });
    return { id: u.id, username: u.username };
  }

  /**
   * Renames a user, as `PATCH /api/v4/users/{id}/patch {"username"}` does (app.UpdateUser): the id stays, the old
   * name is free for someone else to take.
   */
  renameUser(userId: string, username: string): void {
    const user = this.state.users.get(userId);
    if (!user) throw new Error(`renameUser: unknown user ${userId}`);
    user.username = username.toLowerCase();
    user.update_at = this.now();
  }

  /** Adds a bot account and an access token for it. */
  addBot(opts: { username: string; ownerId?: string; displayName?: string; description?: string; isAdmin?: boolean }): { userId: string; token: string } {
    const u = this.state.addUser(opts.username, { isBot: true, isAdmin: opts.isAdmin ?? false, description: opts.description ?? '' });
    this.state.bots.set(u.id, {
      user_id: u.id, username: u.username, display_name: opts.displayName ?? '', description: opts.description ?? '',
      owner_id: opts.ownerId ?? '', create_at: u.create_at, update_at: u.update_at, delete_at: 0,
    });
    return { userId: u.id, token: this.state.createToken(u.id, 'seed').token };
  }

  /** Creates an access token for a user and returns it. */
  createToken(userId: string): string {
    return this.state.createToken(userId).token;
  }

  /** Revokes a token (later requests with it get 401). */
  revokeToken(token: string): void {
    this.state.tokens.delete(token);
  }

  /** Adds a team. `allowOpenInvite` lets users join it themselves via REST. */
  addTeam(opts: { name: string; displayName?: string; allowOpenInvite?: boolean }): { id: string; name: string } {
    const t = this.state.addTeam(opts.name, opts.displayName);
    t.allow_open_invite = opts.allowOpenInvite ?? false;
    return { id: t.id, name: t.name };
  }

  /** Adds a channel (public `O` by default, or private `P`). */
  addChannel(opts: { teamId: string; name: string; type?: 'O' | 'P'; displayName?: string }): { id: string; name: string } {
    const c = this.state.addChannel(opts.teamId, opts.name, opts.type ?? 'O', opts.displayName);
    return { id: c.id, name: c.name };
  }

  /** A direct message channel between two users (type `D`, no team, named `<id>__<id>`). */
  addDirectChannel(userA: string, userB: string): { id: string; name: string } {
    const c = this.state.addChannel('', [userA, userB].sort().join('__'), 'D');
    this.state.addChannelMember(c.id, userA);
    this.state.addChannelMember(c.id, userB);
    return { id: c.id, name: c.name };
  }

  /**
   * Adds a user to a team as `team_user`, or with `admin` as `team_user team_admin` (which may manage everyone's
   * slash commands; a plain team member may not, as in `MakeDefaultRoles`). Calling it again changes the roles.
   */
  addTeamMember(teamId: string, userId: string, opts: { admin?: boolean } = {}): void {
    this.state.addTeamMember(teamId, userId, opts.admin === undefined ? undefined : opts.admin ? 'team_user team_admin' : 'team_user');
  }

  /** Gives a user a system-wide role, e.g. `system_post_all` (the bot's *post:all*) or `system_post_all_public`. */
  grantSystemRole(userId: string, role: 'system_post_all' | 'system_post_all_public' | 'system_admin'): void {
    this.state.grantSystemRole(userId, role);
  }

  /** Adds permissions to a role, as a permission scheme in the System Console would (e.g. team members may manage their own slash commands). */
  grantRolePermissions(role: string, permissions: readonly string[]): void {
    let set = this.state.rolePermissions.get(role);
    if (!set) this.state.rolePermissions.set(role, (set = new Set()));
    for (const permission of permissions) set.add(permission);
  }

  /** Adds a user to a channel (and to its team, as Mattermost requires). */
  addChannelMember(channelId: string, userId: string): void {
    const ch = this.state.channels.get(channelId);
    if (ch && ch.team_id !== '') this.state.addTeamMember(ch.team_id, userId);
    this.state.addChannelMember(channelId, userId);
  }

  /** Removes a user from a channel. */
  removeChannelMember(channelId: string, userId: string): void {
    this.state.channelMembers.get(channelId)?.delete(userId);
  }

  /** Registers a slash command directly (no REST); returns it with its generated token. */
  addCommand(opts: { teamId: string; trigger: string; url: string; creatorId?: string; method?: 'P' | 'G' }): Command {
    const t = this.now();
    const cmd: Command = {
      id: this.state.newId(), token: this.state.newId(), create_at: t, update_at: t, delete_at: 0, creator_id: opts.creatorId ?? '',
      team_id: opts.teamId, trigger: opts.trigger.toLowerCase(), method: opts.method ?? 'P', username: '', icon_url: '',
      auto_complete: false, auto_complete_desc: '', auto_complete_hint: '', display_name: '', description: '', url: opts.url, plugin_id: '',
    };
    this.state.commands.set(cmd.id, cmd);
    return structuredClone(cmd);
  }

  /** Issues a trigger id as if the user had run a command in the channel (for testing `dialogs/open` directly). */
  issueTriggerId(userId: string, channelId: string): string {
    const ch = this.state.channels.get(channelId);
    return this.state.issueTrigger(userId, channelId, ch?.team_id ?? '', 'slash').triggerId;
  }

  // ---- fault injection ---------------------------------------------------------------------

  /**
   * Fails a random fraction `rate` (0–1) of `/api/v4` requests with `status` (seeded PRNG).
   * `until` is a clock time (ms, per `now`) after which the error rate stops; omit for no end.
   */
  setErrorRate(rate: number, status = 503, until?: number): void {
    this.errorRate = { rate, status, until };
  }

  /** Fails the next `count` `/api/v4` requests with `status`. */
  failNext(count: number, status = 503): void {
    for (let i = 0; i < count; i++) this.failQueue.push(status);
  }

  /** Takes the whole server down (`true`) or back up. `status` mode answers 503; `reset` destroys the socket. */
  down(on = true, mode: DownMode = 'status'): void {
    this.downMode = on ? mode : undefined;
  }

  // ---- drivers (server → bot) --------------------------------------------------------------

  /** Runs `/<trigger> <text>` as `userId` in `channelId` against the registered command (B.3/B.4). */
  runSlashCommand(args: SlashArgs): Promise<SlashResult> {
    return runSlashCommand(this.env, args);
  }

  /**
   * Clicks action `actionId` of post `postId` as `userId` (B.6), resolving the action in the post as stored now:
   * a button that is no longer there fails with 404 without the bot being called, as in Mattermost.
   */
  clickButton(args: ClickArgs): Promise<ClickResult> {
    return clickButton(this.env, args);
  }

  /** Clicks a button on an ephemeral post the user received (the client sends the action's cookie). */
  clickEphemeralButton(args: EphemeralClickArgs): Promise<ClickResult> {
    return clickEphemeralButton(this.env, args);
  }

  /** Submits (or cancels) an opened dialog (B.7). */
  submitDialog(args: DialogSubmitArgs): Promise<DialogSubmitResult> {
    return submitDialog(this.env, args);
  }

  /**
   * A user fills an opened dialog in the web app and clicks submit: the dialog's defaults plus `changes`, checked in
   * the browser first (see `fillDialog`); `clientErrors` when the web app refused to send it.
   */
  async fillAndSubmitDialog(args: { userId?: string; dialogId: string; changes: Record<string, unknown> }): Promise<DialogSubmitResult & { clientErrors?: Record<string, string>; submission: Record<string, unknown> }> {
    const dialog = this.state.dialogs.get(args.dialogId);
    if (!dialog) throw new Error(`fillAndSubmitDialog: unknown dialog ${args.dialogId}`);
    const { submission, clientErrors } = fillDialog(dialog.dialog, args.changes);
    if (Object.keys(clientErrors).length > 0) return { status: 0, body: '', sent: false, closed: false, failed: false, clientErrors, submission };
    return { ...(await submitDialog(this.env, { dialogId: args.dialogId, submission, ...(args.userId ? { userId: args.userId } : {}) })), submission };
  }

  // ---- accessors ---------------------------------------------------------------------------

  /** Live (undeleted) posts as clients see them, oldest first, optionally for one channel. */
  posts(channelId?: string): Post[] {
    return [...this.state.posts.values()]
      .filter((p) => p.delete_at === 0 && (channelId === undefined || p.channel_id === channelId))
      .map((p) => this.state.strip(p));
  }

  /** One post as clients see it (integrations stripped), including deleted ones. */
  post(id: string): Post | undefined {
    const p = this.state.posts.get(id);
    return p ? this.state.strip(p) : undefined;
  }

  /** One post as stored, with `integration` url/context (a copy). */
  storedPost(id: string): Post | undefined {
    const p = this.state.posts.get(id);
    return p ? structuredClone(p) : undefined;
  }

  /** Every version of a post (create, then each update/patch/action update), props unstripped. */
  postHistory(id: string): PostVersion[] {
    return structuredClone(this.state.history.get(id) ?? []);
  }

  /** A thread as clients see it: root then live replies, oldest first. */
  thread(rootId: string): Post[] {
    return this.state.thread(rootId).map((p) => this.state.strip(p));
  }

  /** Ephemeral messages, optionally for one user. */
  ephemerals(userId?: string): EphemeralRecord[] {
    return structuredClone(this.state.ephemerals.filter((e) => userId === undefined || e.user_id === userId));
  }

  /** Dialogs opened by the bot, oldest first. */
  dialogs(): DialogRecord[] {
    return structuredClone([...this.state.dialogs.values()]);
  }

  /** Live commands (with tokens), optionally for one team. */
  commands(teamId?: string): Command[] {
    return structuredClone([...this.state.commands.values()].filter((c) => c.delete_at === 0 && (teamId === undefined || c.team_id === teamId)));
  }

  /** Who each new post notified (mentions, `@channel`, direct messages), oldest first; edits notify nobody. */
  notifications(userId?: string): Array<{ postId: string; channelId: string; userId: string; reason: 'mention' | 'channel' | 'dm'; at: number }> {
    return structuredClone(this.state.notifications.filter((n) => userId === undefined || n.userId === userId));
  }

  /** Mentions of people who are not in the channel (nobody was notified; Mattermost tells the sender). */
  outOfChannelMentions(): Array<{ postId: string; senderId: string; usernames: string[] }> {
    return structuredClone(this.state.outOfChannelMentions);
  }

  /** `pending_post_id` dedupes performed by `POST /posts`. */
  dedupes(): DedupeRecord[] {
    return structuredClone(this.state.dedupes);
  }

  /** Trigger ids issued so far. */
  triggers(): TriggerRecord[] {
    return structuredClone([...this.state.triggers.values()]);
  }

  /** Users, teams and channels by id. */
  user(id: string): MmUser | undefined {
    const u = this.state.users.get(id);
    return u ? structuredClone(u) : undefined;
  }
  team(id: string): MmTeam | undefined {
    const t = this.state.teams.get(id);
    return t ? structuredClone(t) : undefined;
  }
  channel(id: string): MmChannel | undefined {
    const c = this.state.channels.get(id);
    return c ? structuredClone(c) : undefined;
  }

  /** Whether a user is a member of a team / channel. */
  isTeamMember(teamId: string, userId: string): boolean {
    return this.state.isTeamMember(teamId, userId);
  }
  isChannelMember(channelId: string, userId: string): boolean {
    return this.state.isChannelMember(channelId, userId);
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private sendError(res: ServerResponse, err: MmError): number {
    const requestId = this.requestId();
    sendJson(res, err.status, { id: err.id, message: err.message, detailed_error: err.detailed, request_id: requestId, status_code: err.status }, { 'X-Request-Id': requestId });
    return err.status;
  }

  private takeFault(): number | undefined {
    const queued = this.failQueue.shift();
    if (queued !== undefined) return queued;
    const { rate, status, until } = this.errorRate;
    if (rate > 0 && (until === undefined || this.now() < until) && this.faultRand() < rate) return status;
    return undefined;
  }

  private tokenUser(req: IncomingMessage, url: URL): string | undefined {
    const auth = req.headers.authorization?.trim() ?? '';
    const m = /^(bearer|token)\s+(\S+)$/i.exec(auth);
    let token = m?.[2];
    if (token === undefined) {
      const cookie = /(?:^|;\s*)MMAUTHTOKEN=([^;]+)/.exec(req.headers.cookie ?? '');
      token = cookie?.[1] ?? url.searchParams.get('access_token') ?? undefined;
    }
    if (token === undefined) return undefined;
    const rec = this.state.tokens.get(token);
    return rec?.isActive && this.state.users.has(rec.userId) ? rec.userId : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    const entry: RequestLogEntry = { method, path: url.pathname, query: url.search, body: tryParseJson(raw) ?? raw, at: this.now() };
    this.requests.push(entry);
    if (this.downMode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (this.downMode === 'status') {
      entry.status = this.sendError(res, new MmError(503, 'api.context.server_unavailable.app_error', 'Server is down (fault injection).'));
      return;
    }
    const hook = /^\/hooks\/commands\/([^/]+)$/.exec(url.pathname);
    if (hook && method === 'POST') {
      entry.status = this.handleHook(hook[1] ?? '', req.headers['content-type'], raw, res);
      return;
    }
    if (!url.pathname.startsWith('/api/v4/')) {
      entry.status = this.sendError(res, new MmError(404, 'api.context.404.app_error', 'Sorry, we could not find the page.'));
      return;
    }
    const fault = this.takeFault();
    if (fault !== undefined) {
      entry.status = this.sendError(res, new MmError(fault, 'api.context.fault_injection.app_error', `Injected failure ${fault}.`));
      return;
    }
    const userId = this.tokenUser(req, url);
    if (userId !== undefined) entry.userId = userId;
    const deps: RestDeps = {
      state: this.state,
      triggerExpiryMs: () => this.triggerExpiryMs,
      runSlash: (a) => runSlashCommand(this.env, a),
      click: (a) => clickButton(this.env, a),
      submitDialogRaw: (u, payload) => postDialogSubmission(this.env, u, payload),
    };
    try {
      const parsedBody = raw.trim() === '' ? undefined : tryParseJson(raw);
      if (raw.trim() !== '' && parsedBody === undefined) throw new MmError(400, 'api.context.invalid_body_param.app_error', 'Request body is not valid JSON.');
      const segs = url.pathname.slice('/api/v4/'.length).split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
      const reply = await handleRest(deps, { method, segs, query: url.searchParams, body: parsedBody, userId });
      sendJson(res, reply.status, reply.body);
      entry.status = reply.status;
    } catch (err) {
      if (!(err instanceof MmError)) throw err;
      entry.status = this.sendError(res, err);
    }
  }

  /** `POST /hooks/commands/<id>`: the slash command `response_url` (≤5 uses within 30 minutes). */
  private handleHook(id: string, contentType: string | undefined, raw: string, res: ServerResponse): number {
    const hook = this.state.hooks.get(id);
    if (!hook) return this.sendError(res, new MmError(400, 'web.command_webhook.invalid.app_error', 'Invalid webhook.'));
    if (hook.uses >= RESPONSE_URL_MAX_USES || this.now() - hook.createdAt > RESPONSE_URL_WINDOW_MS) {
      return this.sendError(res, new MmError(400, 'app.command_webhook.try_use.invalid', 'Invalid webhook: use limit or time window exceeded.'));
    }
    const response = parseCommandResponse(contentType ?? '', raw);
    if (!response) return this.sendError(res, new MmError(400, 'web.command_webhook.parse.app_error', 'Unable to parse incoming data.'));
    hook.uses += 1;
    try {
      applyCommandResponse(this.env, response, { userId: hook.userId, channelId: hook.channelId, rootId: hook.rootId }, 'response_url');
    } catch (err) {
      if (err instanceof MmError) return this.sendError(res, err);
      throw err;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    return 200;
  }
}

