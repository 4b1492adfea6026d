/**
 * A ring's start (release started → in progress → first groups started) is one transaction: another connection
 * sees the ring waiting, then rolling its first group, never half-started; and the step's lease goes back with it.
 * The rings heading the queues are woken once, after the moves.
 */
import SqliteDatabase from 'better-sqlite3';
import type { KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { runRingStep } from '../src/engine/ring-runner.js';
import { stepDeps } from './helpers/step-deps.js';

let h: Harness | undefined;
let observer: SqliteDatabase.Database | undefined;

afterEach(async () => {
  observer?.close();
  observer = undefined;
  await h?.close();
  h = undefined;
});

describe('a ring starts in one transaction', () => {
  it('another connection never sees it half-started, and its lease is free once the step ends', async () => {
    h = await startHarness({ dialect: 'sqlite' });
    const ring = await h.ring('canary', 1, { groups: 2 });
    await h.settle();
    const asked = await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const file = h.server.store.description.replace(/^sqlite:\/\//, '');
    observer = new SqliteDatabase(file, { readonly: true });
    const committed = observer.prepare('select state, locked_by from rings where id = ?');
    const seen: string[] = [];
    const sent: string[] = [];
    const executor = h.server.store.db.getExecutor();
    // Before every statement the step sends, what other connections can read of the ring (committed data only).
    const watch: KyselyPlugin = {
      transformQuery: (args) => {
        seen.push((committed.get(ring.id) as { state: string }).state);
        sent.push(executor.compileQuery(args.node, args.queryId).sql);
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const deps = stepDeps(h, 'the-step', { db: h.server.store.db.withPlugin(watch) });
    const before = (committed.get(ring.id) as { state: string }).state;
    expect(await runRingStep(deps, ring.id)).toBe('progressed');
    expect(new Set(seen)).toEqual(new Set([before]));
    expect(committed.get(ring.id)).toEqual({ state: 'release-in-progress', locked_by: null });
    const groups = observer.prepare('select g.state from installation_groups g join ring_installation_groups r on r.installation_group_id = g.id where r.ring_id = ? order by g.name').all(ring.id);
    expect(groups).toEqual([{ state: 'release-requested' }, { state: 'release-pending' }]);
    // The queues' heads are looked up once for the step's moves, not once per move (two reads each time).
    expect(sent.filter((statement) => /^select "id" from "rings" where "delete_at" = \? and "state" in/.test(statement))).toHaveLength(2);
    // Every move still has its event, once and in order.
    const moves = (await h.events(ring.id)).filter((e) => (e.kind === 'ring.state' || e.kind === 'group.state') && e.newState !== 'stable').reverse();
    expect(moves.map((e) => `${e.kind} ${e.oldState} → ${e.newState}`).slice(-3)).toEqual([
      `ring.state ${before} → release-requested`,
      'ring.state release-requested → release-in-progress',
      'group.state release-pending → release-requested',
    ]);
  });
});
