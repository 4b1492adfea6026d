/** A channel that follows releases: every ring's, or only those of `ringIds`. */
export interface Subscription {
  id: string;
  channelId: string;
  /** `team/channel`, as people name it. */
  channelName: string;
  /** Empty: every ring. */
  ringIds: string[];
  createdBy: string;
  source: string;
  createAt: number;
}

/** Whether a channel following `subscription` hears about a ring. */
export function followsRing(subscription: Pick<Subscription, 'ringIds'>, ringId: string): boolean {
  return subscription.ringIds.length === 0 || subscription.ringIds.includes(ringId);
}
