import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, EventRow, OutboxRow } from '../store/schema.js';
import { enqueue, type EventSink, type OutboxItem } from '../store/event-log.js';
import type { Deliverer, DeliveryAttempt } from '../engine/outbox-worker.js';
import type { Clock } from '../model/clock.js';
import { RING_STATES_FAILED, ringStateIn, type RingState } from '../model/ring-states.js';
import { findRollout, setRolloutPost } from '../store/rollouts.js';
import type { Rollout } from '../model/ring.js';
import { cannotPostThere, cardAbandoned, describeRefusal, relocateCard } from './card-relocation.js';
import { getSetting, setSetting } from '../store/system.js';
import type { MattermostApi } from './mattermost-client.js';
import { loadCardSnapshot } from './card-snapshot.js';
import { buildReleaseCard, type CardOptions } from './release-card.js';
import { CARD_PROGRESS_EDIT_INTERVAL_MS, CARD_STATE_EDIT_INTERVAL_MS, changesCardState, requestCardEdit, stateChangedSince, type EditCard } from './card-edits.js';

/** How far Mattermost's clock may be behind Elrond's when looking for posts made since a moment. */
const CLOCK_SKEW_MARGIN_MS = 10 * 60_000;

/** `movedFrom`: why Mattermost refused the card where it was (it then says so in the new card's thread). */
type CreateCard = { op: 'create-card'; rollout: string; movedFrom?: string };
type Delivery = CreateCard | EditCard | { op: 'reply'; rollout: string; message: string };

const threadKey = (rolloutId: string) => `mm:${rolloutId}:thread`;

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
      const items: OutboxItem[] = [];
      // The card is the first delivery queued on the thread (a rollout without a post has only ever had the
      // card queued first there), queued once, delivered or not, until the rollout knows its post.
      if (!rollout.postId && !(await queuedOn(db, threadKey(rollout.id)))) {
        items.push({ sink: 'mattermost', target: rollout.id, orderingKey: threadKey(rollout.id), payload: { op: 'create-card', rollout: rollout.id } satisfies Delivery });
      }
      const message = narrate(event, rollout.requestedBy);
      if (message) items.push({ sink: 'mattermost', target: rollout.id, orderingKey: threadKey(rollout.id), payload: { op: 'reply', rollout: rollout.id, message } satisfies Delivery });
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

/**
 * Delivers cards, edits and thread replies. Idempotent on retry: posts carry a pending_post_id Mattermost
 * deduplicates on. A card Mattermost will not take where it was meant to go (a channel the bot is not in, a deleted
 * card) moves once to --notify-channel, or is given up with one log line: never a day of retries.
 */
export function mattermostDeliverer(options: MattermostDelivererOptions): Deliverer {
  const { db, api, clock, log } = options;
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

  /** The --notify-channel's id; undefined when none is set or Mattermost says it cannot be read (misconfigured). */
  async function notifyChannel(): Promise<string | undefined> {
    if (!options.notifyChannel) return undefined;
    try {
      notifyChannelId ??= (await api.channel(options.notifyChannel)).id;
      return notifyChannelId;
    } catch (error) {
      if (cannotPostThere(error)) return undefined;
      throw error;
    }
  }

  async function relocate(rollout: Rollout, channelId: string, doing: string, error: unknown): Promise<Rollout | undefined> {
    const outcome = await relocateCard(db, log, { rollout, channelId, notifyChannelId: await notifyChannel(), notifyChannel: options.notifyChannel, doing, error });
    return outcome === 'abandoned' ? undefined : findRollout(db, rollout.id);
  }

  /**
   * The card's post is known from now on; its first edit, which adds the buttons (they are signed with the post's
   * id) and draws anything missed, follows at once.
   */
  async function recordCard(rolloutId: string, postId: string, row: OutboxRow): Promise<void> {
    await setRolloutPost(db, rolloutId, postId);
    await setSetting(db, `card-edit:${rolloutId}`, String(clock.now() - CARD_PROGRESS_EDIT_INTERVAL_MS));
    await enqueue(db, await requestCardEdit(db, rolloutId, true, clock.now()), clock.now());
  }

  /**
   * Post the rollout's card where it belongs now (its channel, or --notify-channel) unless it has one. Only thread
   * deliveries call this (one at a time per rollout), so two cards are never posted for one. `pendingId` makes a
   * retry of the same delivery land on the same post. When Mattermost refuses, the card moves once (and says so in
   * its thread) or is given up. Resolves to the rollout with its post, or undefined when given up.
   */
  async function postCard(start: Rollout, row: OutboxRow, attempt: DeliveryAttempt, pendingId: string, movedFrom?: string): Promise<Rollout | undefined> {
    let rollout: Rollout | undefined = start;
    for (let tries = 0; rollout && !rollout.postId && tries < 3; tries++) {
      const channelId = rollout.channelId ?? (await notifyChannel());
      if (!channelId) {
        const why = options.notifyChannel ? 'the bot cannot read it' : 'none is set';
        rollout = await relocate(rollout, options.notifyChannel || '--notify-channel', 'use --notify-channel', { status_code: 404, server_error_id: why });
        continue;
      }
      const botUser = await bot();
      try {
        // Mattermost forgets a pending_post_id after 30 s, and a crashed replica's lease outlasts that: a card that
        // may have been posted is looked for in the channel first (by its rollout) and adopted. The search starts
        // well before the card was queued, in case Mattermost's clock is behind Elrond's.
        if (attempt.mayHaveBeenSent) {
          const posted = (await api.postsSince(channelId, row.create_at - CLOCK_SKEW_MARGIN_MS)).find(
            (p) => p.user_id === botUser && !p.root_id && p.delete_at === 0 && (p.props as { elrond_rollout?: unknown } | undefined)?.elrond_rollout === start.id,
          );
          if (posted) {
            await recordCard(start.id, posted.id, row);
            return { ...rollout, postId: posted.id };
          }
        }
        const snapshot = await loadCardSnapshot(db, start.id, clock.now());
        if (!snapshot) return undefined;
        const card = buildReleaseCard(snapshot, await options.card());
        const post = await api.createPost({ channel_id: channelId, message: card.message, props: card.props, pending_post_id: pendingId });
        await recordCard(start.id, post.id, row);
        if (movedFrom) {
          const message = `↪️ This card was meant for another channel, where Mattermost refused it (${movedFrom}): the bot is probably not a member there, or the card was deleted. It continues here.`;
          // Not marked with the outbox id: a reply delivery looks for its own post by that mark.
          await api.createPost({ channel_id: channelId, root_id: post.id, message, props: { elrond_note: 'card-moved' }, pending_post_id: `${pendingId}:moved` });
        }
        return { ...rollout, channelId, postId: post.id };
      } catch (error) {
        if (!cannotPostThere(error)) throw error;
        movedFrom = describeRefusal(error);
        rollout = await relocate(rollout, channelId, 'post the release card', error);
      }
    }
    return rollout?.postId ? rollout : undefined;
  }

  /**
   * Make sure a thread delivery will (re)post a card that has none: the thread queue posts it (one delivery at a
   * time per rollout, so never twice); queue a card there unless something is already waiting in it.
   */
  async function ensureCardQueued(rolloutId: string, row: OutboxRow, movedFrom?: string): Promise<boolean> {
    const waiting = await db.selectFrom('outbox').select('id').where('ordering_key', '=', threadKey(rolloutId)).where('delivered_at', 'is', null).where('id', '!=', row.id).limit(1).executeTakeFirst();
    if (waiting) return true;
    const payload: CreateCard = { op: 'create-card', rollout: rolloutId, ...(movedFrom ? { movedFrom } : {}) };
    await enqueue(db, [{ sink: 'mattermost', target: rolloutId, orderingKey: threadKey(rolloutId), payload }], clock.now());
    return false;
  }

  return {
    sink: 'mattermost',
    async deliver(row: OutboxRow, attempt: DeliveryAttempt) {
      const delivery = JSON.parse(row.payload) as Delivery;
      let rollout = await findRollout(db, delivery.rollout);
      if (!rollout) return;
      const botUser = await bot();
      if (!rollout.postId) {
        if (await cardAbandoned(db, rollout.id)) return;
        // An edit waits for the card, which the thread queue posts (first, or again after a move): the card's first
        // edit is requested when it is posted.
        if (delivery.op === 'edit-card') return (await ensureCardQueued(rollout.id, row)) ? { retryAt: clock.now() + 500 } : undefined;
        const pendingId = delivery.op === 'create-card' ? `${botUser}:${row.id}` : `${botUser}:${row.id}:card`;
        rollout = await postCard(rollout, row, attempt, pendingId, delivery.op === 'create-card' ? delivery.movedFrom : undefined);
        if (!rollout || delivery.op !== 'reply') return;
      } else if (delivery.op === 'create-card') return;
      if (delivery.op === 'reply') {
        for (let tries = 0; rollout?.postId && tries < 2; tries++) {
          const postId: string = rollout.postId;
          const channelId = rollout.channelId ?? (await notifyChannel()) ?? '';
          try {
            // Mattermost forgets a pending_post_id after 30 s, and a crashed replica's lease (60 s by default) outlasts
            // that: a reply that may have been posted is looked for in the thread (by its outbox id) first.
            if (attempt.mayHaveBeenSent && (await api.thread(postId)).some((p) => (p.props as { elrond_outbox_id?: unknown } | undefined)?.elrond_outbox_id === row.id)) return;
            await api.createPost({ channel_id: channelId, root_id: postId, message: delivery.message, props: { elrond_outbox_id: row.id }, pending_post_id: `${botUser}:${row.id}` });
            return;
          } catch (error) {
            if (!cannotPostThere(error)) throw error;
            const moved = await relocate(rollout, channelId, 'reply in the card\'s thread', error);
            rollout = moved && (moved.postId ? moved : await postCard(moved, row, attempt, `${botUser}:${row.id}:card`, describeRefusal(error)));
          }
        }
        return;
      }
      try {
        return await editCard(rollout, row, attempt, delivery);
      } catch (error) {
        if (!cannotPostThere(error)) throw error;
        const moved = await relocate(rollout, rollout.channelId ?? (await notifyChannel()) ?? '', 'edit the release card', error);
        if (moved && !moved.postId) await ensureCardQueued(moved.id, row, describeRefusal(error));
      }
    },
  };

  async function editCard(rollout: Rollout, row: OutboxRow, attempt: DeliveryAttempt, delivery: EditCard): Promise<void | { retryAt: number }> {
    const postId = rollout.postId!;
    if (attempt.mayHaveBeenSent) {
      // An edit already applied (the process died before recording it, or its answer was lost) is not applied
      // again; one more redraw is queued in case events came in since it was drawn.
      const current = await api.post(postId);
      if (Number((current.props as { elrond_revision?: unknown } | undefined)?.elrond_revision ?? 0) >= row.id) {
        await enqueue(db, await requestCardEdit(db, rollout.id, true, clock.now()), clock.now());
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
    const card = buildReleaseCard(snapshot, { ...(await options.card()), postId });
    // A patch changes only the message and props: the card keeps its pin, its reactions and from_bot (an update
    // would take is_pinned and has_reactions from the request and unpin it).
    await api.patchPost({ id: postId, message: card.message, props: { ...card.props, elrond_revision: row.id } });
    await setSetting(db, `card-edit:${rollout.id}`, String(clock.now()));
    // Events recorded while this edit was drawn found it still pending and queued nothing: queue one more.
    if ((await latestEventId(db, rollout.id)) > seen) {
      await enqueue(db, await requestCardEdit(db, rollout.id, await stateChangedSince(db, rollout.id, seen), clock.now()), clock.now());
    }
  }
}

async function latestEventId(db: Kysely<Database>, rolloutId: string): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('id')).where('rollout_id', '=', rolloutId).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Queue an edit of a rollout's card now (it is rebuilt, with freshly signed buttons, when delivered). */
export async function queueCardRedraw(db: Kysely<Database>, rolloutId: string, now: number): Promise<void> {
  await enqueue(db, await requestCardEdit(db, rolloutId, true, now), now);
}
