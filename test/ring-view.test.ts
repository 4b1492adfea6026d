import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { TEST_DIALECTS } from './helpers/temp-database.js';

for (const dialect of TEST_DIALECTS) {
  describe(`one ring view for the engine and why (${dialect})`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('a ring waiting for approval says who may approve, in its stored status and in why alike', async () => {
      h = await startHarness({ dialect, config: { approvers: ['bob', 'carol'] } });
      const ring = await h.ring('gated', 1, { groups: 1 });
      expect((await h.api('POST', `/ring/${ring.id}/update`, { approvalRequired: true })).status).toBe(202);
      await h.settle();
      expect((await h.api('POST', `/ring/${ring.id}/release`, { image: IMAGE, version: 'v2' })).status).toBe(202);
      await h.settle();
      const expected = 'waiting for approval from @bob, @carol (Approve on the release card)';
      expect((await h.api('GET', `/ring/${ring.id}`)).body.statusMessage).toBe(expected);
      const [why] = (await h.api('GET', `/ring/${ring.id}/why`)).body;
      expect(why.next).toBe(`waiting: ${expected}`);
      expect((await h.api('GET', '/why')).body.find((w: { id: string }) => w.id === ring.id).next).toBe(`waiting: ${expected}`);
    });
  });
}
