import type { Kysely } from 'kysely';
import type { Database, RolloutRow } from './schema.js';
import { flag, rolloutRowToRollout } from './rows.js';
import type { Actor, Rollout } from '../model/ring.js';
import { newId } from '../model/ids.js';
import { literalLimit } from './literal-limit.js';

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
  const newest = await db.selectFrom('rollouts').select('release_id').where('kind', '=', 'release').orderBy('create_at', 'desc').orderBy('id', 'desc').limit(literalLimit(1)).executeTakeFirst();
  return newest?.release_id;
}

/** The newest rollouts first (the status page's "recent rollouts"). */
export async function newestRolloutRows(db: Kysely<Database>, limit: number): Promise<RolloutRow[]> {
  return db.selectFrom('rollouts').selectAll().orderBy('create_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function findRolloutRow(db: Kysely<Database>, id: string): Promise<RolloutRow | undefined> {
  return db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function rolloutsById(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, Rollout>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('rollouts').selectAll().where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((row) => [row.id, rolloutRowToRollout(row)]));
}

/**
 * Forget a rollout's card post and keep its card in `channelId` from now on (another channel: a move; its own: the
 * card is dropped), unless its channel or post changed since `seen`: compare-and-set, so replicas agree on one
 * outcome. False when another delivery changed it first.
 */
export async function moveRolloutCard(db: Kysely<Database>, seen: Pick<Rollout, 'id' | 'channelId' | 'postId'>, channelId: string | null): Promise<boolean> {
  const moved = await db
    .updateTable('rollouts')
    .set({ channel_id: channelId, post_id: null })
    .where('id', '=', seen.id)
    .where('channel_id', seen.channelId === null ? 'is' : '=', seen.channelId)
    .where('post_id', seen.postId === null ? 'is' : '=', seen.postId)
    .executeTakeFirst();
  return Number(moved.numUpdatedRows) > 0;
}
