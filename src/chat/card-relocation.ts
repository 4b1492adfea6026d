import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { Rollout } from '../model/ring.js';
import { getSetting, setSetting } from '../store/system.js';
import { moveRolloutCard } from '../store/rollouts.js';

/** AppError ids of a 400 that means the card's channel or thread is gone for good (archived channel, deleted root). */
const GONE_400 = new Set(['api.post.create_post.root_id.app_error', 'api.post.create_post.can_not_post_to_deleted.error', 'api.post.patch_post.can_not_update_post_in_deleted.error']);

/**
 * Whether Mattermost refused for good to take a card or reply where it was meant to go: no permission (the bot is
 * not a member of a private channel or a direct message, or may create but not edit: `post:all`), a channel or
 * card that no longer exists (api4 answers a missing post with 403 edit_post), or a deleted thread root.
 */
export function cannotPostThere(error: unknown): boolean {
  const e = error as { status_code?: unknown; server_error_id?: unknown };
  return e.status_code === 403 || e.status_code === 404 || (e.status_code === 400 && GONE_400.has(String(e.server_error_id)));
}

export function describeRefusal(error: unknown): string {
  const e = error as { status_code?: unknown; message?: unknown; server_error_id?: unknown };
  return [e.status_code, e.server_error_id ?? e.message].filter((part) => part !== undefined && part !== '').join(' ') || String(error);
}

const abandonedKey = (rolloutId: string) => `mm:card-abandoned:${rolloutId}`;

/** Whether a rollout's card was given up: its card, edits and replies are dropped, not retried. */
export async function cardAbandoned(db: Kysely<Database>, rolloutId: string): Promise<boolean> {
  return (await getSetting(db, abandonedKey(rolloutId))) !== undefined;
}

export type Relocation = 'moved' | 'abandoned' | 'raced';

/**
 * The card cannot live in the rollout's channel: move it, once, to the --notify-channel (its post is forgotten, so
 * the next delivery posts a new card there), or, when it is there already or there is none, give it up with one
 * clear log line instead of retrying for a day. Compare-and-set on the rollout's channel and post, so replicas
 * agree on one move ('raced': another delivery moved it first).
 */
export async function relocateCard(
  db: Kysely<Database>,
  log: Logger,
  input: { rollout: Rollout; channelId: string; notifyChannelId: string | undefined; notifyChannel: string; doing: string; error: unknown },
): Promise<Relocation> {
  const { rollout, notifyChannelId } = input;
  const why = describeRefusal(input.error);
  if (notifyChannelId !== undefined && input.channelId !== notifyChannelId) {
    if (!(await moveRolloutCard(db, rollout, notifyChannelId))) return 'raced';
    log.warn(
      { rollout: rollout.id, channel: input.channelId },
      `release card of rollout ${rollout.id}: Mattermost refused to ${input.doing} in channel ${input.channelId} (${why}); the card moves to --notify-channel ${input.notifyChannel}. To keep cards in that channel, add the bot to it.`,
    );
    return 'moved';
  }
  if (!(await moveRolloutCard(db, rollout, rollout.channelId))) return 'raced';
  await setSetting(db, abandonedKey(rollout.id), why);
  log.error(
    { rollout: rollout.id, channel: input.channelId },
    `release card of rollout ${rollout.id}: Mattermost refused to ${input.doing} in channel ${input.channelId} (${why}) and there is no other channel to use, so its card and thread are dropped (the release itself goes on). Fix: add the bot to that channel${input.notifyChannel ? ` and to --notify-channel ${input.notifyChannel}` : ', or set --notify-channel to a channel it is a member of'}.`,
  );
  return 'abandoned';
}
