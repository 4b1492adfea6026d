import { createQueryId, type Compilable, type CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Where an argument goes in a query built once: a value Kysely binds as a parameter like any other. */
class Slot {
  constructor(readonly name: string) {}
}

/** A query of the engine's hot path, built and compiled once per dialect and then run with new arguments. */
export interface PreparedQuery<A, R> {
  /** Every row (for a write: the rows it returns, if any). */
  rows(db: Kysely<Database>, args: A): Promise<R[]>;
  first(db: Kysely<Database>, args: A): Promise<R | undefined>;
  /** Rows a write changed. */
  affected(db: Kysely<Database>, args: A): Promise<number>;
}

/**
 * Kysely builds an immutable tree for every query (each `.where()` copies it) and compiles it to SQL on every run:
 * ~25% of the server's CPU in a release, for a few dozen queries that never change shape (bench/, urgent). A
 * prepared query is built once per dialect with a placeholder for each argument, and each run binds the arguments
 * in the placeholders' places. The plugins still see every run (the data version counts writes: data-version.ts).
 *
 * `build` must use each argument only as a value (`where(col, '=', a.id)`, `set({ col: a.at })`): never to choose
 * what the query looks like (a branch, an `in` list, an optional column). Each argument must land in the query:
 * one read but not bound throws at first use.
 */
export function preparedQuery<A extends Record<string, unknown>, R>(build: (db: Kysely<Database>, args: A) => Compilable<R>): PreparedQuery<A, R> {
  // Per dialect adapter class: SQLite and Postgres write different SQL for the same tree.
  const compiled = new Map<unknown, CompiledQuery<R>>();
  const compile = (db: Kysely<Database>): CompiledQuery<R> => {
    const key = db.getExecutor().adapter.constructor;
    let query = compiled.get(key);
    if (!query) {
      const used = new Set<string>();
      const slots = new Proxy({} as A, {
        get: (_target, name) => {
          if (typeof name !== 'string') return undefined;
          used.add(name);
          return new Slot(name);
        },
      });
      query = build(db, slots).compile();
      const bound = new Set(query.parameters.filter((p): p is Slot => p instanceof Slot).map((p) => p.name));
      const unbound = [...used].filter((name) => !bound.has(name));
      if (unbound.length > 0) throw new Error(`prepared query: argument(s) ${unbound.join(', ')} read but not bound as values: ${query.sql}`);
      compiled.set(key, query);
    }
    return query;
  };
  const run = async (db: Kysely<Database>, args: A) => {
    const query = compile(db);
    const executor = db.getExecutor();
    const queryId = createQueryId();
    executor.transformQuery(query.query, queryId);
    const parameters = query.parameters.map((p) => {
      if (!(p instanceof Slot)) return p;
      const value = args[p.name];
      if (value === undefined) throw new Error(`prepared query: argument ${p.name} is missing: ${query.sql}`);
      return value;
    });
    return executor.executeQuery<R>({ ...query, queryId, parameters });
  };
  return {
    rows: async (db, args) => (await run(db, args)).rows,
    first: async (db, args) => (await run(db, args)).rows[0],
    affected: async (db, args) => Number((await run(db, args)).numAffectedRows ?? 0n),
  };
}

/** More shapes than any code path makes: past it a family builds afresh rather than grow without bound. */
const MAX_SHAPES = 256;

/**
 * Prepared queries whose shape varies with a few facts of the call (which columns an update sets, how many states
 * it compares with): one prepared query per shape, named by `key`, which must tell apart every shape `build` makes.
 * A call whose shape is past {@link MAX_SHAPES} others runs `build` afresh, as Kysely would.
 */
export function preparedQueryFamily<S, A extends Record<string, unknown>, R>(key: (shape: S) => string, build: (db: Kysely<Database>, shape: S, args: A) => Compilable<R>): {
  rows(db: Kysely<Database>, shape: S, args: A): Promise<R[]>;
} {
  const members = new Map<string, PreparedQuery<A, R>>();
  return {
    async rows(db, shape, args) {
      const name = key(shape);
      let member = members.get(name);
      if (!member) {
        if (members.size >= MAX_SHAPES) return (await db.executeQuery(build(db, shape, args))).rows;
        member = preparedQuery((q, a: A) => build(q, shape, a));
        members.set(name, member);
      }
      return member.rows(db, args);
    },
  };
}
