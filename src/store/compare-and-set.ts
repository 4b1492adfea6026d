import type { Kysely } from 'kysely';
import type { Database, InstallationGroupRow, RingRow, RingRowUpdate } from './schema.js';
import type { RingState } from '../model/ring-states.js';
import { preparedQueryFamily } from './prepared-query.js';

/** The tables whose rows change state by compare-and-set (rings.ts transitionRing, installation-groups.ts transitionGroup). */
type StatefulTable = 'rings' | 'installation_groups';

export interface CompareAndSet {
  id: string;
  /** The state(s) the caller read. */
  from: readonly string[];
  /** Only while the caller still holds the row's lease. */
  owner?: string | undefined;
  /** Only while `next_check_at` is still this. */
  nextCheckAt?: number | undefined;
  /** Columns to set (the new state among them, if any). */
  set: Record<string, unknown>;
}

interface Shape {
  table: StatefulTable;
  columns: readonly string[];
  from: number;
  owner: boolean;
  nextCheckAt: boolean;
}

/** The update of one shape, with `a` holding the values (or, once per shape, the placeholders: prepared-query.ts). */
const buildUpdate = (db: Kysely<Database>, s: Shape, a: Record<string, unknown>) => {
  let query = db
    .updateTable(s.table as 'rings')
    .set(Object.fromEntries(s.columns.map((column) => [column, a[`set ${column}`]])) as RingRowUpdate)
    .where('id', '=', a.id as string)
    .where('state', 'in', Array.from({ length: s.from }, (_, i) => a[`from ${i}`] as RingState));
  if (s.owner) query = query.where('locked_by', '=', a.owner as string);
  if (s.nextCheckAt) query = query.where('next_check_at', '=', a.nextCheckAt as number);
  return query.returningAll();
};

// Every step writes through here (several times per step): one prepared query per table, column set and condition.
const updates = preparedQueryFamily((s: Shape) => `${s.table} ${s.columns.join(',')} ${s.from} ${s.owner} ${s.nextCheckAt}`, buildUpdate);

/** A value Kysely binds as a parameter (anything else, an expression, is left to Kysely to build). */
const bindable = (value: unknown) => value === null || (typeof value !== 'object' && typeof value !== 'function');

/**
 * `update <table> set … where id = ? and state in (…) [and locked_by = ?] [and next_check_at = ?] returning *`:
 * the changed row, or undefined when the row was not in one of `from` (or the lease or deadline differed).
 */
export async function compareAndSet(db: Kysely<Database>, table: 'rings', change: CompareAndSet): Promise<RingRow | undefined>;
export async function compareAndSet(db: Kysely<Database>, table: 'installation_groups', change: CompareAndSet): Promise<InstallationGroupRow | undefined>;
export async function compareAndSet(db: Kysely<Database>, table: StatefulTable, change: CompareAndSet): Promise<RingRow | InstallationGroupRow | undefined> {
  // Kysely leaves undefined columns out of the SET clause: so does the shape.
  const set = Object.entries(change.set).filter(([, value]) => value !== undefined);
  const shape: Shape = { table, columns: set.map(([column]) => column), from: change.from.length, owner: change.owner !== undefined, nextCheckAt: change.nextCheckAt !== undefined };
  const args: Record<string, unknown> = { id: change.id, ...(shape.owner ? { owner: change.owner } : {}), ...(shape.nextCheckAt ? { nextCheckAt: change.nextCheckAt } : {}) };
  change.from.forEach((state, i) => (args[`from ${i}`] = state));
  for (const [column, value] of set) args[`set ${column}`] = value;
  const rows = set.every(([, value]) => bindable(value)) ? await updates.rows(db, shape, args) : (await db.executeQuery(buildUpdate(db, shape, args))).rows;
  return rows[0] as RingRow | InstallationGroupRow | undefined;
}
