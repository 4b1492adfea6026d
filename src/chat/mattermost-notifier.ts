import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, OutboxRow } from '../store/schema.js';
import { enqueue, latestEventId } from '../store/event-log.js';
import { queuedOn } from '../store/outbox.js';
import type { Deliverer, DeliveryAttempt } from '../engine/outbox-worker.js';
import type { Clock } from '../model/clock.js';
import { findRollout, setRolloutPost } from '../store/rollouts.js';
import { abandonChannelCard, channelCardsOf, findChannelCard, setChannelCardPost } from '../store/channel-cards.js';
import { threadKey, type CreateCard, type Delivery, type DirectMessage } from './deliveries.js';
import type { Rollout } from '../model/ring.js';
import { cannotPostThere, cardAbandoned, describeRefusal, relocateCard } from './card-relocation.js';
import { getSetting, setSetting } from '../store/system.js';
import type { MattermostApi } from './mattermost-client.js';
import { loadCardSnapshot } from './card-snapshot.js';
import { buildReleaseCard, type CardOptions } from './release-card.js';
import { CARD_PROGRESS_EDIT_INTERVAL_MS, CARD_STATE_EDIT_INTERVAL_MS, requestCardEdit, stateChangedSince, type EditCard } from './card-edits.js';

/** How far Mattermost's clock may be behind Elrond's when looking for posts made since a moment. */
const CLOCK_SKEW_MARGIN_MS = 10 * 60_000;

/** A direct message waits this long for the card it links to; then it goes without the link. */
const DM_WAITS_FOR_CARD_MS = 2 * 60_000;

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
    await setSetting(db, editedKey(rolloutId), String(clock.now() - CARD_PROGRESS_EDIT_INTERVAL_MS));
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
    if (await queuedOn(db, threadKey(rolloutId), { undeliveredOnly: true, exceptId: row.id })) return true;
    const payload: CreateCard = { op: 'create-card', rollout: rolloutId, ...(movedFrom ? { movedFrom } : {}) };
    await enqueue(db, [{ sink: 'mattermost', target: rolloutId, orderingKey: threadKey(rolloutId), payload }], clock.now());
    return false;
  }

  return {
    sink: 'mattermost',
    async deliver(row: OutboxRow, attempt: DeliveryAttempt) {
      const delivery = JSON.parse(row.payload) as Delivery;
      if (delivery.op === 'dm') return deliverDirectMessage(row, attempt, delivery);
      if (delivery.channel) return deliverToChannel(row, attempt, delivery, delivery.channel);
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
        return await editCard({ rolloutId: rollout.id, postId: rollout.postId! }, row, attempt, delivery);
      } catch (error) {
        if (!cannotPostThere(error)) throw error;
        const moved = await relocate(rollout, rollout.channelId ?? (await notifyChannel()) ?? '', 'edit the release card', error);
        if (moved && !moved.postId) await ensureCardQueued(moved.id, row, describeRefusal(error));
      }
    },
  };

  /**
   * Post a rollout's card in a subscribed channel unless it has one there, and remember it. Given up (never
   * retried) when Mattermost will not take it there, or when that channel turns out to be where the rollout's own
   * card goes. Resolves to the card's post, or undefined when given up.
   */
  async function postChannelCard(rolloutId: string, channelId: string, row: OutboxRow, attempt: DeliveryAttempt, pendingId: string): Promise<string | undefined> {
    const rollout = await findRollout(db, rolloutId);
    if (!rollout) return undefined;
    if (channelId === (rollout.channelId ?? (await notifyChannel()))) {
      await abandonChannelCard(db, rolloutId, channelId, 'the rollout\'s own card is in this channel', clock.now());
      return undefined;
    }
    const botUser = await bot();
    try {
      if (attempt.mayHaveBeenSent) {
        const posted = (await api.postsSince(channelId, row.create_at - CLOCK_SKEW_MARGIN_MS)).find(
          (p) => p.user_id === botUser && !p.root_id && p.delete_at === 0 && (p.props as { elrond_rollout?: unknown } | undefined)?.elrond_rollout === rolloutId,
        );
        if (posted) {
          await recordChannelCard(rolloutId, channelId, posted.id);
          return posted.id;
        }
      }
      const snapshot = await loadCardSnapshot(db, rolloutId, clock.now());
      if (!snapshot) return undefined;
      const card = buildReleaseCard(snapshot, await options.card());
      const post = await api.createPost({ channel_id: channelId, message: card.message, props: card.props, pending_post_id: pendingId });
      await recordChannelCard(rolloutId, channelId, post.id);
      return post.id;
    } catch (error) {
      if (!cannotPostThere(error)) throw error;
      await giveUpChannel(rolloutId, channelId, 'post the release card', error);
      return undefined;
    }
  }

  async function recordChannelCard(rolloutId: string, channelId: string, postId: string): Promise<void> {
    await setChannelCardPost(db, rolloutId, channelId, postId, clock.now());
    await setSetting(db, editedKey(rolloutId, channelId), String(clock.now() - CARD_PROGRESS_EDIT_INTERVAL_MS));
    await enqueue(db, await requestCardEdit(db, rolloutId, true, clock.now(), channelId), clock.now());
  }

  /** A subscribed channel Mattermost refuses: its card and thread stop there, said once in the log with the fix. */
  async function giveUpChannel(rolloutId: string, channelId: string, doing: string, error: unknown): Promise<void> {
    const why = describeRefusal(error);
    await abandonChannelCard(db, rolloutId, channelId, why, clock.now());
    log.error({ rollout: rolloutId, channel: channelId }, `release card of rollout ${rolloutId} in subscribed channel ${channelId}: Mattermost refused to ${doing} (${why}), so that channel stops hearing about it (the release goes on). Fix: add the bot to the channel (/invite), or unsubscribe it.`);
  }

  /** Cards, replies and edits for a subscribed channel: like the rollout's own card, but never moved. */
  async function deliverToChannel(row: OutboxRow, attempt: DeliveryAttempt, delivery: Exclude<Delivery, DirectMessage>, channelId: string): Promise<void | { retryAt: number }> {
    const rolloutId = delivery.rollout;
    const card = await findChannelCard(db, rolloutId, channelId);
    if (card?.abandoned) return;
    const botUser = await bot();
    let postId = card?.post_id ?? undefined;
    if (!postId) {
      if (delivery.op === 'edit-card') return { retryAt: clock.now() + 500 };
      postId = await postChannelCard(rolloutId, channelId, row, attempt, delivery.op === 'create-card' ? `${botUser}:${row.id}` : `${botUser}:${row.id}:card`);
      if (!postId || delivery.op !== 'reply') return;
    } else if (delivery.op === 'create-card') return;
    try {
      if (delivery.op === 'reply') {
        if (attempt.mayHaveBeenSent && (await api.thread(postId)).some((p) => (p.props as { elrond_outbox_id?: unknown } | undefined)?.elrond_outbox_id === row.id)) return;
        await api.createPost({ channel_id: channelId, root_id: postId, message: delivery.message, props: { elrond_outbox_id: row.id }, pending_post_id: `${botUser}:${row.id}` });
        return;
      }
      return await editCard({ rolloutId, postId, channelId }, row, attempt, delivery as EditCard);
    } catch (error) {
      if (!cannotPostThere(error)) throw error;
      await giveUpChannel(rolloutId, channelId, delivery.op === 'reply' ? 'reply in the card\'s thread' : 'edit the release card', error);
    }
  }

  /**
   * A direct message to an approver, linking the rollout's card once it is posted (it waits for it up to two
   * minutes). Looked for first when an earlier attempt may have posted it.
   */
  async function deliverDirectMessage(row: OutboxRow, attempt: DeliveryAttempt, delivery: DirectMessage): Promise<void | { retryAt: number }> {
    const rollout = await findRollout(db, delivery.rollout);
    if (!rollout) return;
    if (!rollout.postId && !(await cardAbandoned(db, rollout.id)) && clock.now() - row.create_at < DM_WAITS_FOR_CARD_MS) return { retryAt: clock.now() + 1000 };
    const botUser = await bot();
    let user: { id: string };
    try {
      user = await api.userByUsername(delivery.username);
    } catch (error) {
      if (!cannotPostThere(error)) throw error;
      log.warn({ username: delivery.username }, `--approval-dm: no Mattermost user ${delivery.username} (check --approvers); no direct message sent`);
      return;
    }
    const channel = await api.directChannel([botUser, user.id]);
    if (attempt.mayHaveBeenSent && (await api.postsSince(channel.id, row.create_at - CLOCK_SKEW_MARGIN_MS)).some((p) => (p.props as { elrond_outbox_id?: unknown } | undefined)?.elrond_outbox_id === row.id)) return;
    const link = rollout.postId ? ` [Open the release card](${api.url}/_redirect/pl/${rollout.postId})` : '';
    await api.createPost({ channel_id: channel.id, message: `${delivery.message}${link}`, props: { elrond_outbox_id: row.id }, pending_post_id: `${botUser}:${row.id}` });
  }

  /** Redraw a card (the rollout's own, or a subscribed channel's), at most as often as its kind of change allows. */
  async function editCard(target: { rolloutId: string; postId: string; channelId?: string }, row: OutboxRow, attempt: DeliveryAttempt, delivery: EditCard): Promise<void | { retryAt: number }> {
    const { rolloutId, postId, channelId } = target;
    if (attempt.mayHaveBeenSent) {
      // An edit already applied (the process died before recording it, or its answer was lost) is not applied
      // again; one more redraw is queued in case events came in since it was drawn.
      const current = await api.post(postId);
      if (Number((current.props as { elrond_revision?: unknown } | undefined)?.elrond_revision ?? 0) >= row.id) {
        await enqueue(db, await requestCardEdit(db, rolloutId, true, clock.now(), channelId), clock.now());
        return;
      }
    }
    // Kept in the database, not in memory, so replicas sharing the card keep the spacing too. A state change is
    // drawn at once (bursts at most once a second); progress alone waits until 10 s after the last edit.
    const stored = await getSetting(db, editedKey(rolloutId, channelId));
    const last = stored === undefined ? undefined : Number(stored);
    const interval = delivery.urgent ? CARD_STATE_EDIT_INTERVAL_MS : CARD_PROGRESS_EDIT_INTERVAL_MS;
    if (last !== undefined && clock.now() - last < interval) return { retryAt: last + interval };
    const seen = await latestEventId(db, rolloutId);
    const snapshot = await loadCardSnapshot(db, rolloutId, clock.now());
    if (!snapshot) return;
    const card = buildReleaseCard(snapshot, { ...(await options.card()), postId });
    // A patch changes only the message and props: the card keeps its pin, its reactions and from_bot (an update
    // would take is_pinned and has_reactions from the request and unpin it).
    await api.patchPost({ id: postId, message: card.message, props: { ...card.props, elrond_revision: row.id } });
    await setSetting(db, editedKey(rolloutId, channelId), String(clock.now()));
    // Events recorded while this edit was drawn found it still pending and queued nothing: queue one more.
    if ((await latestEventId(db, rolloutId)) > seen) {
      await enqueue(db, await requestCardEdit(db, rolloutId, await stateChangedSince(db, rolloutId, seen), clock.now(), channelId), clock.now());
    }
  }
}

/** Where the time of a card's last edit is kept (the rollout's own card, or a subscribed channel's). */
const editedKey = (rolloutId: string, channelId?: string) => (channelId ? `card-edit:${rolloutId}:${channelId}` : `card-edit:${rolloutId}`);

/** Queue an edit of a rollout's cards now, in every channel (each is rebuilt, with freshly signed buttons, when delivered). */
export async function queueCardRedraw(db: Kysely<Database>, rolloutId: string, now: number): Promise<void> {
  await enqueue(db, await requestCardEdit(db, rolloutId, true, now), now);
  for (const card of await channelCardsOf(db, rolloutId)) if (card.post_id) await enqueue(db, await requestCardEdit(db, rolloutId, true, now, card.channel_id), now);
}
