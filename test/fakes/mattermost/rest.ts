/**
 * REST routes under `/api/v4` of the fake Mattermost server (B.1–B.8). Handlers return a
 * {@link Reply} or throw {@link MmError}; the server turns both into JSON responses.
 */
import type { ClickArgs, SlashArgs } from './drivers.js';
import { MmError, forbidden, invalidParam, notFound, type MmState, type PostEdit } from './state.js';
import { dialogProblems } from './dialog-validation.js';
import type { ClickResult, Command, DialogSubmitResult, MmChannel, Post, SlashResult } from './types.js';
import { isRecord } from './util.js';

/** A parsed REST request. `segs` are the path segments after `/api/v4`. */
export interface RestRequest {
  method: string;
  segs: string[];
  query: URLSearchParams;
  body: unknown;
  /** Authenticated user, when a valid token was sent. */
  userId: string | undefined;
}

/** A JSON reply. */
export interface Reply {
  status: number;
  body: unknown;
}

/** Services the routes need besides the state. */
export interface RestDeps {
  state: MmState;
  triggerExpiryMs(): number;
  runSlash(args: SlashArgs): Promise<SlashResult>;
  click(args: ClickArgs): Promise<ClickResult>;
  submitDialogRaw(url: string, payload: Record<string, unknown>): Promise<DialogSubmitResult>;
}

/** Commands built into the server; registering a custom command with these triggers is a duplicate (400). */
export const BUILTIN_TRIGGERS = new Set([
  'away', 'code', 'collapse', 'dnd', 'echo', 'expand', 'groupmsg', 'header', 'help', 'invite', 'invite_people', 'join',
  'kick', 'leave', 'logout', 'me', 'msg', 'mute', 'offline', 'online', 'open', 'purpose', 'remove', 'rename', 'search',
  'settings', 'shortcuts', 'shrug', 'status', 'marketplace', 'custom_status',
]);

const OK = { status: 'OK' };

function unauthorized(): MmError {
  return new MmError(401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
}

function badBody(name = 'body'): MmError {
  return new MmError(400, 'api.context.invalid_body_param.app_error', `Invalid or missing ${name} in request body.`);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function match(pattern: string, segs: string[]): Record<string, string> | undefined {
  const parts = pattern.split('/');
  if (parts.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    const s = segs[i] ?? '';
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}

/** Validates a command per B.2 (trigger, url, method, lengths, duplicates). */
function validateCommand(state: MmState, cmd: Command): void {
  const bad = (field: string, msg: string): MmError => new MmError(400, `model.command.is_valid.${field}.app_error`, msg);
  if (cmd.trigger.length < 1 || cmd.trigger.length > 128 || cmd.trigger.startsWith('/') || cmd.trigger.includes(' ')) {
    throw bad('trigger', 'Invalid trigger.');
  }
  if (cmd.url.length < 1 || cmd.url.length > 1024) throw bad('url', 'Invalid URL.');
  let parsed: URL | undefined;
  try {
    parsed = new URL(cmd.url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw bad('url_http', 'Invalid URL. Must be a valid URL and start with http:// or https://.');
  if (cmd.method !== 'P' && cmd.method !== 'G') throw bad('method', 'Invalid Method.');
  if (cmd.display_name.length > 64) throw bad('display_name', 'Invalid title.');
  if (cmd.description.length > 128) throw bad('description', 'Invalid description.');
  const dup = BUILTIN_TRIGGERS.has(cmd.trigger) || [...state.commands.values()].some(
    (c) => c.id !== cmd.id && c.team_id === cmd.team_id && c.delete_at === 0 && c.trigger === cmd.trigger,
  );
  if (dup) throw new MmError(400, 'api.command.duplicate_trigger.app_error', 'This trigger word is already in use. Please choose another word.');
}

function commandFromBody(body: Record<string, unknown>, base: Pick<Command, 'id' | 'token' | 'create_at' | 'update_at' | 'delete_at' | 'creator_id' | 'team_id' | 'plugin_id'>): Command {
  const method = str(body.method).toUpperCase();
  return {
    ...base,
    trigger: str(body.trigger).toLowerCase(),
    // Anything but P/G is rejected by validateCommand before the command is stored.
    method: method as Command['method'],
    username: str(body.username),
    icon_url: str(body.icon_url),
    auto_complete: body.auto_complete === true,
    auto_complete_desc: str(body.auto_complete_desc),
    auto_complete_hint: str(body.auto_complete_hint),
    display_name: str(body.display_name),
    description: str(body.description),
    url: str(body.url),
  };
}

function postList(state: MmState, posts: Post[]): Record<string, unknown> {
  const sorted = [...posts].sort((a, b) => b.create_at - a.create_at);
  return {
    order: sorted.map((p) => p.id),
    posts: Object.fromEntries(sorted.map((p) => [p.id, state.strip(p)])),
    next_post_id: '', prev_post_id: '', has_next: false, first_inaccessible_post_time: 0,
  };
}

/** Handles one `/api/v4` request. */
export async function handleRest(deps: RestDeps, req: RestRequest): Promise<Reply> {
  const { state } = deps;
  const { method, segs } = req;
  const body = isRecord(req.body) ? req.body : undefined;
  const objBody = (): Record<string, unknown> => {
    if (!body) throw badBody();
    return body;
  };

  // ---- no session: dialogs/open (the trigger id is the credential) ----
  if (method === 'POST' && match('actions/dialogs/open', segs)) {
    const b = objBody();
    const trig = state.triggers.get(str(b.trigger_id));
    if (!trig) throw new MmError(400, 'interactive_message.decode_trigger_id.signature_decode_failed', 'Unable to decode trigger ID for interactive dialog.');
    if (state.now() - trig.issuedAt > deps.triggerExpiryMs()) {
      throw new MmError(400, 'interactive_message.decode_trigger_id.expired', `Trigger ID for interactive dialog is expired. Maximum time is ${deps.triggerExpiryMs() / 1000} seconds.`);
    }
    if (str(b.url) === '') throw invalidParam('url');
    if (!isRecord(b.dialog)) throw badBody('dialog');
    const id = state.newId();
    state.dialogs.set(id, {
      id, triggerId: trig.triggerId, url: str(b.url), dialog: structuredClone(b.dialog), userId: trig.userId,
      channelId: trig.channelId, teamId: trig.teamId, openedAt: state.now(), warnings: dialogProblems(b.dialog),
    });
    return { status: 200, body: OK };
  }

  const me = req.userId;
  if (me === undefined) throw unauthorized();
  let p: Record<string, string> | undefined;
  const readable = (channelId: string): MmChannel => {
    const ch = state.channels.get(channelId);
    if (!ch) throw notFound('channel');
    if (!state.canReadChannel(me, ch)) throw forbidden();
    return ch;
  };
  const livePost = (id: string): Post => {
    const post = state.posts.get(id);
    if (!post || post.delete_at !== 0) throw notFound('post');
    readable(post.channel_id);
    return post;
  };

  // ---- users, bots, tokens ----
  if (method === 'GET' && match('users/me', segs)) return { status: 200, body: state.users.get(me) };
  if (method === 'GET' && (p = match('users/username/:name', segs))) {
    const u = state.userByName(p.name ?? '');
    if (!u) throw notFound('user');
    return { status: 200, body: u };
  }
  if (method === 'GET' && (p = match('users/:id', segs))) {
    const u = state.users.get(p.id ?? '');
    if (!u) throw notFound('user');
    return { status: 200, body: u };
  }
  if (method === 'POST' && (p = match('users/:id/tokens', segs))) {
    const target = p.id === 'me' ? me : p.id ?? '';
    if (!state.isAdmin(me) && target !== me) throw forbidden();
    const rec = state.createToken(target, str(body?.description));
    return { status: 200, body: { id: rec.id, token: rec.token, user_id: rec.userId, description: rec.description, is_active: true } };
  }
  if (method === 'POST' && match('bots', segs)) {
    const b = objBody();
    if (!state.isAdmin(me)) throw forbidden('create_bot');
    if (str(b.username) === '') throw invalidParam('username');
    const user = state.addUser(str(b.username), { isBot: true, description: str(b.description) });
    const bot = {
      user_id: user.id, username: user.username, display_name: str(b.display_name), description: str(b.description),
      owner_id: me, create_at: user.create_at, update_at: user.update_at, delete_at: 0,
    };
    state.bots.set(user.id, bot);
    return { status: 201, body: bot };
  }

  // ---- teams, channels, membership ----
  if (method === 'GET' && (p = match('teams/name/:team/channels/name/:channel', segs))) {
    const team = state.teamByName(p.team ?? '');
    if (!team) throw notFound('team');
    const ch = state.channelByName(team.id, p.channel ?? '');
    if (!ch) throw notFound('channel');
    return { status: 200, body: readable(ch.id) };
  }
  if (method === 'GET' && (p = match('teams/name/:name', segs))) {
    const team = state.teamByName(p.name ?? '');
    if (!team) throw notFound('team');
    return { status: 200, body: team };
  }
  if (method === 'GET' && (p = match('teams/:id', segs))) {
    const team = state.teams.get(p.id ?? '');
    if (!team) throw notFound('team');
    return { status: 200, body: team };
  }
  // api4 createDirectChannel: two valid user ids, one of them the caller's (else manage_system), and
  // create_direct_channel (every system_user has it) → App.GetOrCreateDirectChannel, 201 new or not.
  if (method === 'POST' && match('channels/direct', segs)) {
    const ids = Array.isArray(req.body) ? req.body : [];
    if (ids.length !== 2) throw invalidParam('user_ids');
    if (!ids.every((id): id is string => typeof id === 'string' && /^[a-z0-9]{26}$/.test(id))) throw invalidParam('user_id');
    if (!ids.includes(me) && !state.isAdmin(me)) throw forbidden('manage_system');
    if (!ids.every((id) => state.users.has(id))) throw new MmError(400, 'api.channel.create_direct_channel.invalid_user.app_error', 'Invalid user ID for direct channel creation.');
    return { status: 201, body: state.directChannel(ids[0]!, ids[1]!) };
  }
  if (method === 'GET' && (p = match('channels/:id', segs))) return { status: 200, body: readable(p.id ?? '') };
  // api4 getChannelMember: read permission on the channel, then 404 when the user is not a member.
  if (method === 'GET' && (p = match('channels/:id/members/:user', segs))) {
    const ch = readable(p.id ?? '');
    const userId = p.user === 'me' ? me : p.user ?? '';
    if (!state.isChannelMember(ch.id, userId)) throw new MmError(404, 'app.channel.get_member.missing.app_error', 'No channel member found for that user ID and channel ID.');
    return { status: 200, body: { channel_id: ch.id, user_id: userId, roles: 'channel_user', last_viewed_at: 0, msg_count: 0, mention_count: 0, notify_props: {}, last_update_at: 0, scheme_guest: false, scheme_user: true, scheme_admin: false } };
  }
  if (method === 'POST' && (p = match('teams/:id/members', segs))) {
    const b = objBody();
    const team = state.teams.get(p.id ?? '');
    if (!team) throw notFound('team');
    const userId = str(b.user_id);
    if (!state.users.has(userId)) throw invalidParam('user_id');
    const selfJoinOpen = userId === me && team.allow_open_invite;
    if (!state.isAdmin(me) && !state.isTeamMember(team.id, me) && !selfJoinOpen) throw forbidden('add_user_to_team');
    state.addTeamMember(team.id, userId);
    return { status: 201, body: { team_id: team.id, user_id: userId, roles: 'team_user', delete_at: 0, scheme_guest: false, scheme_user: true, scheme_admin: false } };
  }
  if (method === 'POST' && (p = match('channels/:id/members', segs))) {
    const b = objBody();
    const ch = state.channels.get(p.id ?? '');
    if (!ch) throw notFound('channel');
    const ids = Array.isArray(b.user_ids) ? b.user_ids.filter((x): x is string => typeof x === 'string') : [str(b.user_id)];
    const isAdmin = state.isAdmin(me);
    const allowed = isAdmin || state.isChannelMember(ch.id, me) || (ch.type === 'O' && state.isTeamMember(ch.team_id, me) && ids.every((id) => id === me));
    if (!allowed) throw forbidden(ch.type === 'P' ? 'manage_private_channel_members' : 'join_public_channels');
    const members = ids.map((userId) => {
      if (!state.users.has(userId)) throw invalidParam('user_id');
      if (!state.isTeamMember(ch.team_id, userId)) {
        throw new MmError(403, 'api.channel.add_user.to.channel.failed.app_error', 'Failed to add user to channel.', 'user is not a member of the team');
      }
      state.addChannelMember(ch.id, userId);
      return {
        channel_id: ch.id, user_id: userId, roles: 'channel_user', last_viewed_at: 0, msg_count: 0, mention_count: 0,
        notify_props: {}, last_update_at: state.now(), scheme_guest: false, scheme_user: true, scheme_admin: false,
      };
    });
    return { status: 201, body: Array.isArray(b.user_ids) ? members : members[0] };
  }

  // ---- posts ----
  if (method === 'POST' && match('posts', segs)) {
    const b = objBody();
    const ch = state.channels.get(str(b.channel_id));
    if (str(b.channel_id) === '') throw invalidParam('channel_id');
    if (!ch || !state.canPost(me, ch)) throw forbidden('create_post');
    const pending = str(b.pending_post_id);
    const key = `${me}\u0000${pending}`;
    if (pending !== '') {
      const seen = state.pending.get(key);
      const existing = seen ? state.posts.get(seen.postId) : undefined;
      if (seen && existing && state.now() - seen.at <= 30_000) {
        state.dedupes.push({ pendingPostId: pending, userId: me, postId: existing.id, at: state.now() });
        return { status: 201, body: state.strip(existing) };
      }
    }
    const post = state.createPost({
      userId: me, channelId: ch.id, message: str(b.message), rootId: str(b.root_id), props: isRecord(b.props) ? b.props : {},
      type: str(b.type), fileIds: Array.isArray(b.file_ids) ? b.file_ids.filter((x): x is string => typeof x === 'string') : [],
      pendingPostId: pending, isPinned: b.is_pinned === true,
    });
    if (pending !== '') state.pending.set(key, { postId: post.id, at: state.now() });
    return { status: 201, body: state.strip(post) };
  }
  if (method === 'POST' && match('posts/ephemeral', segs)) {
    const b = objBody();
    if (!state.isAdmin(me)) throw forbidden('create_post_ephemeral');
    const post = isRecord(b.post) ? b.post : {};
    const rec = state.addEphemeral({
      userId: str(b.user_id), channelId: str(post.channel_id), rootId: str(post.root_id), message: str(post.message),
      props: isRecord(post.props) ? post.props : {}, source: 'api',
    });
    return { status: 201, body: { id: rec.id, create_at: rec.create_at, update_at: rec.create_at, edit_at: 0, delete_at: 0, user_id: me, channel_id: rec.channel_id, root_id: rec.root_id, message: rec.message, type: 'system_ephemeral', props: rec.props } };
  }
  // Client4.getPostsSince / getPosts: posts changed since `since` (ms), or the newest page; replies included.
  if (method === 'GET' && (p = match('channels/:id/posts', segs))) {
    const ch = readable(p.id ?? '');
    const inChannel = [...state.posts.values()].filter((post) => post.channel_id === ch.id);
    const since = Number(req.query.get('since') ?? 0);
    if (since > 0) return { status: 200, body: postList(state, inChannel.filter((post) => post.update_at > since)) };
    const perPage = Math.min(200, Math.max(1, Number(req.query.get('per_page') ?? 60)));
    const page = Math.max(0, Number(req.query.get('page') ?? 0));
    const live = inChannel.filter((post) => post.delete_at === 0).sort((a, b) => b.create_at - a.create_at);
    return { status: 200, body: postList(state, live.slice(page * perPage, (page + 1) * perPage)) };
  }
  if (method === 'GET' && (p = match('posts/:id/thread', segs))) {
    const root = livePost(p.id ?? '');
    const rootId = root.root_id !== '' ? root.root_id : root.id;
    return { status: 200, body: postList(state, state.thread(rootId)) };
  }
  // api4 doPostAction (the route only matches action ids of letters and digits) → App.DoPostActionWithCookie.
  if (method === 'POST' && (p = match('posts/:id/actions/:action', segs))) {
    const res = await deps.click({ userId: me, postId: p.id ?? '', actionId: p.action ?? '', selectedOption: str(body?.selected_option) || undefined, cookie: str(body?.cookie) || undefined });
    if (res.failed) {
      const integrationError = res.errorId === undefined || res.errorId === 'api.post.do_action.action_integration.app_error';
      throw new MmError(integrationError ? 400 : res.status, res.errorId ?? 'api.post.do_action.action_integration.app_error', 'Unable to perform the action.', res.error ?? '');
    }
    return { status: 200, body: { status: 'OK', trigger_id: res.triggerId } };
  }
  // api4 pinPost/unpinPost (saveIsPinnedPost): read permission, then App.PatchPost with is_pinned only.
  if (method === 'POST' && ((p = match('posts/:id/pin', segs)) || (p = match('posts/:id/unpin', segs)))) {
    const post = state.posts.get(p.id ?? '');
    if (!post || post.delete_at !== 0) throw forbidden('read_channel_content');
    readable(post.channel_id);
    state.updatePost(post.id, state.patchOf(post, { isPinned: segs[2] === 'pin' }), 'pin');
    return { status: 200, body: OK };
  }
  // api4 saveReaction: as oneself, with add_reaction in the channel; the post then has has_reactions.
  if (method === 'POST' && match('reactions', segs)) {
    const b = objBody();
    if (str(b.user_id) !== me) throw forbidden('edit_other_users');
    const post = state.posts.get(str(b.post_id));
    if (!post || post.delete_at !== 0) throw forbidden('read_channel_content');
    const ch = readable(post.channel_id);
    if (!state.hasChannelPermission(me, ch, 'add_reaction')) throw forbidden('add_reaction');
    post.has_reactions = true;
    return { status: 201, body: { user_id: me, post_id: post.id, emoji_name: str(b.emoji_name), create_at: state.now() } };
  }
  if ((p = match('posts/:id', segs)) || (p = match('posts/:id/patch', segs))) {
    const isPatch = segs.length === 3;
    if (method === 'GET' && !isPatch) return { status: 200, body: state.strip(livePost(p.id ?? '')) };
    if (method === 'DELETE' && !isPatch) {
      const post = livePost(p.id ?? '');
      if (post.user_id !== me && !state.isAdmin(me)) throw forbidden('delete_others_posts');
      state.deletePost(post.id);
      return { status: 200, body: OK };
    }
    if (method === 'PUT') {
      const b = objBody();
      if (!isPatch && str(b.id) !== p.id) throw invalidParam('id');
      // api4 updatePost / postPatchChecks: a post that cannot be read (deleted, unknown) is a 403 edit_post, and
      // editing needs edit_post in the channel (channel membership: post:all grants only create_post).
      const post = state.posts.get(p.id ?? '');
      if (!post || post.delete_at !== 0) throw forbidden('edit_post');
      if (!state.canEditPost(me, post)) throw forbidden(post.user_id === me ? 'edit_post' : 'edit_others_posts');
      const fileIds = Array.isArray(b.file_ids) ? b.file_ids.filter((x): x is string => typeof x === 'string') : undefined;
      // App.PatchPost merges only the fields given; App.UpdatePost takes message, props, is_pinned and has_reactions
      // from the request as they are (absent means empty / false), files only when given.
      const edit: PostEdit = isPatch
        ? state.patchOf(post, {
            ...(typeof b.message === 'string' ? { message: b.message } : {}),
            ...(isRecord(b.props) ? { props: b.props } : {}),
            ...(typeof b.is_pinned === 'boolean' ? { isPinned: b.is_pinned } : {}),
            ...(typeof b.has_reactions === 'boolean' ? { hasReactions: b.has_reactions } : {}),
            ...(fileIds ? { fileIds } : {}),
          })
        : { message: str(b.message), props: isRecord(b.props) ? b.props : {}, isPinned: b.is_pinned === true, hasReactions: b.has_reactions === true, fileIds: fileIds ?? post.file_ids };
      const updated = state.updatePost(post.id, edit, isPatch ? 'patch' : 'update');
      return { status: 200, body: state.strip(updated) };
    }
  }

  // ---- commands (api4/command.go) ----
  const may = (teamId: string, permission: string): boolean => state.hasTeamPermission(me, teamId, permission);
  /** A command the caller may manage: 404 without manage_own_slash_commands (existence is not leaked), 403 for another's without manage_others. */
  const manageable = (id: string): Command => {
    const cmd = state.commands.get(id);
    if (!cmd || cmd.delete_at !== 0 || !may(cmd.team_id, 'manage_own_slash_commands')) throw new MmError(404, 'store.sql_command.get.missing.app_error', 'Unable to get the command.');
    if (cmd.creator_id !== me && !may(cmd.team_id, 'manage_others_slash_commands')) throw forbidden('manage_others_slash_commands');
    return cmd;
  };
  if (method === 'POST' && match('commands/execute', segs)) {
    const b = objBody();
    const ch = readable(str(b.channel_id));
    const teamId = ch.team_id !== '' ? ch.team_id : str(b.team_id);
    const m = /^\/(\S+)\s*([\s\S]*)$/.exec(str(b.command));
    if (!m) throw invalidParam('command');
    const trigger = (m[1] ?? '').toLowerCase();
    if (![...state.commands.values()].some((c) => c.team_id === teamId && c.trigger === trigger && c.delete_at === 0)) {
      throw new MmError(404, 'api.command.execute_command.not_found.app_error', `Command with a trigger of '${trigger}' not found.`);
    }
    const res = await deps.runSlash({ userId: me, channelId: ch.id, trigger, text: m[2] ?? '', rootId: str(b.root_id), teamId });
    if (res.failed) throw new MmError(res.status === 403 ? 403 : 400, 'api.command.execute_command.failed_resp.app_error', `Command '${trigger}' failed.`, res.error ?? '');
    return { status: 200, body: res.response ?? {} };
  }
  // createCommand: manage_own_slash_commands in the team; a creator other than oneself needs manage_others.
  if (method === 'POST' && match('commands', segs)) {
    const b = objBody();
    const teamId = str(b.team_id);
    if (!may(teamId, 'manage_own_slash_commands')) throw forbidden('manage_own_slash_commands');
    const creator = str(b.creator_id) || me;
    if (creator !== me && !may(teamId, 'manage_others_slash_commands')) throw forbidden('manage_others_slash_commands');
    const t = state.now();
    const cmd = commandFromBody(b, { id: state.newId(), token: state.newId(), create_at: t, update_at: t, delete_at: 0, creator_id: creator, team_id: teamId, plugin_id: '' });
    validateCommand(state, cmd);
    state.commands.set(cmd.id, cmd);
    return { status: 201, body: cmd };
  }
  // listCommands: team_id required, view_team; custom_only needs manage_own_slash_commands and lists only the
  // caller's own commands unless they also have manage_others_slash_commands. (Built-in commands are not modelled.)
  if (method === 'GET' && match('commands', segs)) {
    const teamId = req.query.get('team_id') ?? '';
    if (teamId === '') throw invalidParam('team_id');
    if (!may(teamId, 'view_team')) throw forbidden('view_team');
    const customOnly = /^(1|t|true)$/i.test(req.query.get('custom_only') ?? '');
    const manageOwn = may(teamId, 'manage_own_slash_commands');
    if (customOnly && !manageOwn) throw forbidden('manage_own_slash_commands');
    const everyone = may(teamId, 'manage_others_slash_commands');
    const list = [...state.commands.values()].filter(
      (c) => c.delete_at === 0 && c.team_id === teamId && (manageOwn ? everyone || c.creator_id === me : c.auto_complete),
    );
    return { status: 200, body: list };
  }
  if (method === 'PUT' && (p = match('commands/:id/regen_token', segs))) {
    const cmd = manageable(p.id ?? '');
    cmd.token = state.newId();
    cmd.update_at = state.now();
    return { status: 200, body: { token: cmd.token } };
  }
  if ((p = match('commands/:id', segs))) {
    if (method === 'GET') return { status: 200, body: manageable(p.id ?? '') };
    if (method === 'DELETE') {
      const cmd = manageable(p.id ?? '');
      cmd.delete_at = state.now();
      return { status: 200, body: OK };
    }
    if (method === 'PUT') {
      const b = objBody();
      if (str(b.id) !== p.id) throw invalidParam('command');
      const old = state.commands.get(p.id ?? '');
      if (!old || old.delete_at !== 0) throw new MmError(404, 'store.sql_command.get.missing.app_error', 'Unable to get the command.');
      if (str(b.team_id) !== old.team_id) throw new MmError(400, 'api.command.team_mismatch.app_error', 'Unable to update commands across teams.');
      manageable(old.id);
      const next = commandFromBody(b, { ...old, update_at: state.now() });
      validateCommand(state, next);
      state.commands.set(next.id, next);
      return { status: 200, body: next };
    }
  }

  // ---- dialogs submit (client side) ----
  if (method === 'POST' && match('actions/dialogs/submit', segs)) {
    const b = objBody();
    const cancelled = b.cancelled === true;
    const payload = {
      type: 'dialog_submission', callback_id: str(b.callback_id), state: str(b.state), user_id: me, channel_id: str(b.channel_id),
      team_id: str(b.team_id), submission: cancelled ? {} : isRecord(b.submission) ? b.submission : {}, cancelled,
    };
    const res = await deps.submitDialogRaw(str(b.url), payload);
    if (res.failed) throw new MmError(400, 'api.dialog.submit.app_error', 'Failed to submit dialog.');
    const out: Record<string, unknown> = {};
    if (res.errors) out.errors = res.errors;
    if (res.error) out.error = res.error;
    if (res.form) { out.type = 'form'; out.form = res.form; }
    return { status: 200, body: out };
  }

  throw new MmError(404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
}
