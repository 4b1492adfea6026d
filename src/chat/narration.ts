import type { Kysely } from 'kysely';
import type { Database, EventRow } from '../store/schema.js';
import type { EventSink, OutboxItem } from '../store/event-log.js';
import type { Rollout } from '../model/ring.js';
import type { Subscription } from '../model/subscription.js';
import { followsRing } from '../model/subscription.js';
import { approvalRequest, frozen, unfrozen, type Milestone } from '../model/milestones.js';
import { appliesTo, freezeWindowAt, freezesBetween } from '../model/freeze.js';
import { findRollout } from '../store/rollouts.js';
import { findRelease } from '../store/releases.js';
import { listSubscriptions } from '../store/subscriptions.js';
import { channelCardsOf } from '../store/channel-cards.js';
import { freezesById } from '../store/freezes.js';
import { ringsFreezesCanHold } from '../store/rings.js';
import { queuedOn } from '../store/outbox.js';
import { ringRolloutBefore } from '../store/rollout-events.js';
import { changesCardState, requestCardEdit } from './card-edits.js';
import { directKey, threadKey, type Delivery } from './deliveries.js';
import { milestonesFor } from './milestone-facts.js';
import { renderWords } from './render-words.js';

export interface NarrationOptions {
  notifyChannel: string;
  /** Mentioned when a ring waits for approval. */
  approvers: readonly string[];
  /** Also send each approver a direct message (--approval-dm). */
  approvalDm: boolean;
  /** --max-parallel-groups: a ring's "about 20m" schedules its groups as the engine does. */
  maxParallelGroups: number;
}

/** A card and thread a rollout is told in: its own (`channel` absent) or a subscribed channel's. */
interface Target {
  channel?: string;
  /** The rollout's own card: the only thread where people are mentioned (so each is notified once). */
  home: boolean;
  /** Its card was queued already. */
  queued: boolean;
  hears(milestone: Milestone): boolean;
}

const item = (rolloutId: string, orderingKey: string, payload: Delivery): OutboxItem => ({ sink: 'mattermost', target: rolloutId, orderingKey, payload });

/** A subscription starts following a rollout at its first event about one of its rings (any, with no filter). */
function joins(subscription: Subscription, event: EventRow): boolean {
  if (subscription.ringIds.length === 0) return true;
  if (event.ring_id && followsRing(subscription, event.ring_id)) return true;
  const rings = event.data ? (JSON.parse(event.data) as { rings?: Array<{ id?: unknown }> }).rings : undefined;
  return Array.isArray(rings) && rings.some((r) => typeof r.id === 'string' && followsRing(subscription, r.id));
}

/** Where a rollout's events are told: its own card (its channel, or --notify-channel) and each subscribed channel. */
async function targetsOf(db: Kysely<Database>, rollout: Rollout, event: EventRow | undefined, options: NarrationOptions): Promise<Target[]> {
  const targets: Target[] = [];
  if (rollout.channelId || options.notifyChannel) {
    targets.push({ home: true, queued: Boolean(rollout.postId) || (await queuedOn(db, threadKey(rollout.id))), hears: () => true });
  }
  for (const subscription of await listSubscriptions(db)) {
    // The rollout's own channel has its card already (a delivery also checks by id, for --notify-channel's).
    if (subscription.channelId === rollout.channelId) continue;
    if (!rollout.channelId && (subscription.channelId === options.notifyChannel || subscription.channelName === options.notifyChannel)) continue;
    const queued = await queuedOn(db, threadKey(rollout.id, subscription.channelId));
    if (!queued && !(event && joins(subscription, event))) continue;
    targets.push({ channel: subscription.channelId, home: false, queued, hears: (m) => m.ringId === null || followsRing(subscription, m.ringId) });
  }
  return targets;
}

/** Queue a card where none was, the milestones as replies (mentions only in the rollout's own thread), DMs, redraws. */
async function tell(db: Kysely<Database>, rollout: Rollout, targets: readonly Target[], milestones: readonly Milestone[], at: number, urgent: boolean, options: NarrationOptions): Promise<OutboxItem[]> {
  const items: OutboxItem[] = [];
  for (const target of targets) {
    if (!target.queued) items.push(item(rollout.id, threadKey(rollout.id, target.channel), { op: 'create-card', rollout: rollout.id, ...(target.channel ? { channel: target.channel } : {}) }));
  }
  for (const milestone of milestones) {
    for (const target of targets.filter((t) => t.hears(milestone))) {
      const message = renderWords(milestone.words, { mentions: target.home, now: at });
      items.push(item(rollout.id, threadKey(rollout.id, target.channel), { op: 'reply', rollout: rollout.id, ...(target.channel ? { channel: target.channel } : {}), message }));
    }
    if (milestone.kind === 'approval-needed' && options.approvalDm && milestone.rings) {
      const release = await findRelease(db, rollout.releaseId);
      const words = approvalRequest(milestone.rings, { image: release?.image ?? '', version: release?.version ?? '' }, rollout.requestedBy);
      for (const username of options.approvers) {
        items.push(item(rollout.id, directKey(username), { op: 'dm', rollout: rollout.id, username, message: renderWords(words, { mentions: false, now: at }) }));
      }
    }
  }
  for (const target of targets) items.push(...(await requestCardEdit(db, rollout.id, urgent, at, target.channel)));
  return items;
}

/**
 * Narrates rollouts in Mattermost: the first event of a rollout queues its card (in its channel, or
 * --notify-channel, and in every subscribed channel that follows its rings), each milestone (model/milestones.ts)
 * queues a reply in every thread that hears it, and every event asks for a card edit (coalesced: one pending edit
 * per card at a time; drawn at once for a state change, within 10 s for progress). A freeze created or lifted is
 * told in the threads of the rollouts it holds.
 */
export function mattermostSink(options: NarrationOptions): EventSink {
  return {
    name: 'mattermost',
    async plan(db: Kysely<Database>, event: EventRow): Promise<OutboxItem[]> {
      if (!event.rollout_id) return freezeNotes(db, event, options);
      const rollout = await findRollout(db, event.rollout_id);
      if (!rollout) return [];
      const targets = await targetsOf(db, rollout, event, options);
      const items = targets.length ? await tell(db, rollout, targets, await milestonesFor(db, event, rollout, options), event.at, changesCardState(event.kind), options) : [];
      // A ring joining this rollout left its previous one: redraw that card too, or it keeps showing the ring's
      // old state and buttons that no longer apply (its own events stopped when the ring moved on).
      const previous = await previousRollout(db, event);
      if (previous) {
        if ((await findRollout(db, previous))?.postId) items.push(...(await requestCardEdit(db, previous, true, event.at)));
        for (const card of await channelCardsOf(db, previous)) if (card.post_id) items.push(...(await requestCardEdit(db, previous, true, event.at, card.channel_id)));
      }
      return items;
    },
  };
}

/**
 * A freeze created or lifted is news in the threads of the rollouts whose rings it holds (a freeze created for
 * later: if it starts within a week). Only threads that exist hear it; no card is created for it.
 */
async function freezeNotes(db: Kysely<Database>, event: EventRow, options: NarrationOptions): Promise<OutboxItem[]> {
  if (event.kind !== 'freeze.created' && event.kind !== 'freeze.deleted') return [];
  const freezeId = event.data ? (JSON.parse(event.data) as { freezeId?: unknown }).freezeId : undefined;
  if (typeof freezeId !== 'string') return [];
  const freeze = (await freezesById(db, [freezeId])).get(freezeId);
  if (!freeze) return [];
  const held = await ringsFreezesCanHold(db);
  const byRollout = new Map<string, Array<{ id: string; name: string }>>();
  for (const ring of held) if (ring.rolloutId && appliesTo(freeze, ring.id)) byRollout.set(ring.rolloutId, [...(byRollout.get(ring.rolloutId) ?? []), ring]);
  const items: OutboxItem[] = [];
  for (const [rolloutId, rings] of byRollout) {
    let milestone: Milestone | undefined;
    if (event.kind === 'freeze.created') {
      const window = freezesBetween([freeze], rings[0]!.id, event.at, event.at + 7 * 24 * 3600_000)[0];
      if (window) milestone = frozen({ by: event.actor, reason: freeze.reason, start: window.start, end: window.end }, rings, event.at);
    } else if (freezeWindowAt(freeze, event.at)) {
      milestone = unfrozen({ by: event.actor, reason: freeze.reason });
    }
    const rollout = milestone ? await findRollout(db, rolloutId) : undefined;
    if (!rollout || !milestone) continue;
    const targets = (await targetsOf(db, rollout, undefined, options)).filter((t) => t.queued);
    items.push(...(await tell(db, rollout, targets, [milestone], event.at, true, options)));
  }
  return items;
}

/** The rollout a ring was on before the one this event puts it on, when the event moves it to a new one. */
async function previousRollout(db: Kysely<Database>, event: EventRow): Promise<string | undefined> {
  if (event.kind !== 'ring.state' || !event.ring_id || !event.rollout_id) return undefined;
  if (event.new_state !== 'release-pending' && event.new_state !== 'release-rollback-requested') return undefined;
  const before = await ringRolloutBefore(db, event.ring_id, event.id);
  return before && before !== event.rollout_id ? before : undefined;
}
