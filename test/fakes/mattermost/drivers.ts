/**
 * Outbound drivers (server → bot): slash commands (B.3/B.4), button clicks (B.6) and dialog
 * submissions (B.7). Each makes a real HTTP request to the bot and applies its answer to the state.
 */
import { MmError, type MmState, type PostActionCookie } from './state.js';
import type {
  ClickResult,
  CommandResponse,
  DialogSubmitResult,
  OutboundLogEntry,
  Post,
  SlashResult,
} from './types.js';
import { isRecord, mediaType, sendRequest, tryParseJson, type OutboundResponse } from './util.js';
import { goMapRoundTrip, goMarshal } from './go-json.js';

/** What the drivers need from the fake server. */
export interface DriverEnv {
  state: MmState;
  baseUrl(): string;
  timeoutMs: number;
  enableOverrides: boolean;
  logOutbound(e: OutboundLogEntry): void;
}

/** Arguments of {@link runSlashCommand}. */
export interface SlashArgs {
  userId: string;
  channelId: string;
  /** Text after the trigger. A leading `/<trigger>` is stripped if present. */
  text: string;
  /** Trigger without `/`; default `elrond`. */
  trigger?: string;
  /** Override the registered command URL (no registration needed). */
  url?: string;
  /** Override the registered command token. */
  token?: string;
  rootId?: string;
  method?: 'P' | 'G';
  /** The team the client is in, for a direct message channel (which has none of its own). */
  teamId?: string;
}

/** Arguments of {@link clickButton}. */
export interface ClickArgs {
  userId: string;
  postId: string;
  actionId: string;
  selectedOption?: string;
  /** The action's cookie, which the client sends for a button on an ephemeral post (`DoPostActionRequest.Cookie`). */
  cookie?: string;
}

/** Arguments of {@link clickEphemeralButton}. */
export interface EphemeralClickArgs {
  userId: string;
  /** The ephemeral post's id ({@link EphemeralRecord.id}). */
  ephemeralId: string;
  actionId: string;
  selectedOption?: string;
}

/** Arguments of {@link submitDialog}. */
export interface DialogSubmitArgs {
  /** Default: the user the dialog was opened for. */
  userId?: string;
  dialogId: string;
  submission: Record<string, unknown>;
  cancelled?: boolean;
}

/** The retained props of B.6 (kept from the original post when an action `update` replaces props). */
export const RETAINED_PROPS = ['from_webhook', 'override_username', 'override_icon_url'] as const;

async function send(
  env: DriverEnv,
  kind: OutboundLogEntry['kind'],
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<OutboundResponse | { error: string }> {
  const at = env.state.now();
  try {
    const res = await sendRequest(url, { method, headers, body, timeoutMs: env.timeoutMs });
    env.logOutbound({ kind, method, url, headers, body: body ?? '', at, status: res.status, responseBody: res.body });
    return res;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    env.logOutbound({ kind, method, url, headers, body: body ?? '', at, status: 0, responseBody: '', error });
    return { error };
  }
}

/** Context a command response is applied in. */
export interface ResponseContext {
  userId: string;
  channelId: string;
  rootId: string;
}

/** Outcome of applying a CommandResponse. */
export interface AppliedResponse {
  ephemeral?: string;
  post?: Post;
  extraPosts: Post[];
  extraEphemerals: string[];
  gotoLocation?: string;
}

/** Applies a CommandResponse per B.4: ephemeral vs in_channel (posted as the user), `extra_responses`. */
export function applyCommandResponse(
  env: DriverEnv,
  response: CommandResponse,
  ctx: ResponseContext,
  source: 'slash' | 'response_url',
): AppliedResponse {
  const { state } = env;
  const out: AppliedResponse = { extraPosts: [], extraEphemerals: [] };
  const applyOne = (r: CommandResponse, extra: boolean): void => {
    const channelId = typeof r.channel_id === 'string' && r.channel_id !== '' ? r.channel_id : ctx.channelId;
    if (channelId !== ctx.channelId) {
      const ch = state.channels.get(channelId);
      if (!ch || !state.isChannelMember(channelId, ctx.userId)) {
        throw new MmError(403, 'api.command.command_post.forbidden.app_error', 'Specified user is not a member of specified channel.');
      }
    }
    const text = typeof r.text === 'string' ? r.text : '';
    const attachments = Array.isArray(r.attachments) ? r.attachments : undefined;
    const props: Record<string, unknown> = isRecord(r.props) ? structuredClone(r.props) : {};
    if (attachments) props.attachments = structuredClone(attachments);
    if (r.response_type === 'in_channel') {
      props.from_webhook = 'true';
      if (env.enableOverrides && typeof r.username === 'string' && r.username !== '') props.override_username = r.username;
      if (env.enableOverrides && typeof r.icon_url === 'string' && r.icon_url !== '') props.override_icon_url = r.icon_url;
      const type = typeof r.type === 'string' && r.type.startsWith('custom_') ? r.type : '';
      const post = state.createPost({ userId: ctx.userId, channelId, message: text, rootId: ctx.rootId, props, type });
      if (extra) out.extraPosts.push(state.strip(post));
      else out.post = state.strip(post);
    } else if (text !== '' || (attachments !== undefined && attachments.length > 0)) {
      state.addEphemeral({ userId: ctx.userId, channelId, rootId: ctx.rootId, message: text, props, source });
      if (extra) out.extraEphemerals.push(text);
      else out.ephemeral = text;
    }
  };
  applyOne(response, false);
  if (typeof response.goto_location === 'string' && response.goto_location !== '') out.gotoLocation = response.goto_location;
  if (Array.isArray(response.extra_responses)) {
    for (const extra of response.extra_responses) if (isRecord(extra)) applyOne(extra as CommandResponse, true);
  }
  return out;
}

/** Parses a command/webhook answer per B.4: JSON only for `application/json`, else plain text. */
export function parseCommandResponse(contentType: string, body: string): CommandResponse | undefined {
  if (mediaType(contentType) === 'application/json') {
    const parsed = tryParseJson(body);
    return isRecord(parsed) ? (parsed as CommandResponse) : undefined;
  }
  return { text: body };
}

function mentions(env: DriverEnv, teamId: string, text: string): URLSearchParams {
  const out = new URLSearchParams();
  const seenUsers = new Set<string>();
  for (const m of text.matchAll(/@([a-z0-9._-]+)/gi)) {
    const user = env.state.userByName(m[1] ?? '');
    if (user && !seenUsers.has(user.id)) {
      seenUsers.add(user.id);
      out.append('user_mentions', user.username);
      out.append('user_mentions_ids', user.id);
    }
  }
  const seenChannels = new Set<string>();
  for (const m of text.matchAll(/~([a-z0-9_-]+)/gi)) {
    const ch = env.state.channelByName(teamId, (m[1] ?? '').toLowerCase());
    if (ch && ch.type === 'O' && !seenChannels.has(ch.id)) {
      seenChannels.add(ch.id);
      out.append('channel_mentions', ch.name);
      out.append('channel_mentions_ids', ch.id);
    }
  }
  return out;
}

/** Runs a slash command: B.3 request to the command URL, then the B.4 response rules. */
export async function runSlashCommand(env: DriverEnv, args: SlashArgs): Promise<SlashResult> {
  const { state } = env;
  const user = state.users.get(args.userId);
  const channel = state.channels.get(args.channelId);
  if (!user) throw new Error(`runSlashCommand: unknown user ${args.userId}`);
  if (!channel) throw new Error(`runSlashCommand: unknown channel ${args.channelId}`);
  const team = state.teams.get(channel.team_id !== '' ? channel.team_id : args.teamId ?? '');
  if (!team) throw new Error(`runSlashCommand: channel ${channel.id} has no team (pass teamId for a direct message)`);
  const trigger = (args.trigger ?? 'elrond').replace(/^\//, '').toLowerCase();
  const cmd = [...state.commands.values()].find((c) => c.team_id === team.id && c.trigger === trigger && c.delete_at === 0);
  const url = args.url ?? cmd?.url;
  const token = args.token ?? cmd?.token ?? '';
  if (url === undefined) throw new Error(`runSlashCommand: no /${trigger} command registered in team ${team.name}`);
  const method = args.method ?? cmd?.method ?? 'P';
  let text = args.text;
  const prefix = new RegExp(`^/${trigger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s+|$)`, 'i');
  text = text.replace(prefix, '');
  const rootId = args.rootId ?? '';

  const trig = state.issueTrigger(user.id, channel.id, team.id, 'slash');
  const hookId = state.newId();
  state.hooks.set(hookId, { id: hookId, userId: user.id, channelId: channel.id, teamId: team.id, rootId, commandId: cmd?.id ?? '', createdAt: state.now(), uses: 0 });
  const responseUrl = `${env.baseUrl()}/hooks/commands/${hookId}`;
  const base: SlashResult = { status: 0, body: '', extraPosts: [], extraEphemerals: [], failed: true, triggerId: trig.triggerId, responseUrl };

  if (!state.canPost(user.id, channel)) return { ...base, status: 403, error: 'user cannot use slash commands in this channel' };

  const form = new URLSearchParams({
    token, team_id: team.id, team_domain: team.name, channel_id: channel.id, channel_name: channel.name,
    user_id: user.id, user_name: user.username, command: `/${trigger}`, text, trigger_id: trig.triggerId, response_url: responseUrl,
  });
  for (const [k, v] of mentions(env, team.id, text)) form.append(k, v);
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Token ${token}` };
  let res: OutboundResponse | { error: string };
  if (method === 'G') {
    const target = new URL(url);
    for (const [k, v] of form) target.searchParams.append(k, v);
    res = await send(env, 'slash', target.toString(), 'GET', headers, undefined);
  } else {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    res = await send(env, 'slash', url, 'POST', headers, form.toString());
  }
  if ('error' in res) return { ...base, error: res.error };
  const withRes = { ...base, status: res.status, body: res.body };
  if (res.status !== 200) return { ...withRes, error: `command failed with status ${res.status}` };
  const response = parseCommandResponse(res.contentType, res.body);
  if (!response) return { ...withRes, error: 'invalid JSON command response' };
  response.trigger_id = trig.triggerId;
  try {
    const applied = applyCommandResponse(env, response, { userId: user.id, channelId: channel.id, rootId }, 'slash');
    return { ...withRes, ...applied, response, failed: false };
  } catch (err) {
    return { ...withRes, response, error: err instanceof Error ? err.message : String(err) };
  }
}

/** A click Mattermost refused itself, before or instead of calling the bot. */
function refused(base: ClickResult, status: number, errorId: string, error: string): ClickResult {
  return { ...base, status, errorId, error, failed: true };
}

/**
 * A click on a message button or select, as `doPostAction` (api4/action.go) and `App.DoPostActionWithCookie` do it.
 * The action is looked up by id in the post **as stored now** (`Post.GetAction`), not the copy the user saw: a
 * button that is gone answers 404 and the bot is never called. A post that is not stored (an ephemeral one) is
 * clicked through its cookie. The bot receives the context re-marshalled from a Go map (keys sorted, float64).
 */
export async function clickButton(env: DriverEnv, args: ClickArgs): Promise<ClickResult> {
  const { state } = env;
  const user = state.users.get(args.userId);
  if (!user) throw new Error(`clickButton: unknown user ${args.userId}`);
  const base: ClickResult = { status: 0, body: '', sent: false, triggerId: '', failed: true };
  if (!/^[A-Za-z0-9]+$/.test(args.actionId)) return refused(base, 404, 'api.context.404.app_error', 'the route /actions/{action_id:[A-Za-z0-9]+} does not match');
  const stored = state.posts.get(args.postId);
  const post = stored && stored.delete_at === 0 ? stored : undefined;
  let cookie: PostActionCookie | undefined;
  if (args.cookie !== undefined && args.cookie !== '') {
    cookie = state.openCookie(args.cookie);
    if (!cookie) return refused(base, 400, 'api.post.do_action.action_integration.app_error', 'the cookie does not decrypt');
    const ch = state.channels.get(cookie.channel_id ?? '');
    if (!ch) return refused(base, 404, 'app.channel.get.existing.app_error', 'the cookie\'s channel does not exist');
    if (!state.canReadChannel(user.id, ch)) return refused(base, 403, 'api.context.permissions.app_error', 'no read permission on the channel');
  } else {
    const ch = post ? state.channels.get(post.channel_id) : undefined;
    if (!post || !ch || !state.canReadChannel(user.id, ch)) return refused(base, 403, 'api.context.permissions.app_error', 'no read permission on the post');
  }

  let channelId: string;
  let type: string;
  let dataSource: string;
  let url: string;
  let context: Record<string, unknown> | undefined;
  let rootPostId: string;
  if (!post) {
    if (!cookie) return refused(base, 404, 'app.post.get.app_error', 'no such post');
    if (!cookie.integration) return refused(base, 400, 'api.post.do_action.action_integration.app_error', 'no Integration in action cookie');
    if (args.postId !== cookie.post_id) return refused(base, 400, 'api.post.do_action.action_integration.app_error', 'postId doesn\'t match');
    channelId = cookie.channel_id ?? '';
    type = cookie.type ?? '';
    dataSource = cookie.data_source ?? '';
    url = cookie.integration.url ?? '';
    context = cookie.integration.context;
    rootPostId = cookie.root_post_id ?? '';
  } else {
    let action: Record<string, unknown> | undefined;
    const attachments = Array.isArray(post.props.attachments) ? post.props.attachments : [];
    for (const att of attachments) {
      if (!isRecord(att) || !Array.isArray(att.actions)) continue;
      for (const a of att.actions) if (!action && isRecord(a) && a.id === args.actionId) action = a;
    }
    const integration = action && isRecord(action.integration) ? action.integration : undefined;
    if (!action || !integration) return refused(base, 404, 'api.post.do_action.action_id.app_error', `post ${post.id} has no action ${args.actionId} (now)`);
    channelId = post.channel_id;
    type = typeof action.type === 'string' ? action.type : '';
    dataSource = typeof action.data_source === 'string' ? action.data_source : '';
    url = typeof integration.url === 'string' ? integration.url : '';
    context = isRecord(integration.context) ? structuredClone(integration.context) : undefined;
    rootPostId = post.root_id === '' ? post.id : post.root_id;
  }
  const channel = state.channels.get(channelId);
  if (!channel) return refused(base, 404, 'app.channel.get.existing.app_error', 'no such channel');
  const team = state.teams.get(channel.team_id);
  const trig = state.issueTrigger(user.id, channel.id, channel.team_id, 'action');
  const withTrigger = { ...base, triggerId: trig.triggerId };
  if (type === 'select' && args.selectedOption !== undefined && args.selectedOption !== '') {
    context = { ...(context ?? {}), selected_option: args.selectedOption };
  } else dataSource = '';
  if (url === '') return refused(withTrigger, 400, 'api.post.do_action.action_integration.app_error', 'action has no integration url');
  // json.Marshal(PostActionIntegrationRequest): struct fields in order, the context map sorted, `omitempty` on it.
  const goContext = context && Object.keys(context).length > 0 ? goMapRoundTrip(context) : undefined;
  const body = goMarshal({
    user_id: user.id, user_name: user.username, channel_id: channel.id, channel_name: channel.name, team_id: channel.team_id,
    team_domain: team?.name ?? '', post_id: args.postId, trigger_id: trig.triggerId, type, data_source: dataSource,
    ...(goContext !== undefined ? { context: goContext } : {}),
  });
  const res = await send(env, 'action', url, 'POST', { 'Content-Type': 'application/json', Accept: 'application/json' }, body);
  if ('error' in res) return refused({ ...withTrigger, sent: true }, 400, 'api.post.do_action.action_integration.app_error', res.error);
  const withRes = { ...withTrigger, sent: true, status: res.status, body: res.body };
  if (res.status !== 200) return { ...withRes, errorId: 'api.post.do_action.action_integration.app_error', error: `integration answered ${res.status}` };
  const parsed = res.body.length === 0 ? {} : tryParseJson(res.body);
  if (!isRecord(parsed)) return { ...withRes, errorId: 'api.post.do_action.action_integration.app_error', error: 'invalid JSON integration response' };
  const result: ClickResult = { ...withRes, failed: false };
  if (isRecord(parsed.update)) {
    // response.Update is applied with UpdatePost: id forced, is_pinned/has_reactions kept, props kept when null,
    // else replaced with the retained keys restored. An ephemeral post is not stored, so its update fails.
    if (!post) return { ...result, failed: true, status: 404, errorId: 'app.post.get.app_error', error: 'an ephemeral post cannot be updated' };
    const update = parsed.update;
    const original = post.props;
    let props: Record<string, unknown>;
    if (!isRecord(update.props)) {
      props = structuredClone(original);
    } else {
      props = structuredClone(update.props);
      for (const key of RETAINED_PROPS) {
        if (key in original) props[key] = original[key];
        else delete props[key];
      }
    }
    const message = typeof update.message === 'string' ? update.message : '';
    const updated = state.updatePost(post.id, { message, props, isPinned: post.is_pinned, hasReactions: post.has_reactions, fileIds: post.file_ids }, 'action');
    result.updatedPost = state.strip(updated);
  }
  if (typeof parsed.ephemeral_text === 'string' && parsed.ephemeral_text !== '') {
    state.addEphemeral({ userId: user.id, channelId: channel.id, rootId: rootPostId, message: parsed.ephemeral_text, source: 'action' });
    result.ephemeralText = parsed.ephemeral_text;
  }
  return result;
}

/** A click on a button of an ephemeral post the user received: the client sends the action's cookie. */
export async function clickEphemeralButton(env: DriverEnv, args: EphemeralClickArgs): Promise<ClickResult> {
  const ephemeral = env.state.ephemerals.find((e) => e.id === args.ephemeralId && e.user_id === args.userId);
  if (!ephemeral) throw new Error(`clickEphemeralButton: user ${args.userId} has no ephemeral post ${args.ephemeralId}`);
  let cookie: string | undefined;
  const attachments = Array.isArray(ephemeral.props.attachments) ? ephemeral.props.attachments : [];
  for (const att of attachments) {
    if (!isRecord(att) || !Array.isArray(att.actions)) continue;
    for (const a of att.actions) if (isRecord(a) && a.id === args.actionId && typeof a.cookie === 'string') cookie = a.cookie;
  }
  if (cookie === undefined) throw new Error(`clickEphemeralButton: ephemeral post ${args.ephemeralId} has no action ${args.actionId}`);
  return clickButton(env, { userId: args.userId, postId: args.ephemeralId, actionId: args.actionId, cookie, ...(args.selectedOption !== undefined ? { selectedOption: args.selectedOption } : {}) });
}

/** Sends one `dialog_submission` to `url` and interprets the answer per B.7. */
export async function postDialogSubmission(env: DriverEnv, url: string, payload: Record<string, unknown>): Promise<DialogSubmitResult> {
  const base: DialogSubmitResult = { status: 0, body: '', sent: true, closed: false, failed: true };
  const res = await send(env, 'dialog_submission', url, 'POST', { 'Content-Type': 'application/json', Accept: 'application/json' }, JSON.stringify(payload));
  if ('error' in res) return base;
  const withRes = { ...base, status: res.status, body: res.body };
  if (res.status !== 200) return withRes;
  if (res.body.trim() === '') return { ...withRes, failed: false, closed: true };
  const parsed = tryParseJson(res.body);
  if (!isRecord(parsed)) return withRes;
  const out: DialogSubmitResult = { ...withRes, failed: false };
  if (isRecord(parsed.errors) && Object.keys(parsed.errors).length > 0) {
    out.errors = Object.fromEntries(Object.entries(parsed.errors).map(([k, v]) => [k, String(v)]));
  }
  if (typeof parsed.error === 'string' && parsed.error !== '') out.error = parsed.error;
  if (parsed.type === 'form' && isRecord(parsed.form)) out.form = parsed.form;
  out.closed = out.errors === undefined && out.error === undefined && out.form === undefined;
  return out;
}

/**
 * What the web app submits when a user fills a dialog in: `InteractiveDialog`'s initial values (a `bool` element
 * is `String(default).toLowerCase() === 'true'`, any other its `default` or null), the user's `changes` on top, then
 * `checkDialogElementForError` on every element (an empty value of a required element, text shorter than
 * `min_length` or longer than `max_length`): any such error stays in the browser and nothing is sent.
 */
export function fillDialog(dialog: Record<string, unknown>, changes: Record<string, unknown>): { submission: Record<string, unknown>; clientErrors: Record<string, string> } {
  const submission: Record<string, unknown> = {};
  const clientErrors: Record<string, string> = {};
  const elements = Array.isArray(dialog.elements) ? dialog.elements.filter(isRecord) : [];
  for (const element of elements) {
    const name = typeof element.name === 'string' ? element.name : '';
    submission[name] = element.type === 'bool' ? String(element.default).toLowerCase() === 'true' : (element.default ?? null);
  }
  Object.assign(submission, changes);
  for (const element of elements) {
    const name = typeof element.name === 'string' ? element.name : '';
    const value = submission[name];
    const empty = typeof value === 'boolean' ? false : value === 0 ? false : Array.isArray(value) ? value.length === 0 : !value;
    if (empty && element.optional !== true) clientErrors[name] = 'This field is required.';
    else if ((element.type === 'text' || element.type === 'textarea') && typeof value === 'string' && value !== '') {
      if (typeof element.min_length === 'number' && value.length < element.min_length) clientErrors[name] = `Minimum input length is ${element.min_length}.`;
      else if (typeof element.max_length === 'number' && element.max_length > 0 && value.length > element.max_length) clientErrors[name] = `Maximum input length is ${element.max_length}.`;
    }
  }
  return { submission, clientErrors };
}

/** Submits (or cancels) a dialog previously opened by the bot. */
export async function submitDialog(env: DriverEnv, args: DialogSubmitArgs): Promise<DialogSubmitResult> {
  const dialog = env.state.dialogs.get(args.dialogId);
  if (!dialog) throw new Error(`submitDialog: unknown dialog ${args.dialogId}`);
  const cancelled = args.cancelled ?? false;
  if (cancelled && dialog.dialog.notify_on_cancel !== true) {
    return { status: 0, body: '', sent: false, closed: true, failed: false };
  }
  const payload = {
    type: 'dialog_submission',
    callback_id: typeof dialog.dialog.callback_id === 'string' ? dialog.dialog.callback_id : '',
    state: typeof dialog.dialog.state === 'string' ? dialog.dialog.state : '',
    user_id: args.userId ?? dialog.userId,
    channel_id: dialog.channelId,
    team_id: dialog.teamId,
    submission: cancelled ? {} : args.submission,
    cancelled,
  };
  const result = await postDialogSubmission(env, dialog.url, payload);
  if (result.form) dialog.dialog = structuredClone(result.form);
  return result;
}
