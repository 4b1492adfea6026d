import type { Harness } from './harness.js';

/** Statements `run` sends through the database's executor. */
export async function statementsOf(harness: Harness, run: () => Promise<unknown>): Promise<string[]> {
  const executor = harness.server.store.db.getExecutor() as unknown as { executeQuery: (query: { sql: string }, ...rest: unknown[]) => Promise<unknown> };
  const original = executor.executeQuery.bind(executor);
  const sent: string[] = [];
  executor.executeQuery = (query, ...rest) => {
    sent.push(query.sql);
    return original(query, ...rest);
  };
  try {
    await run();
  } finally {
    executor.executeQuery = original;
  }
  return sent;
}
