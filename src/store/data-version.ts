import { sql, type Kysely, type KyselyPlugin, type OperationNode, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';

/**
 * Tables whose writes change nothing a reader is shown: the outbox is Elrond's delivery queue (claimed,
 * retried and marked delivered many times a second while notifications flow).
 */
const UNSEEN_TABLES = new Set(['outbox']);

function tableName(node: OperationNode | undefined): string | undefined {
  if (!node) return undefined;
  const n = node as { kind: string; table?: { identifier?: { name?: string } }; node?: OperationNode; froms?: OperationNode[] };
  if (n.kind === 'TableNode') return n.table?.identifier?.name;
  if (n.kind === 'AliasNode') return tableName(n.node);
  if (n.kind === 'FromNode') return tableName(n.froms?.[0]);
  return undefined;
}

/** The table a write statement changes, '' for one whose target can't be told (counted as a change), undefined for a read. */
function writtenTable(node: RootOperationNode): string | undefined {
  switch (node.kind) {
    case 'InsertQueryNode':
      return tableName(node.into) ?? '';
    case 'UpdateQueryNode':
      return tableName(node.table) ?? '';
    case 'DeleteQueryNode':
      return tableName(node.from) ?? '';
    case 'SelectQueryNode':
      return undefined;
    default:
      // Raw SQL and DDL: only Elrond's own probes (`select 1`, the version read) are reads.
      return node.kind === 'RawNode' && /^\s*(select|pragma)\b/i.test(node.sqlFragments.join(' ')) ? undefined : '';
  }
}

/**
 * A value that changes whenever data a reader could be shown may have changed, so a read computed under one
 * value can be served again while the value holds (service/read-cache.ts).
 *
 * Two parts:
 * - this process's own writes, counted by a Kysely plugin as each write statement is sent (before its
 *   transaction commits; a reader that takes the version then reads after the commit, since the version is
 *   always read before the data);
 * - everyone else's commits: SQLite's `PRAGMA data_version` (changes when another connection commits to the
 *   file) or, on Postgres, the current snapshot (`xmin:xmax:xip`), which is the same exactly when the same
 *   transactions are visible, so the same data is.
 *
 * A stale read is impossible by construction (the version is taken before the data is read, and any commit
 * in between makes the next reader's version differ); a spurious change only costs a recomputation.
 */
export class DataVersion {
  #localWrites = 0;
  #external: () => unknown;

  /** `external`: what changes when another connection commits (see above). */
  constructor(external: () => unknown) {
    this.#external = external;
  }

  /** Install on the Kysely instance (and so on its transactions) to count this process's writes. */
  readonly plugin: KyselyPlugin = {
    transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => {
      const table = writtenTable(args.node);
      if (table !== undefined && !UNSEEN_TABLES.has(table)) this.#localWrites++;
      return args.node;
    },
    transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => args.result,
  };

  async current(): Promise<string> {
    const local = this.#localWrites;
    return `${local}/${String(await this.#external())}`;
  }
}

/**
 * SQLite: the file's change counter as this connection sees it, read straight from the driver, once per turn of
 * the event loop. Reading it (a read transaction on the WAL index) was ~34 µs, a tenth of a cached answer's cost
 * under load (bench/, load). Callers until the loop's next check phase share the value. What it tracks is only
 * other processes' commits (this process's own writes are counted apart, at once: see {@link DataVersion}), and on
 * SQLite the only other writers are Elrond's own direct-to-database commands (`token`, `schema migrate`), whose
 * data no cached answer shows; a commit landing within that sliver of a turn is seen on the next one.
 */
export function sqliteDataVersion(sqlite: { prepare(source: string): { pluck(): { get(): unknown } } }): () => unknown {
  const statement = sqlite.prepare('pragma data_version').pluck();
  let value: unknown;
  let fresh = false;
  return () => {
    if (!fresh) {
      value = statement.get();
      fresh = true;
      setImmediate(() => {
        fresh = false;
      });
    }
    return value;
  };
}

/**
 * Postgres: the current snapshot, `xmin:xmax:xip,…` (one round trip). Concurrent callers share reads, but
 * only reads that start after they asked: a read already under way when a caller arrives may miss a commit
 * the caller has seen, so the caller joins the next read (one at most is queued behind the one in flight).
 */
export function postgresDataVersion<DB>(db: () => Kysely<DB>): () => Promise<unknown> {
  const read = async () => (await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(db())).rows[0]?.snapshot;
  let inFlight: Promise<unknown> | undefined;
  let queued: Promise<unknown> | undefined;
  const start = (): Promise<unknown> => {
    const reading = read();
    inFlight = reading;
    const done = () => {
      if (inFlight === reading) inFlight = undefined;
    };
    reading.then(done, done);
    return reading;
  };
  return () => {
    if (!inFlight) return start();
    queued ??= inFlight.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      queued = undefined;
      return start();
    });
    return queued;
  };
}
