import type { ServiceDeps } from './deps.js';
import type { EngineFacts } from './operation.js';
import { createOperations } from './operations.js';
import { createReadCache } from './read-cache.js';

export type { EngineFacts } from './operation.js';

/** What the adapters (REST, chat) are given: the operations, and the cache their read answers share. */
export function createServices(deps: ServiceDeps & EngineFacts) {
  return {
    /** Every operation Elrond offers, each with who may run it (service/operations.ts). */
    operations: createOperations(deps),
    /** Recent answers to read requests, shared while the data is unchanged (keyed by the caller's roles too). */
    reads: createReadCache({ dataVersion: () => deps.store.dataVersion(), clock: deps.clock }),
  };
}

export type Services = ReturnType<typeof createServices>;
