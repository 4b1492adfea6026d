/**
 * Wire and record types for the fake Mattermost server.
 *
 * The JSON shapes follow `/work/shared/reference/mattermost-api.md` (B.2–B.8); the `*Record`
 * types are what the fake keeps for test assertions and never appear on the wire.
 */

/** A user as returned by `GET /api/v4/users/...` (sanitised: no password or auth data). */
export interface MmUser {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  username: string;
  auth_data: string;
  auth_service: string;
  email: string;
  nickname: string;
  first_name: string;
  last_name: string;
  position: string;
  roles: string;
  locale: string;
  is_bot: boolean;
  bot_description?: string;
}

/** A team as returned by `GET /api/v4/teams/...`. */
export interface MmTeam {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  display_name: string;
  name: string;
  description: string;
  email: string;
  type: 'O' | 'I';
  company_name: string;
  allowed_domains: string;
  invite_id: string;
  allow_open_invite: boolean;
}

/** A channel as returned by `GET /api/v4/channels/...`. */
export interface MmChannel {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  /** Empty for a direct message channel. */
  team_id: string;
  /** Public, private, or a direct message between two users. */
  type: 'O' | 'P' | 'D';
  display_name: string;
  name: string;
  header: string;
  purpose: string;
  last_post_at: number;
  total_msg_count: number;
  extra_update_at: number;
  creator_id: string;
}

/** A post (B.8 "Post fields"). `props` may contain `attachments` with actions. */
export interface Post {
  id: string;
  create_at: number;
  update_at: number;
  edit_at: number;
  delete_at: number;
  is_pinned: boolean;
  user_id: string;
  channel_id: string;
  root_id: string;
  original_id: string;
  message: string;
  type: string;
  props: Record<string, unknown>;
  hashtags: string;
  file_ids: string[];
  pending_post_id: string;
  has_reactions: boolean;
  reply_count: number;
  last_reply_at: number;
  participants: null;
  metadata: Record<string, unknown>;
}

/** A custom slash command (B.2). */
export interface Command {
  id: string;
  token: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  creator_id: string;
  team_id: string;
  trigger: string;
  method: 'P' | 'G';
  username: string;
  icon_url: string;
  auto_complete: boolean;
  auto_complete_desc: string;
  auto_complete_hint: string;
  display_name: string;
  description: string;
  url: string;
  plugin_id: string;
}

/** The bot object returned by `POST /api/v4/bots` (B.8). */
export interface MmBot {
  user_id: string;
  username: string;
  display_name: string;
  description: string;
  owner_id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

/** One version of a post kept by {@link FakeMattermost.postHistory}. Props are the stored (unstripped) props. */
export interface PostVersion {
  message: string;
  props: Record<string, unknown>;
  /** Clock time when this version was written. */
  at: number;
  /** What produced this version (`pin`: pin/unpin, which Mattermost applies as a patch of `is_pinned`). */
  via: 'create' | 'update' | 'patch' | 'action' | 'pin';
  is_pinned: boolean;
  has_reactions: boolean;
}

/** Where an ephemeral message came from. */
export type EphemeralSource = 'slash' | 'response_url' | 'action' | 'api';

/**
 * An ephemeral message delivered to one user (never stored as a channel post). Its `props` are what the client
 * holds: action integrations stripped, each action carrying the encrypted `cookie` the client sends back on a click.
 */
export interface EphemeralRecord {
  id: string;
  user_id: string;
  channel_id: string;
  root_id: string;
  message: string;
  props: Record<string, unknown>;
  create_at: number;
  source: EphemeralSource;
}

/** A trigger id issued by the fake (for a slash command or a button click). */
export interface TriggerRecord {
  triggerId: string;
  userId: string;
  channelId: string;
  teamId: string;
  issuedAt: number;
  source: 'slash' | 'action';
}

/** A dialog successfully opened with `POST /api/v4/actions/dialogs/open`. */
export interface DialogRecord {
  id: string;
  triggerId: string;
  url: string;
  /** The `dialog` object exactly as the bot sent it (replaced when a submission answers `type:"form"`). */
  dialog: Record<string, unknown>;
  /** What `Dialog.IsValid` found wrong: Mattermost only logs it as a warning and opens the dialog anyway. */
  warnings: string[];
  userId: string;
  channelId: string;
  teamId: string;
  openedAt: number;
}

/** A `pending_post_id` dedupe that the fake performed (B.8 / server `seenPendingPostIdsCache`). */
export interface DedupeRecord {
  pendingPostId: string;
  userId: string;
  postId: string;
  at: number;
}

/** One inbound HTTP request, as logged by the fake. `body` is parsed JSON when it parses, else the raw text. */
export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  body: unknown;
  at: number;
  userId?: string;
  status?: number;
}

/** One outbound request that the fake made to the bot. */
export interface OutboundLogEntry {
  kind: 'slash' | 'action' | 'dialog_submission';
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  status: number;
  responseBody: string;
  error?: string;
}

/** A slash-command / webhook response (B.4). Unknown fields are ignored. */
export interface CommandResponse {
  response_type?: string;
  text?: string;
  attachments?: unknown[];
  props?: Record<string, unknown>;
  type?: string;
  username?: string;
  icon_url?: string;
  channel_id?: string;
  goto_location?: string;
  skip_slack_parsing?: boolean;
  extra_responses?: CommandResponse[];
  trigger_id?: string;
}

/** Result of {@link FakeMattermost.runSlashCommand}. */
export interface SlashResult {
  /** HTTP status the bot answered (0 when the request itself failed). */
  status: number;
  /** Raw response body. */
  body: string;
  /** The parsed response (JSON, or `{text: body}` for non-JSON content types); absent when failed. */
  response?: CommandResponse;
  /** Ephemeral text shown to the invoking user, when the response produced one. */
  ephemeral?: string;
  /** The post created in the channel for `in_channel` responses (as clients see it). */
  post?: Post;
  /** Extra posts/ephemerals from `extra_responses`. */
  extraPosts: Post[];
  extraEphemerals: string[];
  gotoLocation?: string;
  /** True when Mattermost would show "command failed" (non-200, bad JSON, network error). */
  failed: boolean;
  error?: string;
  triggerId: string;
  responseUrl: string;
}

/** Result of {@link FakeMattermost.clickButton}. */
export interface ClickResult {
  /** The bot's HTTP status, or Mattermost's own when it refused the click before calling the bot. */
  status: number;
  body: string;
  /** Whether Mattermost called the bot at all (false: it refused the click itself, e.g. the button is gone). */
  sent: boolean;
  ephemeralText?: string;
  /** The post after applying `update` (stripped), when an update was applied. */
  updatedPost?: Post;
  triggerId: string;
  failed: boolean;
  error?: string;
  /** Mattermost's AppError id when the click failed on its side (e.g. `api.post.do_action.action_id.app_error`). */
  errorId?: string;
}

/** Result of {@link FakeMattermost.submitDialog}. */
export interface DialogSubmitResult {
  status: number;
  body: string;
  /** False when the fake did not call the bot (a cancel without `notify_on_cancel`). */
  sent: boolean;
  /** The dialog closes: empty 200, `{}`, or `{"type":"ok"}`. */
  closed: boolean;
  errors?: Record<string, string>;
  error?: string;
  /** The next step for `{"type":"form","form":{…}}` responses. */
  form?: Record<string, unknown>;
  failed: boolean;
}
