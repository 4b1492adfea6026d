import type { Kysely } from 'kysely';
import type { Database, EventRow } from './schema.js';
import type { Actor } from '../model/ring.js';
import { preparedQuery } from './prepared-query.js';

export const EVENT_KINDS = [
  'ring.created',
  'ring.updated',
  'ring.state',
  'ring.locked',
  'ring.unlocked',
  'ring.approved',
  'ring.forced',
  /** An SLO check of a soaking ring failed, or passed again after failures. */
  'ring.slo',
  'group.registered',
  'group.updated',
  'group.removed',
  'group.state',
  'group.progress',
  'group.retry',
  'release.requested',
  'release.paused',
  'release.resumed',
  'release.cancelled',
  'release.rollback',
  'freeze.created',
  'freeze.deleted',
  'freeze.overridden',
  'webhook.created',
  'webhook.deleted',
  'subscription.created',
  'subscription.deleted',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface NewEvent {
  kind: EventKind;
  actor: Actor;
  message: string;
  ringId?: string | null;
  installationGroupId?: string | null;
  rolloutId?: string | null;
  oldState?: string | null;
  newState?: string | null;
  data?: Record<string, unknown>;
}

export interface OutboxItem {
  sink: string;
  target: string;
  orderingKey: string;
  payload: unknown;
  /** Deliver no earlier than this (ms); defaults to now. */
  notBefore?: number;
}

/**
 * Something that wants to hear about events (webhooks, Grafana, Mattermost). `plan` runs inside the
 * transaction that records the event, so a delivery is queued if and only if the change is committed.
 */
export interface EventSink {
  readonly name: string;
  plan(db: Kysely<Database>, event: EventRow): Promise<OutboxItem[]>;
}

type NewEventRow = Omit<EventRow, 'id'>;
// Every column named, so its shape never changes: built once (prepared-query.ts).
const insertEvent = preparedQuery((db, a: NewEventRow) =>
  db
    .insertInto('events')
    .values({ at: a.at, actor: a.actor, source: a.source, kind: a.kind, ring_id: a.ring_id, installation_group_id: a.installation_group_id, rollout_id: a.rollout_id, old_state: a.old_state, new_state: a.new_state, message: a.message, data: a.data })
    .returningAll(),
);

/** Append an event and queue its deliveries. Call inside the transaction that makes the change. */
export async function recordEvent(
  db: Kysely<Database>,
  event: NewEvent,
  context: { now: number; sinks: readonly EventSink[] },
): Promise<EventRow> {
  const row = await insertEvent.first(db, {
    at: context.now,
    actor: event.actor.name,
    source: event.actor.source,
    kind: event.kind,
    ring_id: event.ringId ?? null,
    installation_group_id: event.installationGroupId ?? null,
    rollout_id: event.rolloutId ?? null,
    old_state: event.oldState ?? null,
    new_state: event.newState ?? null,
    message: event.message,
    data: event.data ? JSON.stringify(event.data) : null,
  });
  if (!row) throw new Error('recording an event returned no row');
  for (const sink of context.sinks) {
    const items = await sink.plan(db, row);
    if (items.length > 0) await enqueue(db, items, context.now, row.id);
  }
  return row;
}

let outboxWrites = 0;

/**
 * How many times this process has queued deliveries (a transaction that rolled back counts too): the outbox worker
 * looks for work after a supervisor pass only when this moved, not after every pass (bench/, urgent).
 */
export function outboxWriteCount(): number {
  return outboxWrites;
}

export async function enqueue(db: Kysely<Database>, items: readonly OutboxItem[], now: number, eventId: number | null = null): Promise<void> {
  if (items.length === 0) return;
  outboxWrites++;
  await db
    .insertInto('outbox')
    .values(
      items.map((item) => ({
        event_id: eventId,
        sink: item.sink,
        target: item.target,
        ordering_key: item.orderingKey,
        payload: JSON.stringify(item.payload),
        create_at: now,
        next_attempt_at: item.notBefore ?? now,
      })),
    )
    .execute();
}

export interface EventQuery {
  ringId?: string;
  since?: number;
  limit: number;
}

/** Newest first. */
export async function listEvents(db: Kysely<Database>, query: EventQuery): Promise<EventRow[]> {
  let q = db.selectFrom('events').selectAll().orderBy('id', 'desc').limit(query.limit);
  if (query.ringId) q = q.where('ring_id', '=', query.ringId);
  if (query.since !== undefined) q = q.where('at', '>=', query.since);
  return q.execute();
}

/** The newest event id, of one rollout or of all (0 when there is none). */
export async function latestEventId(db: Kysely<Database>, rolloutId?: string): Promise<number> {
  let query = db.selectFrom('events').select((eb) => eb.fn.max('id').as('id'));
  if (rolloutId !== undefined) query = query.where('rollout_id', '=', rolloutId);
  return Number((await query.executeTakeFirst())?.id ?? 0);
}

/** Events after id `from` (up to `upTo`), oldest first, `limit` at most: the columns the live stream carries. */
export async function eventsAfter(db: Kysely<Database>, from: number, limit: number, upTo?: number) {
  let query = db.selectFrom('events').select(['id', 'kind', 'ring_id', 'installation_group_id', 'rollout_id']).where('id', '>', from).orderBy('id', 'asc').limit(limit);
  if (upTo !== undefined) query = query.where('id', '<=', upTo);
  return query.execute();
}

/** Events of one kind between two times (inclusive), oldest id first, `limit` at most. */
export async function eventsOfKindBetween(db: Kysely<Database>, kind: EventKind, from: number, to: number, limit: number): Promise<EventRow[]> {
  return db.selectFrom('events').selectAll().where('kind', '=', kind).where('at', '>=', from).where('at', '<=', to).orderBy('id', 'asc').limit(limit).execute();
}
