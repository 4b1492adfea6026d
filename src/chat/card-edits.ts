import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { OutboxItem } from '../store/event-log.js';

/** A state change (a ring moves, is approved or forced; buttons change) is drawn at once, bursts at most once a second. */
export const CARD_STATE_EDIT_INTERVAL_MS = 1000;
/**
 * A redraw that only moves progress (groups done, countdowns) waits this long after the card's last edit: every edit
 * is a row of the post's edit history in Mattermost.
 */
export const CARD_PROGRESS_EDIT_INTERVAL_MS = 10_000;

/** Events that only move a card's progress; every other event of a rollout changes what its card says or offers. */
const PROGRESS_KINDS = new Set(['group.state', 'group.progress', 'group.retry']);

export function changesCardState(kind: string): boolean {
  return !PROGRESS_KINDS.has(kind);
}

export interface EditCard {
  op: 'edit-card';
  rollout: string;
  /** A subscribed channel's card; absent: the rollout's own card. */
  channel?: string;
  /** Draw without waiting out the progress interval (a state change, fresh buttons, a ring that moved away). */
  urgent?: boolean;
}

/** The edit queue of a rollout's card (its own, or a subscribed channel's). */
export const cardKey = (rolloutId: string, channelId?: string) => (channelId ? `mm:${rolloutId}:card:${channelId}` : `mm:${rolloutId}:card`);

function editItem(rolloutId: string, urgent: boolean, channelId?: string): OutboxItem {
  const payload: EditCard = { op: 'edit-card', rollout: rolloutId, ...(channelId ? { channel: channelId } : {}), ...(urgent ? { urgent: true } : {}) };
  return { sink: 'mattermost', target: rolloutId, orderingKey: cardKey(rolloutId, channelId), payload };
}

/**
 * Ask for a redraw of a rollout's card: one edit waits per card at a time (it draws everything that happened
 * until it is sent). An urgent request makes a waiting edit urgent and due now, unless it is backing off after a
 * failure. Returns the edit to queue, if none was waiting. An edit being sent right now (leased) does not count as
 * waiting: it may have read the state already.
 */
export async function requestCardEdit(db: Kysely<Database>, rolloutId: string, urgent: boolean, now: number, channelId?: string): Promise<OutboxItem[]> {
  const waiting = await db
    .selectFrom('outbox')
    .select(['id', 'payload'])
    .where('ordering_key', '=', cardKey(rolloutId, channelId))
    .where('delivered_at', 'is', null)
    .where((eb) => eb.or([eb('locked_by', 'is', null), eb('locked_until', '<', now)]))
    .execute();
  if (waiting.length === 0) return [editItem(rolloutId, urgent, channelId)];
  if (urgent) {
    const lazy = waiting.filter((row) => (JSON.parse(row.payload) as Partial<EditCard>).urgent !== true).map((row) => row.id);
    if (lazy.length > 0) await db.updateTable('outbox').set({ payload: JSON.stringify(editItem(rolloutId, true, channelId).payload) }).where('id', 'in', lazy).execute();
    await db.updateTable('outbox').set({ next_attempt_at: now }).where('id', 'in', waiting.map((row) => row.id)).where('attempts', '=', 0).where('next_attempt_at', '>', now).execute();
  }
  return [];
}

/** Whether an event after `afterEventId` changed what the card says or offers (not only its progress). */
export async function stateChangedSince(db: Kysely<Database>, rolloutId: string, afterEventId: number): Promise<boolean> {
  const row = await db.selectFrom('events').select('id').where('rollout_id', '=', rolloutId).where('id', '>', afterEventId).where('kind', 'not in', [...PROGRESS_KINDS]).limit(1).executeTakeFirst();
  return row !== undefined;
}
