import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { flag, rolloutRowToRollout } from './rows.js';
import type { Actor, Rollout } from '../model/ring.js';
import { newId } from '../model/ids.js';

export async function insertRollout(
  db: Kysely<Database>,
  input: { releaseId: string; kind: Rollout['kind']; allRings: boolean; actor: Actor; reason?: string | null; now: number },
): Promise<Rollout> {
  const row = await db
    .insertInto('rollouts')
    .values({
      id: newId(),
      release_id: input.releaseId,
      kind: input.kind,
      all_rings: flag(input.allRings),
      requested_by: input.actor.name,
      source: input.actor.source,
      channel_id: input.actor.channelId ?? null,
      reason: input.reason ?? null,
      create_at: input.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rolloutRowToRollout(row);
}

export async function findRollout(db: Kysely<Database>, id: string): Promise<Rollout | undefined> {
  const row = await db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? rolloutRowToRollout(row) : undefined;
}

export async function setRolloutPost(db: Kysely<Database>, id: string, postId: string): Promise<void> {
  await db.updateTable('rollouts').set({ post_id: postId }).where('id', '=', id).execute();
}

export async function endRollout(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('rollouts').set({ end_at: now }).where('id', '=', id).where('end_at', 'is', null).execute();
}

/** A retried ring continues its rollout: the rollout is open again (its card picks up where it stopped). */
export async function reopenRollout(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable('rollouts').set({ end_at: null }).where('id', '=', id).execute();
}

/** An admin started this rollout through a freeze: the reason and who, for the card and the timeline. */
export async function setFreezeOverride(db: Kysely<Database>, id: string, override: string): Promise<void> {
  await db.updateTable('rollouts').set({ freeze_override: override }).where('id', '=', id).execute();
}

/** The release of the newest release rollout (not a rollback), if any. */
export async function newestReleaseRolloutReleaseId(db: Kysely<Database>): Promise<string | undefined> {
  const newest = await db.selectFrom('rollouts').select('release_id').where('kind', '=', 'release').orderBy('create_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return newest?.release_id;
}
