import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, EventRow, OutboxRow } from '../store/schema.js';
import { enqueue, type EventSink, type OutboxItem } from '../store/event-log.js';
import type { Deliverer, DeliveryAttempt } from '../engine/outbox-worker.js';
import type { Clock } from '../model/clock.js';
import { RING_STATES_FAILED, ringStateIn, type RingState } from '../model/ring-states.js';
import { findRollout, setRolloutPost } from '../store/rollouts.js';
import { getSetting, setSetting } from '../store/system.js';
import type { MattermostApi } from './mattermost-client.js';
import { loadCardSnapshot } from './card-snapshot.js';
import { buildReleaseCard, type CardOptions } from './release-card.js';
import { CARD_PROGRESS_EDIT_INTERVAL_MS, CARD_STATE_EDIT_INTERVAL_MS, changesCardState, requestCardEdit, stateChangedSince, type EditCard } from './card-edits.js';

/** How far Mattermost's clock may be behind Elrond's when looking for posts made since a moment. */
const CLOCK_SKEW_MARGIN_MS = 10 * 60_000;

type Delivery = { op: 'create-card'; rollout: string } | EditCard | { op: 'reply'; rollout: string; message: string };

const NARRATED = new Set(['ring.state', 'group.state', 'group.retry', 'ring.approved', 'ring.forced']);

function narrate(event: EventRow, requestedBy: string): string | undefined {
  if (!NARRATED.has(event.kind)) return undefined;
  const failed = event.new_state && (ringStateIn(event.new_state as RingState, RING_STATES_FAILED) || event.new_state === 'release-failed');
  const icon = failed ? '❌' : event.kind === 'group.retry' ? '⚠️' : event.new_state === 'stable' ? '✅' : event.kind === 'ring.approved' ? '👍' : event.kind === 'ring.forced' ? '⏩' : '▶️';
  const states = event.old_state && event.new_state && event.old_state !== event.new_state ? ` \`${event.old_state}\` → \`${event.new_state}\`` : '';
  const who = event.source === 'supervisor' ? '' : ` (by @${event.actor} via ${event.source})`;
  return `${icon}${states} ${event.message}${who}${failed ? ` — @${requestedBy}` : ''}`;
}

/**
 * Narrates rollouts in Mattermost: the first event of a rollout queues its card, every transition queues a
 * thread reply, and every event asks for a card edit (coalesced: one pending edit per card at a time; drawn at
 * once for a state change, within 10 s for progress). Rollouts started from chat go to their channel; others to
 * --notify-channel.
 */
export function mattermostSink(options: { notifyChannel: string }): EventSink {
  return {
    name: 'mattermost',
    async plan(db: Kysely<Database>, event: EventRow): Promise<OutboxItem[]> {
      if (!event.rollout_id) return [];
      const rollout = await findRollout(db, event.rollout_id);
      if (!rollout || (!rollout.channelId && !options.notifyChannel)) return [];
      const threadKey = `mm:${rollout.id}:thread`;
      const items: OutboxItem[] = [];
      // The card is the first delivery queued on the thread (a rollout without a post has only ever had the
      // card queued first there), queued once, delivered or not, until the rollout knows its post.
      if (!rollout.postId && !(await queuedOn(db, threadKey))) {
        items.push({ sink: 'mattermost', target: rollout.id, orderingKey: threadKey, payload: { op: 'create-card', rollout: rollout.id } satisfies Delivery });
      }
      const message = narrate(event, rollout.requestedBy);
      if (message) items.push({ sink: 'mattermost', target: rollout.id, orderingKey: threadKey, payload: { op: 'reply', rollout: rollout.id, message } satisfies Delivery });
      items.push(...(await requestCardEdit(db, rollout.id, changesCardState(event.kind), event.at)));
      // A ring joining this rollout left its previous one: redraw that card too, or it keeps showing the ring's
      // old state and buttons that no longer apply (its own events stopped when the ring moved on).
      const previous = await previousRollout(db, event);
      if (previous && (await findRollout(db, previous))?.postId) items.push(...(await requestCardEdit(db, previous, true, event.at)));
      return items;
    },
  };
}

/**
 * Whether a delivery was ever queued on `orderingKey`: one indexed probe, so it costs the same on the 5th event
 * of a rollout as on its 5,000th (reading the key's whole queue made a 500-ring release's notifications quadratic).
 */
async function queuedOn(db: Kysely<Database>, orderingKey: string): Promise<boolean> {
  return (await db.selectFrom('outbox').select('id').where('ordering_key', '=', orderingKey).limit(1).executeTakeFirst()) !== undefined;
}

/** The rollout a ring was on before the one this event puts it on, when the event moves it to a new one. */
async function previousRollout(db: Kysely<Database>, event: EventRow): Promise<string | undefined> {
  if (event.kind !== 'ring.state' || !event.ring_id || !event.rollout_id) return undefined;
  if (event.new_state !== 'release-pending' && event.new_state !== 'release-rollback-requested') return undefined;
  const row = await db
    .selectFrom('events')
    .select('rollout_id')
    .where('ring_id', '=', event.ring_id)
    .where('id', '<', event.id)
    .where('rollout_id', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.rollout_id && row.rollout_id !== event.rollout_id ? row.rollout_id : undefined;
}

export interface MattermostDelivererOptions {
  db: Kysely<Database>;
  api: MattermostApi;
  clock: Clock;
  log: Logger;
  notifyChannel: string;
  card: () => Promise<Omit<CardOptions, 'postId'>>;
  botUserId: () => Promise<string>;
}

/** Delivers cards, edits and thread replies. Idempotent on retry: posts carry a pending_post_id Mattermost deduplicates on. */
export function mattermostDeliverer(options: MattermostDelivererOptions): Deliverer {
  const { db, api, clock } = options;
  let notifyChannelId: string | undefined;
  let botId: string | undefined;

  /**
   * The bot's user id, remembered once known. `options.botUserId` may keep returning the rejection of a failed
   * first lookup (a memoized promise), which would stop every later delivery for good: ask Mattermost again.
   */
  async function bot(): Promise<string> {
    botId ??= await options.botUserId().catch(async () => (await api.me()).id);
    return botId;
  }

  async function channelFor(channelId: string | null): Promise<string> {
    if (channelId) return channelId;
    notifyChannelId ??= (await api.channel(options.notifyChannel)).id;
    return notifyChannelId;
  }

  return {
    sink: 'mattermost',
    async deliver(row: OutboxRow, attempt: DeliveryAttempt) {
      const delivery = JSON.parse(row.payload) as Delivery;
      const rollout = await findRollout(db, delivery.rollout);
      if (!rollout) return;
      const channelId = await channelFor(rollout.channelId);
      const botUser = await bot();
      if (delivery.op === 'create-card') {
        if (rollout.postId) return;
        // The card's post is known from now on; its first edit (which adds the buttons) may follow at once.
        const recordCard = async (postId: string) => {
          await setRolloutPost(db, rollout.id, postId);
          await setSetting(db, `card-edit:${rollout.id}`, String(clock.now() - CARD_PROGRESS_EDIT_INTERVAL_MS));
        };
        // Mattermost forgets a pending_post_id after 30 s, and a crashed replica's lease outlasts that: a card that
        // may have been posted is looked for in the channel first (by its rollout) and adopted. The search starts
        // well before the card was queued, in case Mattermost's clock is behind Elrond's.
        if (attempt.mayHaveBeenSent) {
          const posted = (await api.postsSince(channelId, row.create_at - CLOCK_SKEW_MARGIN_MS)).find((p) => p.user_id === botUser && !p.root_id && (p.props as { elrond_rollout?: unknown } | undefined)?.elrond_rollout === rollout.id);
          if (posted) {
            await recordCard(posted.id);
            await queueCardRedraw(db, rollout.id, clock.now());
            return;
          }
        }
        const snapshot = await loadCardSnapshot(db, rollout.id, clock.now());
        if (!snapshot) return;
        const card = buildReleaseCard(snapshot, await options.card());
        const post = await api.createPost({ channel_id: channelId, message: card.message, props: card.props, pending_post_id: `${botUser}:${row.id}` });
        await recordCard(post.id);
        return;
      }
      if (!rollout.postId) return { retryAt: clock.now() + 500 };
      if (delivery.op === 'reply') {
        // Mattermost forgets a pending_post_id after 30 s, and a crashed replica's lease (60 s by default) outlasts
        // that: a reply that may have been posted is looked for in the thread (by its outbox id) first.
        if (attempt.mayHaveBeenSent && (await api.thread(rollout.postId)).some((p) => (p.props as { elrond_outbox_id?: unknown } | undefined)?.elrond_outbox_id === row.id)) return;
        await api.createPost({ channel_id: channelId, root_id: rollout.postId, message: delivery.message, props: { elrond_outbox_id: row.id }, pending_post_id: `${botUser}:${row.id}` });
        return;
      }
      if (attempt.mayHaveBeenSent) {
        // An edit already applied (the process died before recording it, or its answer was lost) is not applied
        // again; one more redraw is queued in case events came in since it was drawn.
        const current = await api.post(rollout.postId);
        if (Number((current.props as { elrond_revision?: unknown } | undefined)?.elrond_revision ?? 0) >= row.id) {
          await enqueue(db, await requestCardEdit(db, rollout.id, true, clock.now(), row.id), clock.now());
          return;
        }
      }
      // Kept in the database, not in memory, so replicas sharing the card keep the spacing too. A state change is
      // drawn at once (bursts at most once a second); progress alone waits until 10 s after the last edit.
      const stored = await getSetting(db, `card-edit:${rollout.id}`);
      const last = stored === undefined ? undefined : Number(stored);
      const interval = delivery.urgent ? CARD_STATE_EDIT_INTERVAL_MS : CARD_PROGRESS_EDIT_INTERVAL_MS;
      if (last !== undefined && clock.now() - last < interval) return { retryAt: last + interval };
      const seen = await latestEventId(db, rollout.id);
      const snapshot = await loadCardSnapshot(db, rollout.id, clock.now());
      if (!snapshot) return;
      const card = buildReleaseCard(snapshot, { ...(await options.card()), postId: rollout.postId });
      // A patch changes only the message and props: the card keeps its pin, its reactions and from_bot (an update
      // would take is_pinned and has_reactions from the request and unpin it).
      await api.patchPost({ id: rollout.postId, message: card.message, props: { ...card.props, elrond_revision: row.id } });
      await setSetting(db, `card-edit:${rollout.id}`, String(clock.now()));
      // Events recorded while this edit was drawn found it still pending and queued nothing: queue one more.
      if ((await latestEventId(db, rollout.id)) > seen) {
        await enqueue(db, await requestCardEdit(db, rollout.id, await stateChangedSince(db, rollout.id, seen), clock.now(), row.id), clock.now());
      }
    },
  };
}

async function latestEventId(db: Kysely<Database>, rolloutId: string): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('id')).where('rollout_id', '=', rolloutId).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Queue an edit of a rollout's card now (it is rebuilt, with freshly signed buttons, when delivered). */
export async function queueCardRedraw(db: Kysely<Database>, rolloutId: string, now: number): Promise<void> {
  await enqueue(db, await requestCardEdit(db, rolloutId, true, now), now);
}
