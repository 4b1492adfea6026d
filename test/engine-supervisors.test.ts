import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { connect, type Store } from '../src/store/connect.js';
import { Supervisor } from '../src/engine/supervisor.js';
import type { EngineDeps } from '../src/engine/engine-deps.js';
import { createProvisionerClient, type ProvisionerClient } from '../src/integrations/provisioner-client.js';
import { webhookSink } from '../src/integrations/webhooks.js';
import { grafanaSink } from '../src/integrations/grafana.js';
import { createLogger } from '../src/logging.js';

let h: Harness | undefined;
const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await h?.close();
  h = undefined;
});

const MID_RELEASE = ['release-requested', 'release-in-progress', 'soaking-requested', 'release-rollback-requested'];

/** A second "process": its own connection to the same database file, its own lease owner. */
function supervisorOn(harness: Harness, owner: string, databaseUrl: string): { supervisor: Supervisor; calls(): number } {
  // Both supervisors share one thread here, so waiting for the other's write lock would only block it: fail fast instead.
  const store = connect(databaseUrl, { busyTimeoutMs: 0 });
  stores.push(store);
  const log = createLogger({ silent: true });
  const client = createProvisionerClient({ baseUrl: harness.provisioner.url, now: () => harness.clock.now() });
  let calls = 0;
  const provisioner: ProvisionerClient = {
    getGroup: (id) => (calls++, client.getGroup(id)),
    updateGroup: (id, patch) => (calls++, client.updateGroup(id, patch)),
    getGroupStatus: (id) => (calls++, client.getGroupStatus(id)),
    installations: (id) => (calls++, client.installations(id)),
  };
  const deps: EngineDeps = {
    store,
    clock: harness.clock,
    log,
    sinks: [webhookSink, grafanaSink(0)],
    provisioner,
    config: { maxParallelGroups: 1, groupReleaseTimeoutMs: 3600_000, statusIntervalMs: 10_000, leaseMs: 2_000, sloIntervalMs: 60_000, sloMaxFailures: 10 },
    owner,
    random: () => 0.5,
  };
  return { supervisor: new Supervisor(deps, { pollSeconds: 0, rings: true, groups: true }), calls: () => calls };
}

describe('two supervisors on one database file', () => {
  it('never run the same step: one PUT per group, rings in priority order, one ring at a time', async () => {
    h = await startHarness({ settleInstantly: false, provisioner: { rolloutDurationMs: 2_000 } });
    const rings = [
      await h.ring('one', 1, { groups: 2, groupSoak: 3, soak: 5 }),
      await h.ring('two', 2, { groups: 2, groupSoak: 3, soak: 5 }),
      await h.ring('three', 3, { groups: 2, groupSoak: 3, soak: 5 }),
    ];
    const databaseUrl = h.server.store.description.replace(/^sqlite /, 'sqlite://');
    const a = supervisorOn(h, 'supervisor-a', databaseUrl);
    const b = supervisorOn(h, 'supervisor-b', databaseUrl);
    const both = async () => {
      // A step that hit the other's write lock (SQLITE_BUSY) failed and is retried by a later pass, as in
      // production; a lease it could not give back expires after leaseMs. Few passes each: they share one thread.
      await Promise.allSettled([a.supervisor.runUntilIdle(10), b.supervisor.runUntilIdle(10)]);
    };
    for (let i = 0; i < 10; i++) {
      await both();
      h.clock.advance(500);
    }
    expect((await h.api('GET', '/rings')).body.map((r: { State: string }) => r.State)).toEqual(['stable', 'stable', 'stable']);

    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    const order: string[] = [];
    for (let round = 0; round < 400; round++) {
      await both();
      const now = (await h.api('GET', '/rings')).body as Array<{ Name: string; State: string }>;
      const mid = now.filter((r) => MID_RELEASE.includes(r.State));
      expect(mid.length).toBeLessThanOrEqual(1);
      for (const ring of mid) if (!order.includes(ring.Name)) order.push(ring.Name);
      if (now.every((r) => r.State === 'stable')) break;
      h.clock.advance(500);
    }
    expect((await h.api('GET', '/rings')).body.map((r: { State: string }) => r.State)).toEqual(['stable', 'stable', 'stable']);
    expect(order).toEqual(['one', 'two', 'three']);

    // Each group was patched exactly once, in ring order and group order.
    const expectedOrder = rings.flatMap((r) => r.groups.map((g) => g.provisionerGroupId));
    for (const pgid of expectedOrder) {
      expect(h.provisioner.puts(pgid)).toHaveLength(1);
      expect(h.provisioner.group(pgid)!.Version).toBe('v2');
    }
    expect(h.provisioner.puts().map((p) => p.ID)).toEqual(expectedOrder);

    // No transition was recorded twice: every step ran once.
    for (const ring of rings) {
      const events = (await h.events(ring.id)).reverse().filter((e) => e.kind === 'ring.state' || e.kind === 'group.state');
      const seen = events.map((e) => `${e.installationGroupId ?? 'ring'}:${e.oldState}→${e.newState}`);
      expect(new Set(seen).size).toBe(seen.length);
      expect(events.filter((e) => !e.installationGroupId).map((e) => e.newState)).toEqual([
        'creation-requested',
        'stable',
        'release-pending',
        'release-requested',
        'release-in-progress',
        'soaking-requested',
        'stable',
      ]);
    }
    // Both took part.
    expect(a.calls()).toBeGreaterThan(0);
    expect(b.calls()).toBeGreaterThan(0);
  });
});
