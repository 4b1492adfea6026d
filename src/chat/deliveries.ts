import type { EditCard } from './card-edits.js';

/**
 * What the Mattermost sink queues. `channel` names a subscribed channel's copy of the card and thread; without it a
 * delivery is about the rollout's own card (the channel it was started from, or --notify-channel).
 */
export interface CreateCard {
  op: 'create-card';
  rollout: string;
  channel?: string;
  /** Why Mattermost refused the card where it was (it then says so in the new card's thread). */
  movedFrom?: string;
}

export interface Reply {
  op: 'reply';
  rollout: string;
  channel?: string;
  message: string;
}

/** A direct message to an approver (--approval-dm), linking the rollout's card. */
export interface DirectMessage {
  op: 'dm';
  rollout: string;
  username: string;
  message: string;
}

export type Delivery = CreateCard | Reply | EditCard | DirectMessage;

/** The queue of a card's thread: its card first, then its replies, one at a time, in order. */
export const threadKey = (rolloutId: string, channelId?: string) => (channelId ? `mm:${rolloutId}:thread:${channelId}` : `mm:${rolloutId}:thread`);

/** Direct messages to one person go out in order. */
export const directKey = (username: string) => `mm:dm:${username}`;
