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
import { isRecord } from './util.js';

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

/** Fields changed by {@link MmState.updatePost}; `undefined` keeps the old value. */
export interface PostChange {
  message?: string;
  props?: Record<string, unknown>;
  isPinned?: boolean;
  hasReactions?: boolean;
  fileIds?: string[];
}

/** Longest message the server accepts, in runes. */
export const MAX_MESSAGE_RUNES = 16383;

/** Deep-copies props and generates missing action ids (`GenerateActionIds`). */
export function prepareProps(props: Record<string, unknown>, newId: () => string): Record<string, unknown> {
  const copy = structuredClone(props);
  forEachAction(copy, (action) => {
    if (typeof action.id !== 'string' || action.id === '') action.id = newId();
  });
  return copy;
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

  addChannel(teamId: string, name: string, type: 'O' | 'P', displayName?: string): MmChannel {
    if (!this.teams.has(teamId)) throw notFound('team');
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

  addTeamMember(teamId: string, userId: string): void {
    const members = this.teamMembers.get(teamId);
    if (!members) throw notFound('team');
    if (!this.users.has(userId)) throw notFound('user');
    members.add(userId);
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

  /** read_channel: members; public channels also for team members; system admins always. */
  canReadChannel(userId: string, channel: MmChannel): boolean {
    if (this.isAdmin(userId) || this.isChannelMember(channel.id, userId)) return true;
    return channel.type === 'O' && this.isTeamMember(channel.team_id, userId);
  }

  /** create_post: channel members and system admins. */
  canPost(userId: string, channel: MmChannel): boolean {
    return this.isAdmin(userId) || this.isChannelMember(channel.id, userId);
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
    this.history.set(post.id, [{ message, props: structuredClone(props), at: t, via: 'create' }]);
    if (root) {
      root.reply_count += 1;
      root.last_reply_at = t;
      post.reply_count = root.reply_count;
    }
    channel.last_post_at = t;
    channel.total_msg_count += 1;
    return post;
  }

  /** Applies an edit to a stored post and records the new version. */
  updatePost(id: string, change: PostChange, via: PostVersion['via']): Post {
    const post = this.posts.get(id);
    if (!post || post.delete_at !== 0) throw notFound('post');
    const t = this.now();
    if (change.message !== undefined) {
      if ([...change.message].length > MAX_MESSAGE_RUNES) throw new MmError(400, 'model.post.is_valid.message_length.app_error', 'Message length is longer than the maximum allowed.');
      post.message = change.message;
    }
    if (change.props !== undefined) {
      post.props = prepareProps(change.props, this.newId);
      if (hasAttachments(post.props)) {
        if (post.type === '') post.type = 'slack_attachment';
      } else if (post.type === 'slack_attachment') {
        post.type = '';
      }
    }
    if (change.isPinned !== undefined) post.is_pinned = change.isPinned;
    if (change.hasReactions !== undefined) post.has_reactions = change.hasReactions;
    if (change.fileIds !== undefined) post.file_ids = [...change.fileIds];
    post.edit_at = t;
    post.update_at = t;
    this.history.get(id)?.push({ message: post.message, props: structuredClone(post.props), at: t, via });
    return post;
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

  addEphemeral(e: { userId: string; channelId: string; rootId?: string; message: string; props?: Record<string, unknown>; source: EphemeralSource }): EphemeralRecord {
    const rec: EphemeralRecord = {
      id: this.newId(), user_id: e.userId, channel_id: e.channelId, root_id: e.rootId ?? '', message: e.message,
      props: structuredClone(e.props ?? {}), create_at: this.now(), source: e.source,
    };
    this.ephemerals.push(rec);
    return rec;
  }

  /** Issues a signed-looking base64 trigger id (`clientId:userId:time:signature`) and remembers it. */
  issueTrigger(userId: string, channelId: string, teamId: string, source: TriggerRecord['source']): TriggerRecord {
    const issuedAt = this.now();
    const sig = Buffer.from(this.newId() + this.newId()).toString('base64');
    const triggerId = Buffer.from(`${this.newId()}:${userId}:${issuedAt}:${sig}`).toString('base64');
    const rec: TriggerRecord = { triggerId, userId, channelId, teamId, issuedAt, source };
    this.triggers.set(triggerId, rec);
    return rec;
  }
}
