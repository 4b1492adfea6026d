import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { RingState } from '../model/ring-states.js';
import type { IgPhase, InstallationGroupState } from '../model/installation-group-states.js';

/** Timestamps are milliseconds since the epoch, stored as BIGINT. */
type Millis = number;
/** A `next_check_at` far in the future: the row waits on an event (another ring or a group moving), not a time. */
export const NO_DEADLINE: Millis = 8_640_000_000_000_000;
/** Booleans are stored as 0/1 integers so SQLite and Postgres read them the same way (write them with `flag()`). */
type Flag = ColumnType<0 | 1, 0 | 1, 0 | 1>;
/** A flag column with a default in the schema. */
type DefaultedFlag = ColumnType<0 | 1, 0 | 1 | undefined, 0 | 1>;

export interface RingTable {
  id: string;
  name: string;
  state: RingState;
  priority: number;
  /** Creation order, for ties on priority. */
  create_seq: number;
  /** Seconds, as in the original API. */
  soak_time: number;
  provisioner: Generated<string>;
  active_release_id: string;
  desired_release_id: string;
  /** The active release before the last one completed: what a rollback puts back. */
  previous_release_id: string | null;
  /** The rollout (who asked, from where) the ring is currently moving for. */
  rollout_id: string | null;
  /** When the ring last finished rolling its groups (ms; the API shows ns). */
  release_at: Generated<Millis>;
  create_at: Millis;
  delete_at: Generated<Millis>;
  api_security_lock: DefaultedFlag;
  /** 1 while the ring is moving back to its previous release. */
  rolling_back: DefaultedFlag;
  soak_until: Millis | null;
  /** The supervisor looks at the ring again at this time (a stored deadline, never a sleep). */
  next_check_at: Generated<Millis>;
  /** What the ring is doing or waiting for, in words. */
  status_message: Generated<string>;
  failure_reason: string | null;
  locked_by: string | null;
  locked_at: Generated<Millis>;
  locked_until: Generated<Millis>;
  /** 1: the ring waits for an approver's click before each release starts. */
  approval_required: DefaultedFlag;
  approved_by: string | null;
  approved_at: Millis | null;
  /** Set by an admin's Force: the ring skips its remaining gating or soak once. */
  force_requested_by: string | null;
  /** SLO checks failed in a row during the current soak. */
  slo_failures: Generated<number>;
  /** The last failed SLO check's query error, while failures continue. */
  slo_error: string | null;
  /** When the SLO was last seen healthy during the current soak. */
  slo_healthy_at: Millis | null;
}

export interface InstallationGroupTable {
  id: string;
  name: string;
  state: InstallationGroupState;
  soak_time: number;
  provisioner_group_id: string;
  release_at: Generated<Millis>;
  create_at: Millis;
  /** The release being applied; a group is never updated with any other. */
  release_id: string | null;
  phase: IgPhase | null;
  rollout_started_at: Millis | null;
  soak_until: Millis | null;
  next_check_at: Generated<Millis>;
  /** Consecutive transient failures talking to the provisioner. */
  attempts: Generated<number>;
  status_message: Generated<string>;
  failure_reason: string | null;
  /** Last GroupStatus seen, as JSON. */
  last_status: string | null;
  locked_by: string | null;
  locked_at: Generated<Millis>;
  locked_until: Generated<Millis>;
}

export interface RingInstallationGroupTable {
  id: string;
  ring_id: string;
  installation_group_id: string;
}

export interface ReleaseTable {
  id: string;
  image: string;
  version: string;
  /** Canonical JSON of the env changes, or null for none. */
  env_variables: string | null;
  /** env_variables or '' — part of the unique release identity (NULLs never collide in a unique index). */
  env_key: string;
  force: Flag;
  create_at: Millis;
}

export interface WebhookTable {
  id: string;
  owner_id: string;
  url: string;
  secret: string | null;
  create_at: Millis;
  delete_at: Generated<Millis>;
}

export interface RolloutTable {
  id: string;
  release_id: string;
  kind: string;
  all_rings: DefaultedFlag;
  requested_by: string;
  source: string;
  channel_id: string | null;
  post_id: string | null;
  reason: string | null;
  create_at: Millis;
  end_at: Millis | null;
  /** Set when an admin started this rollout through a freeze: the reason given. */
  freeze_override: string | null;
}

export interface FreezeTable {
  id: string;
  /** JSON array of ring ids; [] means every ring. */
  ring_ids: Generated<string>;
  start_at: Millis | null;
  end_at: Millis | null;
  cron: string | null;
  duration_ms: Millis | null;
  timezone: Generated<string>;
  reason: string;
  author: string;
  source: string;
  create_at: Millis;
  delete_at: Generated<Millis>;
}

export interface EventTable {
  id: Generated<number>;
  at: Millis;
  actor: string;
  source: string;
  kind: string;
  ring_id: string | null;
  installation_group_id: string | null;
  rollout_id: string | null;
  old_state: string | null;
  new_state: string | null;
  message: string;
  data: string | null;
}

export interface OutboxTable {
  id: Generated<number>;
  event_id: number | null;
  /** 'webhook' | 'grafana' | 'mattermost' */
  sink: string;
  /** What the sink delivers to: a webhook id, a Grafana token index, a card. */
  target: string;
  /** Deliveries with the same key go out in id order, one at a time. */
  ordering_key: string;
  payload: string;
  create_at: Millis;
  attempts: Generated<number>;
  next_attempt_at: Millis;
  delivered_at: Millis | null;
  last_error: string | null;
  locked_by: string | null;
  locked_at: Generated<Millis>;
  locked_until: Generated<Millis>;
}

export interface SubscriptionTable {
  id: string;
  channel_id: string;
  /** How people name the channel: `team/channel`. */
  channel_name: string;
  /** JSON array of ring ids; [] means every ring. */
  ring_ids: Generated<string>;
  created_by: string;
  source: string;
  create_at: Millis;
}

export interface ChannelCardTable {
  rollout_id: string;
  channel_id: string;
  post_id: string | null;
  /** Why Mattermost would not take this card (then nothing more is sent there). */
  abandoned: string | null;
  create_at: Millis;
}

/** A named REST credential: its role and a SHA-256 of the token (the token itself is shown once and never stored). */
export interface ApiTokenTable {
  name: string;
  role: 'viewer' | 'releaser' | 'approver' | 'admin';
  token_hash: string;
  create_at: Millis;
  last_used_at: Millis | null;
}

export interface SystemTable {
  key: string;
  value: string;
}

export interface Database {
  rings: RingTable;
  installation_groups: InstallationGroupTable;
  ring_installation_groups: RingInstallationGroupTable;
  releases: ReleaseTable;
  webhooks: WebhookTable;
  rollouts: RolloutTable;
  events: EventTable;
  outbox: OutboxTable;
  system: SystemTable;
  freezes: FreezeTable;
  subscriptions: SubscriptionTable;
  channel_cards: ChannelCardTable;
  api_tokens: ApiTokenTable;
}

export type RingRow = Selectable<RingTable>;
export type NewRingRow = Insertable<RingTable>;
export type RingRowUpdate = Updateable<RingTable>;
export type InstallationGroupRow = Selectable<InstallationGroupTable>;
export type InstallationGroupRowUpdate = Updateable<InstallationGroupTable>;
export type NewInstallationGroupRow = Insertable<InstallationGroupTable>;
export type RingInstallationGroupRow = Selectable<RingInstallationGroupTable>;
export type ReleaseRow = Selectable<ReleaseTable>;
export type WebhookRow = Selectable<WebhookTable>;
export type RolloutRow = Selectable<RolloutTable>;
export type EventRow = Selectable<EventTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type FreezeRow = Selectable<FreezeTable>;
export type SubscriptionRow = Selectable<SubscriptionTable>;
export type ChannelCardRow = Selectable<ChannelCardTable>;
