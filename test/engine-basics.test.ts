import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('release engine basics', () => {
  it('creates rings, then walks an all-rings release in priority order with soaks', async () => {
    h = await startHarness();
    const r1 = await h.ring('ring-1', 1, { soak: 60, groupSoak: 10 });
    const r2 = await h.ring('ring-2', 2, { soak: 60, groupSoak: 10 });
    await h.settle();
    expect((await h.api('GET', `/ring/${r1.id}`)).body.State).toBe('stable');

    const release = await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
    expect(release.status).toBe(202);
    await h.settle();
    // ring-1's group was patched and rolled at once (instant fake); it soaks 10 s; ring-2 waits.
    expect(h.provisioner.puts().map((p) => p.ID)).toEqual([r1.groups[0]!.provisionerGroupId]);
    const ring2 = await h.api('GET', `/ring/${r2.id}`);
    expect(ring2.body.State).toBe('release-pending');
    expect(ring2.body.statusMessage).toMatch(/ring-1/);

    await h.advance(10_000); // group soak over → ring soak starts
    expect((await h.api('GET', `/ring/${r1.id}`)).body.State).toBe('soaking-requested');
    await h.advance(59_000);
    expect((await h.api('GET', `/ring/${r1.id}`)).body.State).toBe('soaking-requested');
    await h.advance(1_000);
    const done1 = await h.api('GET', `/ring/${r1.id}`);
    expect(done1.body.State).toBe('stable');
    expect(done1.body.ActiveReleaseID).toBe(done1.body.DesiredReleaseID);
    expect(h.provisioner.puts().map((p) => p.ID)).toEqual([r1.groups[0]!.provisionerGroupId, r2.groups[0]!.provisionerGroupId]);
    await h.advance(10_000); // ring-2's group soak
    await h.advance(60_000); // ring-2's soak
    expect((await h.api('GET', `/ring/${r2.id}`)).body.State).toBe('stable');
    const events = await h.api('GET', `/events?ring=${r1.id}&limit=100`);
    expect(events.body.map((e: { newState: string }) => e.newState).filter(Boolean)).toContain('soaking-requested');
  });
});
