import type { Kysely } from 'kysely';
import type { Database, EventRow } from './schema.js';
import type { EventKind } from './event-log.js';
import { literalLimit } from './literal-limit.js';

/** A rollout's events, oldest first, `limit` at most (its timeline). */
export async function eventsOfRollout(db: Kysely<Database>, rolloutId: string, limit: number): Promise<EventRow[]> {
  return db.selectFrom('events').selectAll().where('rollout_id', '=', rolloutId).orderBy('id', 'asc').limit(limit).execute();
}

/** The ring transitions of some rollouts, oldest first: how each ring of each left it. */
export async function ringTransitionsOfRollouts(db: Kysely<Database>, rolloutIds: readonly string[]) {
  if (rolloutIds.length === 0) return [];
  return db
    .selectFrom('events')
    .select(['id', 'rollout_id', 'ring_id', 'old_state', 'new_state', 'at'])
    .where('kind', '=', 'ring.state')
    .where('rollout_id', 'in', [...rolloutIds])
    .orderBy('id', 'asc')
    .execute();
}

/** The forces, approvals and transitions of the rings of a rollout, oldest first: what its card tells of them. */
export async function ringHistoryOfRollout(db: Kysely<Database>, rolloutId: string) {
  const kinds: EventKind[] = ['ring.state', 'ring.forced', 'ring.approved'];
  return db
    .selectFrom('events')
    .select(['ring_id', 'kind', 'at', 'actor', 'source', 'old_state', 'new_state'])
    .where('rollout_id', '=', rolloutId)
    .where('ring_id', 'is not', null)
    .where('kind', 'in', kinds)
    .orderBy('id')
    .execute();
}

/**
 * The engine's starts of rings on a rollout (to release-requested or release-rollback-requested), newest first;
 * of one ring when `ringId` is given.
 */
export async function ringStartsOnRollout(db: Kysely<Database>, rolloutId: string, ringId?: string) {
  let query = db
    .selectFrom('events')
    .select(['ring_id', 'at', 'old_state', 'new_state'])
    .where('rollout_id', '=', rolloutId)
    .where('kind', '=', 'ring.state')
    .where('source', '=', 'supervisor')
    .where('new_state', 'in', ['release-requested', 'release-rollback-requested']);
  if (ringId !== undefined) query = query.where('ring_id', '=', ringId);
  return query.orderBy('id', 'desc').execute();
}

/** Who last forced a ring on a rollout (since `since`, when given). */
export async function lastForcedBy(db: Kysely<Database>, rolloutId: string, ringId: string, since: number | undefined): Promise<string | undefined> {
  let query = db.selectFrom('events').select('actor').where('rollout_id', '=', rolloutId).where('ring_id', '=', ringId).where('kind', '=', 'ring.forced');
  if (since !== undefined) query = query.where('at', '>=', since);
  return (await query.orderBy('id', 'desc').executeTakeFirst())?.actor;
}

/** Rollbacks asked of these rings by other rollouts between two times (a rollback is a rollout of its own). */
export async function rollbackRequestsOfRings(db: Kysely<Database>, ringIds: readonly string[], exceptRolloutId: string, from: number, to: number): Promise<EventRow[]> {
  if (ringIds.length === 0) return [];
  return db
    .selectFrom('events')
    .selectAll()
    .where('kind', '=', 'ring.state')
    .where('new_state', '=', 'release-rollback-requested')
    .where('old_state', '!=', 'release-rollback-requested')
    .where('ring_id', 'in', [...ringIds])
    .where('rollout_id', '!=', exceptRolloutId)
    .where('at', '>=', from)
    .where('at', '<=', to)
    .execute();
}

/** The rollout of the ring's newest event before event `beforeId` (the rollout it was on then), if any. */
export async function ringRolloutBefore(db: Kysely<Database>, ringId: string, beforeId: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('events')
    .select('rollout_id')
    .where('ring_id', '=', ringId)
    .where('id', '<', beforeId)
    .where('rollout_id', 'is not', null)
    .orderBy('id', 'desc')
    .limit(literalLimit(1))
    .executeTakeFirst();
  return row?.rollout_id ?? undefined;
}

/** Whether the rollout has an event after `afterId` of a kind not in `kinds`. */
export async function rolloutEventSinceExcept(db: Kysely<Database>, rolloutId: string, afterId: number, kinds: ReadonlySet<string>): Promise<boolean> {
  const row = await db.selectFrom('events').select('id').where('rollout_id', '=', rolloutId).where('id', '>', afterId).where('kind', 'not in', [...kinds]).limit(literalLimit(1)).executeTakeFirst();
  return row !== undefined;
}
