/**
 * In-memory state of the fake Mattermost server: users, teams, channels, memberships, tokens,
 * posts (stored with their action integrations), commands, trigger ids, dialogs and hooks.
 */
import type {
  Command,
  DedupeRecord,
  DialogRecord,
  EphemeralRecord,
  EphemeralSource,
  MmBot,
  MmChannel,
  MmTeam,
  MmUser,
  Post,
  PostVersion,
  TriggerRecord,
} from './types.js';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isRecord } from './util.js';
import { goMapRoundTrip, goMarshal } from './go-json.js';
import { notificationsFor } from './mentions.js';

/** Who a post notified (`App.SendNotifications`), kept for assertions. */
export interface NotificationRecord {
  postId: string;
  channelId: string;
  userId: string;
  reason: 'mention' | 'channel' | 'dm';
  at: number;
}

/** An error the fake answers with the Mattermost AppError JSON shape. */
export class MmError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    readonly detailed = '',
  ) {
    super(message);
  }
}

/** Permission failure, as `api.context.permissions.app_error`. */
export function forbidden(detailed = ''): MmError {
  return new MmError(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.', detailed);
}

/** Invalid URL/body parameter, as `api.context.invalid_param.app_error`. */
export function invalidParam(name: string): MmError {
  return new MmError(400, 'api.context.invalid_param.app_error', `Invalid ${name} parameter.`);
}

/** Not found. */
export function notFound(what: string): MmError {
  return new MmError(404, `app.${what}.get.app_error`, `Unable to find the ${what}.`);
}

/** A personal access / bot token. */
export interface TokenRecord {
  id: string;
  token: string;
  userId: string;
  description: string;
  isActive: boolean;
}

/** A `response_url` hook issued with a slash command (`/hooks/commands/<id>`). */
export interface HookRecord {
  id: string;
  userId: string;
  channelId: string;
  teamId: string;
  rootId: string;
  commandId: string;
  createdAt: number;
  uses: number;
}

/** Fields accepted by {@link MmState.createPost}. */
export interface NewPost {
  userId: string;
  channelId: string;
  message?: string;
  rootId?: string;
  props?: Record<string, unknown>;
  type?: string;
  fileIds?: string[];
  pendingPostId?: string;
  isPinned?: boolean;
}

/** The post an edit leaves: every field given, as `App.UpdatePost` receives it (a patch is merged first). */
export interface PostEdit {
  message: string;
  props: Record<string, unknown>;
  isPinned: boolean;
  hasReactions: boolean;
  fileIds: string[];
}

/** Longest message the server accepts, in runes. */
export const MAX_MESSAGE_RUNES = 16383;
/** `model.PostPropsMaxRunes`: `Post.IsValid` refuses a post whose props, as JSON, are longer. */
export const MAX_PROPS_RUNES = 800_000;

/** `Post.IsValid`'s props check. */
function checkPropsSize(props: Record<string, unknown>): void {
  if ([...JSON.stringify(props)].length > MAX_PROPS_RUNES) throw new MmError(400, 'model.post.is_valid.props.app_error', 'Invalid props.');
}

/**
 * Deep-copies props as Mattermost stores them: missing action ids generated (`Post.GenerateActionIds`), and every
 * action's `integration.context` kept as a Go `map[string]any` (`model.PostActionIntegration.Context`), i.e. keys
 * sorted at every level and numbers as float64 when it is marshalled again.
 */
export function prepareProps(props: Record<string, unknown>, newId: () => string): Record<string, unknown> {
  const copy = structuredClone(props);
  forEachAction(copy, (action) => {
    if (typeof action.id !== 'string' || action.id === '') action.id = newId();
    if (isRecord(action.integration) && action.integration.context !== undefined) action.integration.context = goMapRoundTrip(action.integration.context);
  });
  return copy;
}

/** Props a REST update or patch cannot take away (`model.PostIdentityPropsPreservedOnUpdate`, Mattermost v11). */
export const IDENTITY_PROPS = ['from_bot', 'from_webhook', 'from_oauth_app', 'from_plugin', 'silent_notification'] as const;

/** `Post.PreserveIdentityPropsFrom`: the old post's identity props win (a stored null is not carried over). */
export function preserveIdentityProps(next: Record<string, unknown>, old: Record<string, unknown>): Record<string, unknown> {
  const out = { ...next };
  for (const key of IDENTITY_PROPS) if (old[key] !== undefined && old[key] !== null) out[key] = old[key];
  return out;
}

/** Deep-copies props with every action's `integration` removed (`StripActionIntegrations`). */
export function stripProps(props: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(props);
  forEachAction(copy, (action) => {
    delete action.integration;
  });
  return copy;
}

/** Calls `fn` for every `props.attachments[].actions[]` object. */
export function forEachAction(props: Record<string, unknown>, fn: (action: Record<string, unknown>) => void): void {
  const attachments = props.attachments;
  if (!Array.isArray(attachments)) return;
  for (const att of attachments) {
    if (!isRecord(att) || !Array.isArray(att.actions)) continue;
    for (const action of att.actions) if (isRecord(action)) fn(action);
  }
}

function hasAttachments(props: Record<string, unknown>): boolean {
  return Array.isArray(props.attachments) && props.attachments.length > 0;
}

/**
 * Permissions of the built-in roles the fake uses (`model.MakeDefaultRoles`), limited to what the routes check.
 * `system_post_all` grants only `create_post`: not `edit_post`, which comes from `channel_user` (membership).
 */
export const DEFAULT_ROLE_PERMISSIONS: Record<string, readonly string[]> = {
  system_user: [],
  system_post_all: ['create_post'],
  system_post_all_public: ['create_post_public'],
  team_user: ['view_team', 'join_public_channels', 'read_public_channel', 'add_user_to_team'],
  team_admin: ['manage_own_slash_commands', 'manage_others_slash_commands', 'delete_post', 'delete_others_posts'],
  channel_user: ['read_channel', 'create_post', 'edit_post', 'delete_post', 'add_reaction', 'remove_reaction'],
};

/** A `PostActionCookie` (`model.AddPostActionCookies`): what a click on an ephemeral post's button carries back. */
export interface PostActionCookie {
  type?: string;
  post_id?: string;
  root_post_id?: string;
  channel_id?: string;
  data_source?: string;
  integration?: { url?: string; context?: Record<string, unknown> };
  retain_props?: Record<string, unknown>;
  remove_props?: string[];
}

/** All mutable state of one fake server. */
export class MmState {
  readonly users = new Map<string, MmUser>();
  readonly bots = new Map<string, MmBot>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly teams = new Map<string, MmTeam>();
  readonly channels = new Map<string, MmChannel>();
  readonly teamMembers = new Map<string, Set<string>>();
  readonly channelMembers = new Map<string, Set<string>>();
  readonly posts = new Map<string, Post>();
  readonly history = new Map<string, PostVersion[]>();
  readonly pending = new Map<string, { postId: string; at: number }>();
  readonly dedupes: DedupeRecord[] = [];
  readonly commands = new Map<string, Command>();
  readonly ephemerals: EphemeralRecord[] = [];
  readonly triggers = new Map<string, TriggerRecord>();
  readonly dialogs = new Map<string, DialogRecord>();
  readonly hooks = new Map<string, HookRecord>();
  readonly notifications: NotificationRecord[] = [];
  /** Mentions of people outside the channel (`sendOutOfChannelMentions` tells the sender they were not notified). */
  readonly outOfChannelMentions: Array<{ postId: string; senderId: string; usernames: string[] }> = [];
  /** Team roles of each member, `teamId → userId → roles` (space-separated, like `TeamMember.Roles`). */
  readonly teamRoles = new Map<string, Map<string, string>>();
  /** Role → permissions; tests may change a role as a permission scheme would. */
  readonly rolePermissions = new Map<string, Set<string>>(Object.entries(DEFAULT_ROLE_PERMISSIONS).map(([role, permissions]) => [role, new Set(permissions)]));
  /** `PostActionCookieSecret`: the AES-256 key cookies are sealed with. */
  readonly cookieSecret = randomBytes(32);

  constructor(
    readonly now: () => number,
    readonly newId: () => string,
  ) {}

  // ---- users, teams, channels -------------------------------------------------------------

  addUser(username: string, opts: { isAdmin?: boolean; isBot?: boolean; description?: string } = {}): MmUser {
    const name = username.toLowerCase();
    for (const u of this.users.values()) if (u.username === name) throw new MmError(400, 'app.user.save.username_exists.app_error', 'An account with that username already exists.');
    const t = this.now();
    const user: MmUser = {
      id: this.newId(), create_at: t, update_at: t, delete_at: 0, username: name, auth_data: '', auth_service: '',
      email: opts.isBot ? `${name}@localhost` : `${name}@example.com`, nickname: '', first_name: '', last_name: '',
      position: '', roles: opts.isAdmin ? 'system_admin system_user' : 'system_user', locale: 'en', is_bot: opts.isBot ?? false,
    };
    if (opts.isBot) user.bot_description = opts.description ?? '';
    this.users.set(user.id, user);
    return user;
  }

  createToken(userId: string, description = ''): TokenRecord {
    if (!this.users.has(userId)) throw notFound('user');
    const rec: TokenRecord = { id: this.newId(), token: this.newId(), userId, description, isActive: true };
    this.tokens.set(rec.token, rec);
    return rec;
  }

  userByName(username: string): MmUser | undefined {
    for (const u of this.users.values()) if (u.username === username.toLowerCase()) return u;
    return undefined;
  }

  isAdmin(userId: string): boolean {
    return this.users.get(userId)?.roles.split(' ').includes('system_admin') ?? false;
  }

  /** Adds a system-wide role (e.g. `system_post_all`) to a user. */
  grantSystemRole(userId: string, role: string): void {
    const user = this.users.get(userId);
    if (!user) throw notFound('user');
    if (!user.roles.split(' ').includes(role)) user.roles = `${user.roles} ${role}`.trim();
  }

  #rolesGrant(roles: string, permission: string): boolean {
    return roles.split(' ').some((role) => this.rolePermissions.get(role)?.has(permission));
  }

  /** `SessionHasPermissionTo`: a system role grants it (system admins have every permission). */
  hasSystemPermission(userId: string, permission: string): boolean {
    const user = this.users.get(userId);
    return user !== undefined && (this.isAdmin(userId) || this.#rolesGrant(user.roles, permission));
  }

  /** `SessionHasPermissionToTeam`: a system role, or the user's roles in that team. */
  hasTeamPermission(userId: string, teamId: string, permission: string): boolean {
    if (this.hasSystemPermission(userId, permission)) return true;
    const roles = this.teamRoles.get(teamId)?.get(userId);
    return roles !== undefined && this.#rolesGrant(roles, permission);
  }

  /** `SessionHasPermissionToChannel`: a system role, the user's roles in the channel's team, or membership (`channel_user`). */
  hasChannelPermission(userId: string, channel: MmChannel, permission: string): boolean {
    if (this.hasSystemPermission(userId, permission)) return true;
    if (channel.team_id !== '' && this.hasTeamPermission(userId, channel.team_id, permission)) return true;
    return this.isChannelMember(channel.id, userId) && this.#rolesGrant('channel_user', permission);
  }

  addTeam(name: string, displayName?: string): MmTeam {
    const t = this.now();
    const team: MmTeam = {
      id: this.newId(), create_at: t, update_at: t, delete_at: 0, display_name: displayName ?? name, name, description: '',
      email: '', type: 'O', company_name: '', allowed_domains: '', invite_id: this.newId(), allow_open_invite: false,
    };
    this.teams.set(team.id, team);
    this.teamMembers.set(team.id, new Set());
    return team;
  }

  teamByName(name: string): MmTeam | undefined {
    for (const t of this.teams.values()) if (t.name === name) return t;
    return undefined;
  }

  addChannel(teamId: string, name: string, type: 'O' | 'P' | 'D', displayName?: string): MmChannel {
    if (type !== 'D' && !this.teams.has(teamId)) throw notFound('team');
    const t = this.now();
    const channel: MmChannel = {
      id: this.newId(), create_at: t, update_at: t, delete_at: 0, team_id: teamId, type, display_name: displayName ?? name,
      name, header: '', purpose: '', last_post_at: 0, total_msg_count: 0, extra_update_at: 0, creator_id: '',
    };
    this.channels.set(channel.id, channel);
    this.channelMembers.set(channel.id, new Set());
    return channel;
  }

  channelByName(teamId: string, name: string): MmChannel | undefined {
    for (const c of this.channels.values()) if (c.team_id === teamId && c.name === name) return c;
    return undefined;
  }

  /** Adds a team member with `roles` (default `team_user`); an existing member keeps their roles unless given. */
  addTeamMember(teamId: string, userId: string, roles?: string): void {
    const members = this.teamMembers.get(teamId);
    if (!members) throw notFound('team');
    if (!this.users.has(userId)) throw notFound('user');
    members.add(userId);
    let byUser = this.teamRoles.get(teamId);
    if (!byUser) this.teamRoles.set(teamId, (byUser = new Map()));
    if (roles !== undefined || !byUser.has(userId)) byUser.set(userId, roles ?? 'team_user');
  }

  addChannelMember(channelId: string, userId: string): void {
    const members = this.channelMembers.get(channelId);
    if (!members) throw notFound('channel');
    if (!this.users.has(userId)) throw notFound('user');
    members.add(userId);
  }

  isTeamMember(teamId: string, userId: string): boolean {
    return this.teamMembers.get(teamId)?.has(userId) ?? false;
  }

  isChannelMember(channelId: string, userId: string): boolean {
    return this.channelMembers.get(channelId)?.has(userId) ?? false;
  }

  /** `SessionHasPermissionToReadChannel`: `read_channel`, or `read_public_channel` in the team for a public channel. */
  canReadChannel(userId: string, channel: MmChannel): boolean {
    if (this.hasChannelPermission(userId, channel, 'read_channel')) return true;
    return channel.type === 'O' && this.hasTeamPermission(userId, channel.team_id, 'read_public_channel');
  }

  /** api4 `createPost`: `create_post` in the channel, or `create_post_public` for a public one (`post:channels`). */
  canPost(userId: string, channel: MmChannel): boolean {
    if (this.hasChannelPermission(userId, channel, 'create_post')) return true;
    return channel.type === 'O' && this.hasChannelPermission(userId, channel, 'create_post_public');
  }

  /** api4 `updatePost` / `postPatchChecks`: `edit_post` on one's own post, `edit_others_posts` on anyone else's. */
  canEditPost(userId: string, post: Post): boolean {
    const channel = this.channels.get(post.channel_id);
    if (!channel) return false;
    return this.hasChannelPermission(userId, channel, post.user_id === userId ? 'edit_post' : 'edit_others_posts');
  }

  // ---- posts ------------------------------------------------------------------------------

  /** Creates and stores a post. Membership is checked by the caller. */
  createPost(input: NewPost): Post {
    const channel = this.channels.get(input.channelId);
    if (!channel) throw forbidden('channel not found');
    const message = input.message ?? '';
    if ([...message].length > MAX_MESSAGE_RUNES) throw new MmError(400, 'model.post.is_valid.message_length.app_error', 'Message length is longer than the maximum allowed.');
    const rootId = input.rootId ?? '';
    let root: Post | undefined;
    if (rootId !== '') {
      root = this.posts.get(rootId);
      if (!root || root.delete_at !== 0 || root.channel_id !== channel.id || root.root_id !== '') {
        throw new MmError(400, 'api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
      }
    }
    const props = prepareProps(input.props ?? {}, this.newId);
    if (this.users.get(input.userId)?.is_bot) props.from_bot = 'true';
    checkPropsSize(props);
    let type = input.type ?? '';
    if (type === '' && hasAttachments(props)) type = 'slack_attachment';
    const t = this.now();
    const post: Post = {
      id: this.newId(), create_at: t, update_at: t, edit_at: 0, delete_at: 0, is_pinned: input.isPinned ?? false,
      user_id: input.userId, channel_id: channel.id, root_id: rootId, original_id: '', message, type, props, hashtags: '',
      file_ids: input.fileIds ?? [], pending_post_id: input.pendingPostId ?? '', has_reactions: false, reply_count: 0,
      last_reply_at: 0, participants: null, metadata: {},
    };
    this.posts.set(post.id, post);
    this.history.set(post.id, [{ message, props: structuredClone(props), at: t, via: 'create', is_pinned: post.is_pinned, has_reactions: false }]);
    if (root) {
      root.reply_count += 1;
      root.last_reply_at = t;
      post.reply_count = root.reply_count;
    }
    channel.last_post_at = t;
    channel.total_msg_count += 1;
    this.#notify(post, channel);
    return post;
  }

  /** `handlePostEvents` → `SendNotifications` for a new post (see mentions.ts). */
  #notify(post: Post, channel: MmChannel): void {
    const members = new Map<string, string>();
    for (const id of this.channelMembers.get(channel.id) ?? []) {
      const user = this.users.get(id);
      if (user) members.set(id, user.username);
    }
    const result = notificationsFor(post, post.user_id, members, channel.type === 'D');
    for (const n of result.notified) this.notifications.push({ postId: post.id, channelId: channel.id, userId: n.userId, reason: n.reason, at: post.create_at });
    // sendOutOfChannelMentions looks the names up (GetProfilesByUsernames): only real users are reported.
    const strangers = result.outOfChannel.filter((name) => this.userByName(name) !== undefined);
    if (strangers.length > 0) this.outOfChannelMentions.push({ postId: post.id, senderId: post.user_id, usernames: strangers });
  }

  /** `App.GetOrCreateDirectChannel`: the direct message channel of two users, created (both members) if new. */
  directChannel(userA: string, userB: string): MmChannel {
    const name = [userA, userB].sort().join('__');
    for (const c of this.channels.values()) if (c.type === 'D' && c.name === name) return c;
    const channel = this.addChannel('', name, 'D');
    this.addChannelMember(channel.id, userA);
    this.addChannelMember(channel.id, userB);
    return channel;
  }

  /**
   * `App.UpdatePost` (non-safe update): the post takes the edit's message, props (identity props of the old post
   * kept, `PreserveIdentityPropsFrom`), `is_pinned`, `has_reactions` and files; `edit_at` moves only when the message,
   * the attachments or the files changed; every call stores the old version as an edit-history row
   * (`SqlPostStore.Update`). Permissions are checked by the caller.
   */
  updatePost(id: string, edit: PostEdit, via: PostVersion['via']): Post {
    const post = this.posts.get(id);
    if (!post || post.delete_at !== 0) throw new MmError(404, 'app.post.get.app_error', 'Unable to get the post.');
    if ([...edit.message].length > MAX_MESSAGE_RUNES) throw new MmError(400, 'model.post.is_valid.message_length.app_error', 'Message length is longer than the maximum allowed.');
    const t = this.now();
    const props = preserveIdentityProps(prepareProps(edit.props, this.newId), post.props);
    checkPropsSize(props);
    const changed =
      post.message !== edit.message ||
      JSON.stringify(post.props.attachments ?? null) !== JSON.stringify(props.attachments ?? null) ||
      JSON.stringify(post.file_ids) !== JSON.stringify(edit.fileIds);
    post.message = edit.message;
    post.props = props;
    if (hasAttachments(post.props)) {
      if (post.type === '') post.type = 'slack_attachment';
    } else if (post.type === 'slack_attachment') {
      post.type = '';
    }
    post.is_pinned = edit.isPinned;
    post.has_reactions = edit.hasReactions;
    post.file_ids = [...edit.fileIds];
    if (changed) post.edit_at = t;
    post.update_at = t;
    this.history.get(id)?.push({ message: post.message, props: structuredClone(post.props), at: t, via, is_pinned: post.is_pinned, has_reactions: post.has_reactions });
    return post;
  }

  /** The edit a `PostPatch` makes (`Post.Patch`): only the fields given change. */
  patchOf(post: Post, patch: Partial<PostEdit>): PostEdit {
    return {
      message: patch.message ?? post.message,
      props: patch.props ?? post.props,
      isPinned: patch.isPinned ?? post.is_pinned,
      hasReactions: patch.hasReactions ?? post.has_reactions,
      fileIds: patch.fileIds ?? post.file_ids,
    };
  }

  /** Soft-deletes a post and, for a root, its replies. */
  deletePost(id: string): void {
    const t = this.now();
    for (const p of this.posts.values()) {
      if ((p.id === id || p.root_id === id) && p.delete_at === 0) {
        p.delete_at = t;
        p.update_at = t;
      }
    }
  }

  /** The post as clients see it: a deep copy with action integrations removed. */
  strip(post: Post): Post {
    const copy = structuredClone(post);
    copy.props = stripProps(post.props);
    return copy;
  }

  /** Root followed by its live replies, oldest first (stored form). */
  thread(rootId: string): Post[] {
    const root = this.posts.get(rootId);
    if (!root) return [];
    const replies = [...this.posts.values()].filter((p) => p.root_id === rootId && p.delete_at === 0);
    return [root, ...replies.sort((a, b) => a.create_at - b.create_at)];
  }

  // ---- ephemerals, triggers ----------------------------------------------------------------

  /**
   * `App.SendEphemeralPost`: action ids generated, then `model.AddPostActionCookies` seals each action's type,
   * channel, post ids and integration (url and context, marshalled from Go maps) into an AES-GCM cookie; the post
   * the client receives has the integrations stripped (`Post.ToJSON`) and keeps the cookies.
   */
  addEphemeral(e: { userId: string; channelId: string; rootId?: string; message: string; props?: Record<string, unknown>; source: EphemeralSource }): EphemeralRecord {
    const id = this.newId();
    const rootId = e.rootId ?? '';
    const props = prepareProps(e.props ?? {}, this.newId);
    const retainProps: Record<string, unknown> = {};
    const removeProps: string[] = [];
    for (const key of ['from_webhook', 'override_username', 'override_icon_url']) {
      if (key in props) retainProps[key] = props[key];
      else removeProps.push(key);
    }
    forEachAction(props, (action) => {
      const integration = isRecord(action.integration) ? action.integration : undefined;
      const cookie: PostActionCookie = {
        type: typeof action.type === 'string' && action.type !== '' ? action.type : undefined,
        post_id: id,
        root_post_id: rootId === '' ? id : rootId,
        channel_id: e.channelId,
        data_source: typeof action.data_source === 'string' && action.data_source !== '' ? action.data_source : undefined,
        integration: integration ? { url: typeof integration.url === 'string' && integration.url !== '' ? integration.url : undefined, context: integration.context as Record<string, unknown> | undefined } : undefined,
        retain_props: Object.keys(retainProps).length ? retainProps : undefined,
        remove_props: removeProps.length ? removeProps : undefined,
      };
      action.cookie = this.sealCookie(cookie);
      delete action.integration;
    });
    const rec: EphemeralRecord = { id, user_id: e.userId, channel_id: e.channelId, root_id: rootId, message: e.message, props, create_at: this.now(), source: e.source };
    this.ephemerals.push(rec);
    return rec;
  }

  /** `encryptPostActionCookie`: base64(nonce ‖ AES-256-GCM(json.Marshal(cookie)) ‖ tag). */
  sealCookie(cookie: PostActionCookie): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.cookieSecret, nonce);
    const sealed = Buffer.concat([cipher.update(goMarshal(goMapRoundTrip(cookie)), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([nonce, sealed]).toString('base64');
  }

  /** `DecryptPostActionCookie` then `json.Unmarshal`; undefined when it does not open or parse. */
  openCookie(encoded: string): PostActionCookie | undefined {
    try {
      const raw = Buffer.from(encoded, 'base64');
      if (raw.length < 12 + 16) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.cookieSecret, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
      const parsed = JSON.parse(plain) as unknown;
      return isRecord(parsed) ? (parsed as PostActionCookie) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Issues a trigger id the way model.GenerateTriggerId (server/public/model/integration_action.go) builds one:
   * base64("clientTriggerId:userId:millis:" + base64(signature)); it is remembered so that `dialogs/open` can stand
   * in for DecodeAndVerifyTriggerId (known, not expired, opened for the user it names).
   */
  issueTrigger(userId: string, channelId: string, teamId: string, source: TriggerRecord['source']): TriggerRecord {
    const issuedAt = this.now();
    const sig = Buffer.from(this.newId() + this.newId()).toString('base64');
    const triggerId = Buffer.from(`${this.newId()}:${userId}:${issuedAt}:${sig}`).toString('base64');
    const rec: TriggerRecord = { triggerId, userId, channelId, teamId, issuedAt, source };
    this.triggers.set(triggerId, rec);
    return rec;
  }
}
