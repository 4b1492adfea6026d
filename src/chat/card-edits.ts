import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { OutboxItem } from '../store/event-log.js';
import { hurry, replacePayloads, waitingOn } from '../store/outbox.js';
import { rolloutEventSinceExcept } from '../store/rollout-events.js';

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
  const waiting = await waitingOn(db, cardKey(rolloutId, channelId), now);
  if (waiting.length === 0) return [editItem(rolloutId, urgent, channelId)];
  if (urgent) {
    const lazy = waiting.filter((row) => (JSON.parse(row.payload) as Partial<EditCard>).urgent !== true).map((row) => row.id);
    await replacePayloads(db, lazy, JSON.stringify(editItem(rolloutId, true, channelId).payload));
    await hurry(db, waiting.map((row) => row.id), now);
  }
  return [];
}

/** Whether an event after `afterEventId` changed what the card says or offers (not only its progress). */
export async function stateChangedSince(db: Kysely<Database>, rolloutId: string, afterEventId: number): Promise<boolean> {
  return rolloutEventSinceExcept(db, rolloutId, afterEventId, PROGRESS_KINDS);
}
