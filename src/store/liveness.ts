import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { mkdirSync, readdirSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from './schema.js';
import type { LeasedTable } from './leases.js';
import { parseDatabaseUrl } from './connect.js';
import { preparedQuery } from './prepared-query.js';

/**
 * Whether a lease owner's process is alive, from a lock the operating system (SQLite) or the database server
 * (Postgres) holds for exactly as long as that process runs. A lease stays the safety mechanism; liveness only
 * decides how soon an unexpired lease may be taken: at once when its owner is dead, never while it lives.
 */
export interface Liveness {
  /** True only when `owner` surely has no live process. An owner that never announced liveness is not dead (unknown). */
  isDead(owner: string): Promise<boolean>;
  /** Give up this process's lock (a clean stop). */
  close(): Promise<void>;
}

/** A liveness backend: also lists the owners that announced themselves, and forgets a dead one. */
interface LivenessBackend extends Liveness {
  announced(): Promise<string[]>;
  forget(owner: string): Promise<void>;
}

/** Lease owners whose process is alive, per database handle: the lease code asks here, whoever calls it. */
const registry = new WeakMap<Kysely<Database>, Liveness>();

/** Announce this process's liveness for `owner` and make every lease taken through `db` consult it. */
export async function startLiveness(db: Kysely<Database>, databaseUrl: string, owner: string, onLost: (error: Error) => void): Promise<Liveness | undefined> {
  const parsed = parseDatabaseUrl(databaseUrl);
  // An in-memory database has one process by construction: nobody else's lease can be in it.
  if (parsed.kind === 'sqlite' && parsed.file === ':memory:') return undefined;
  const liveness = parsed.kind === 'sqlite' ? sqliteLiveness(parsed.file, owner) : await postgresLiveness(db, parsed.url, owner, onLost);
  // A dead owner's announcement stays while any row still names it (every replica must be able to tell it is
  // dead, not only the first to look); once none does, it is forgotten.
  for (const other of await liveness.announced()) {
    if (other === owner || !(await liveness.isDead(other))) continue;
    const named = await Promise.all((['rings', 'installation_groups'] as const).map((table) => db.selectFrom(table as 'rings').select('id').where('locked_by', '=', other).executeTakeFirst()));
    if (!named.some(Boolean)) await liveness.forget(other);
  }
  registry.set(db, liveness);
  const close = liveness.close.bind(liveness);
  return {
    isDead: (other) => liveness.isDead(other),
    async close() {
      registry.delete(db);
      await close();
    },
  };
}

/**
 * SQLite: one small side database per owner, in `<database>-owners/`, held under an EXCLUSIVE lock (an open
 * `BEGIN EXCLUSIVE`) for the life of the process. The OS drops the lock when the process dies however it dies
 * (SIGKILL included), so another process that can take the lock knows the owner is gone. Node has no flock;
 * better-sqlite3's own file locking does the same without new native code.
 */
function sqliteLiveness(databaseFile: string, owner: string): LivenessBackend {
  const dir = `${databaseFile}-owners`;
  mkdirSync(dir, { recursive: true });
  const file = (who: string) => path.join(dir, `${who.replace(/[^\w.-]/g, '_')}.lock`);
  const mine = new SqliteDatabase(file(owner));
  mine.exec('BEGIN EXCLUSIVE');
  const dead = new Set<string>();
  const probe = (who: string): boolean => {
    if (dead.has(who)) return true;
    const target = file(who);
    if (!existsSync(target)) return false;
    let other: SqliteDatabase.Database | undefined;
    try {
      other = new SqliteDatabase(target, { fileMustExist: true, timeout: 0 });
      other.exec('BEGIN EXCLUSIVE');
      other.exec('ROLLBACK');
    } catch {
      return false; // SQLITE_BUSY: its process holds the lock, so it lives
    } finally {
      other?.close();
    }
    dead.add(who);
    return true;
  };
  return {
    isDead: async (who) => who !== owner && probe(who),
    announced: async () => readdirSync(dir).filter((name) => name.endsWith('.lock')).map((name) => name.slice(0, -'.lock'.length)),
    forget: async (who) => rmSync(file(who), { force: true }),
    async close() {
      mine.close();
      rmSync(file(owner), { force: true });
    },
  };
}

/** Advisory-lock class of owner liveness locks ("ELRN"); the second key is hashtext(owner). */
const LOCK_CLASS = 0x454c524e;
const announcement = (owner: string) => `owner-alive:${owner}`;

/**
 * Postgres: a session-level advisory lock per owner, held on one dedicated connection (not a pooled one) for the
 * life of the process. The server drops it when that session ends (process killed, host gone, network cut), so
 * `pg_try_advisory_xact_lock` succeeding for an owner means its session is gone. Behind a transaction-mode pooler
 * (PgBouncer `pool_mode=transaction`) sessions are shared and this breaks: connect Elrond directly or in session mode.
 * An owner also writes `owner-alive:<owner>` in `system`, so an older replica that holds no lock is never taken for dead.
 */
async function postgresLiveness(db: Kysely<Database>, url: string, owner: string, onLost: (error: Error) => void): Promise<LivenessBackend> {
  let client: pg.Client | undefined;
  let closing = false;
  const lock = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, keepAlive: true, application_name: `elrond-liveness-${owner}` });
    next.on('error', (error) => {
      if (closing) return;
      onLost(error);
      // Others may now take this process's leases; its renewals then fail and its writes (CAS on locked_by) are refused.
      setTimeout(() => void lock().catch(onLost), 1000).unref();
    });
    await next.connect();
    await next.query('select pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, owner]);
    client = next;
  };
  await lock();
  await db.insertInto('system').values({ key: announcement(owner), value: 'alive' }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const dead = new Set<string>();
  return {
    async isDead(other) {
      if (other === owner) return false;
      if (dead.has(other)) return true;
      const announced = await db.selectFrom('system').select('key').where('key', '=', announcement(other)).executeTakeFirst();
      if (!announced) return false;
      // A transaction-scoped try: taken and released by this one statement, so it never blocks the owner coming back.
      const { rows } = await sql<{ free: boolean }>`select pg_try_advisory_xact_lock(${LOCK_CLASS}, hashtext(${other})) as free`.execute(db);
      if (!rows[0]?.free) return false;
      dead.add(other);
      return true;
    },
    announced: async () => (await db.selectFrom('system').select('key').where('key', 'like', 'owner-alive:%').execute()).map((row) => row.key.slice('owner-alive:'.length)),
    forget: async (other) => {
      await db.deleteFrom('system').where('key', '=', announcement(other)).execute();
    },
    async close() {
      closing = true;
      await db.deleteFrom('system').where('key', '=', announcement(owner)).execute().catch(() => undefined);
      await client?.end().catch(() => undefined);
    },
  };
}

/**
 * The lease on a row whose holder is dead, taken at once (leases.ts calls this when the ordinary acquire found
 * the row held). Conditional on the same holder, so of two processes racing for it only one gets it.
 */
export async function takeLeaseOfDeadOwner(db: Kysely<Database>, table: LeasedTable, id: string | number, owner: string, now: number, ttlMs: number): Promise<boolean> {
  const liveness = registry.get(db);
  if (!liveness) return false;
  const row = await db
    .selectFrom(table as 'rings')
    .select('locked_by')
    .where('id', '=', id as string)
    .executeTakeFirst();
  const holder = row?.locked_by;
  if (!holder || holder === owner || !(await liveness.isDead(holder))) return false;
  const result = await db
    .updateTable(table as 'rings')
    .set({ locked_by: owner, locked_at: now, locked_until: now + ttlMs })
    .where('id', '=', id as string)
    .where('locked_by', '=', holder)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// Asked after every supervisor pass.
const leaseHolders = (['rings', 'installation_groups'] as const).map((table) =>
  preparedQuery((db, a: { owner: string; now: number }) => db.selectFrom(table as 'rings').select('locked_by').distinct().where('locked_by', 'is not', null).where('locked_by', '!=', a.owner).where('locked_until', '>', a.now)),
);

/** Whether any row is leased, unexpired, by an owner now dead: then the supervisor should look at once. */
export async function leasesHeldByDeadOwners(db: Kysely<Database>, owner: string, now: number): Promise<boolean> {
  const liveness = registry.get(db);
  if (!liveness) return false;
  const holders = new Set<string>();
  for (const query of leaseHolders) {
    for (const { locked_by: holder } of await query.rows(db, { owner, now })) if (holder) holders.add(holder);
  }
  for (const holder of holders) if (await liveness.isDead(holder)) return true;
  return false;
}
