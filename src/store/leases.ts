import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { takeLeaseOfDeadOwner } from './liveness.js';
import { preparedQuery } from './prepared-query.js';

/** Tables whose rows carry a lease (locked_by, locked_at, locked_until): steps on rings and groups, deliveries. */
export type LeasedTable = 'rings' | 'installation_groups' | 'outbox';

/**
 * Take the lease on one row for `ttlMs`, if it is free, its holder's lease has expired (so a crashed
 * process never keeps a row locked), or its holder's process is known dead (liveness.ts: a restart resumes at once). One conditional UPDATE: safe across processes on SQLite and Postgres
 * (on Postgres a second UPDATE of the same row waits for the first to commit, then re-checks the WHERE on
 * the new row, so exactly one of two racing processes gets it).
 *
 * @returns true when this owner now holds the lease.
 */
export async function acquireLease(
  db: Kysely<Database>,
  table: LeasedTable,
  id: string | number,
  owner: string,
  now: number,
  ttlMs: number,
): Promise<boolean> {
  const taken = await acquireQueries[table].affected(db, { id: id as string, owner, now, until: now + ttlMs });
  // Held and unexpired: still ours to take at once if its owner's process is dead (liveness.ts).
  return taken > 0 || takeLeaseOfDeadOwner(db, table, id, owner, now, ttlMs);
}

/** Per table (each step takes one: prepared-query.ts). */
const perTable = <Q>(query: (table: 'rings') => Q): Record<LeasedTable, Q> => ({
  rings: query('rings'),
  installation_groups: query('installation_groups' as 'rings'),
  outbox: query('outbox' as 'rings'),
});
const acquireQueries = perTable((table) =>
  preparedQuery((db, a: { id: string; owner: string; now: number; until: number }) =>
    db
      .updateTable(table)
      .set({ locked_by: a.owner, locked_at: a.now, locked_until: a.until })
      .where('id', '=', a.id)
      .where((eb) => eb.or([eb('locked_by', 'is', null), eb('locked_until', '<', a.now)])),
  ),
);
const releaseQueries = perTable((table) =>
  preparedQuery((db, a: { id: string; owner: string }) => db.updateTable(table).set(LEASE_GIVEN_BACK).where('id', '=', a.id).where('locked_by', '=', a.owner)),
);

/** Extend a lease this owner holds; false when it was lost (expired and taken by someone else). */
export async function renewLease(
  db: Kysely<Database>,
  table: LeasedTable,
  id: string | number,
  owner: string,
  now: number,
  ttlMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable(table as 'rings')
    .set({ locked_until: now + ttlMs })
    .where('id', '=', id as string)
    .where('locked_by', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Who holds the lease on a row right now (by `now`), or undefined when it is free or its lease ran out. */
export async function leaseHolder(
  db: Kysely<Database>,
  table: LeasedTable,
  id: string | number,
  now: number,
): Promise<{ owner: string; since: number; until: number } | undefined> {
  const row = await db
    .selectFrom(table as 'rings')
    .select(['locked_by', 'locked_at', 'locked_until'])
    .where('id', '=', id as string)
    .executeTakeFirst();
  if (!row?.locked_by || row.locked_until <= now) return undefined;
  return { owner: row.locked_by, since: row.locked_at, until: row.locked_until };
}

/** A row's lease columns once the lease is given back. */
export const LEASE_GIVEN_BACK = { locked_by: null, locked_at: 0, locked_until: 0 } as const;

/** Give a lease back; only its owner can. */
export async function releaseLease(db: Kysely<Database>, table: LeasedTable, id: string | number, owner: string): Promise<void> {
  await releaseQueries[table].affected(db, { id: id as string, owner });
}

/**
 * A lease renewed in the background until given back. A holder that loses it (it expired and another took it)
 * needs no flag to find out: every write of a step names its owner (`transitionRing`/`transitionGroup` with
 * `owner`, the outbox's `locked_by` checks), so a lost lease's writes change nothing.
 */
export interface HeldLease {
  /** Stop renewing and give the lease back. */
  release(): Promise<void>;
  /**
   * The holder's own last write, committed, gave the lease back with {@link LEASE_GIVEN_BACK} (and the owner check):
   * `release()` then only stops renewing, saving a write per step.
   */
  givenBack(): void;
}

/**
 * Renew a lease every third of its TTL while the caller works, so work slower than the TTL (a provisioner
 * call near its timeout, a slow webhook) is never taken over by another process while this one is alive.
 * A process that dies, or freezes, stops renewing, and its lease expires `ttlMs` after the last renewal.
 * Renewal errors (the database briefly unreachable) count as a missed renewal, never as a crash.
 *
 * @example
 * const keep = keepLeaseAlive(() => renewLease(db, 'rings', id, owner, clock.now(), ttl), ttl);
 * try { await work(); } finally { await keep.stop(); }
 */
export function keepLeaseAlive(renew: () => Promise<boolean>, ttlMs: number): { stop(): Promise<void> } {
  let renewing: Promise<void> | null = null;
  const timer = setInterval(() => {
    // One renewal at a time: if the database is slow to answer, skip this beat rather than queue another.
    if (renewing) return;
    renewing = renew()
      .then((held) => {
        // Taken over by another owner: renewing again could only fail.
        if (!held) clearInterval(timer);
      })
      .catch(() => {
        // A missed renewal: the next one may succeed before the lease runs out.
      })
      .finally(() => {
        renewing = null;
      });
  }, Math.max(50, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await renewing;
    },
  };
}

/**
 * Take the lease on a row and keep it while the caller works ({@link keepLeaseAlive}); undefined when another
 * owner holds it. Always `release()` it in a `finally`.
 *
 * @example
 * const lease = await holdLease(db, 'rings', id, owner, clock, ttlMs);
 * if (!lease) return 'skipped';
 * try { … } finally { await lease.release(); }
 */
export async function holdLease(
  db: Kysely<Database>,
  table: LeasedTable,
  id: string | number,
  owner: string,
  clock: { now(): number },
  ttlMs: number,
): Promise<HeldLease | undefined> {
  if (!(await acquireLease(db, table, id, owner, clock.now(), ttlMs))) return undefined;
  const keep = keepLeaseAlive(() => renewLease(db, table, id, owner, clock.now(), ttlMs), ttlMs);
  let given = false;
  return {
    async release() {
      await keep.stop();
      if (!given) await releaseLease(db, table, id, owner);
    },
    givenBack() {
      given = true;
    },
  };
}
