import type { ServiceDeps } from './deps.js';
import type { EngineFacts } from './operation.js';
import { createOperations } from './operations.js';
import { createReadCache } from './read-cache.js';
import { statusPageReads } from './status-page-reads.js';
import { WHY_OPERATIONS } from './why.js';
import { SUPERVISOR_ACTOR } from '../model/ring.js';

export type { EngineFacts } from './operation.js';

/** What the adapters (REST, chat, the status page) are given: the operations, and the cache their read answers share. */
export function createServices(deps: ServiceDeps & EngineFacts) {
  // The page shows the `why` operation's own answer (a viewer's read), so the page and `elrond why` cannot disagree.
  const why = { explain: (ringId?: string) => WHY_OPERATIONS.why.run({ db: deps.store.db, now: deps.clock.now(), facts: deps }, ringId ? { ringId } : {}, SUPERVISOR_ACTOR) };
  return {
    /** Every operation Elrond offers, each with who may run it (service/operations.ts). */
    operations: createOperations(deps),
    /** What the status page shows (rings, a rollout's timeline, recent rollouts): read-only. */
    pages: statusPageReads({ db: deps.store.db, now: () => deps.clock.now(), why }),
    /** Recent answers to read requests, shared while the data is unchanged (keyed by the caller's roles too). */
    reads: createReadCache({ dataVersion: () => deps.store.dataVersion(), clock: deps.clock }),
  };
}

export type Services = ReturnType<typeof createServices>;
