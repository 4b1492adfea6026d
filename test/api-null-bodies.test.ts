import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';

/**
 * The Go client's bodyless POSTs: `Client.doPost(url, nil)` marshals nil, so RetryCreateRing, PauseRelease,
 * ResumeRelease, CancelRelease and LockAPIForRing/UnlockAPIForRing (makeSecurityCall) send the body `null` with
 * `Content-Type: application/json` (mattermost/elrond model/client.go). Each keeps answering the status that
 * client checks for, and does what it says.
 */
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('null request bodies (the Go client\'s bodyless POSTs)', () => {
  it('retry, pause, resume, cancel, lock and unlock take "null" and answer as the Go client expects', async () => {
    h = await startHarness();
    const created = await h.api('POST', '/rings', { name: 'null-body', priority: 3, soakTime: 0, image: IMAGE, version: 'v1' });
    expect(created.status).toBe(202);
    const id = created.body.ID as string;
    // RetryCreateRing: 202 (the ring is still creation-requested, so the retry is a no-op).
    expect(await h.api('POST', `/ring/${id}`, 'null')).toMatchObject({ status: 202, body: { ID: id, State: 'creation-requested' } });
    await h.settle();

    await h.ring('first', 1, { soak: 600 });
    const other = await h.ring('second', 2);
    await h.settle();
    expect((await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await h.settle();
    // "first" soaks for 10 minutes (the clock stands still), so "second" waits, pending.
    expect((await h.getRing(other.id)).State).toBe('release-pending');
    expect(await h.api('POST', '/rings/release/pause', 'null')).toEqual({ status: 200, body: undefined });
    expect((await h.getRing(other.id)).State).toBe('release-paused');
    expect(await h.api('POST', '/rings/release/resume', 'null')).toEqual({ status: 200, body: undefined });
    expect((await h.getRing(other.id)).State).toBe('release-pending');
    expect(await h.api('POST', '/rings/release/cancel', 'null')).toEqual({ status: 200, body: undefined });
    expect((await h.getRing(other.id)).State).toBe('stable');

    expect(await h.api('POST', `/security/ring/${id}/api/lock`, 'null')).toEqual({ status: 200, body: undefined });
    expect((await h.getRing(id)).APISecurityLock).toBe(true);
    expect(await h.api('POST', `/security/ring/${id}/api/unlock`, 'null')).toEqual({ status: 200, body: undefined });
    expect((await h.getRing(id)).APISecurityLock).toBe(false);
  });

  it('a null body where a request is optional is an empty request; where one is needed, a 400 naming what is missing', async () => {
    h = await startHarness();
    const ring = await h.ring('null-update', 1, { soak: 0 });
    await h.settle();
    // UpdateRing(id, nil): nothing to change.
    expect(await h.api('POST', `/ring/${ring.id}/update`, 'null')).toMatchObject({ status: 202, body: { ID: ring.id, Name: 'null-update' } });
    expect(await h.api('POST', `/ring/${ring.id}/installationgroup`, 'null')).toMatchObject({ status: 400, body: { error: 'name: is required' } });
    expect(await h.api('POST', '/webhooks', 'null')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/the request body is empty: send \{"OwnerID"/) } });
    // Anything but an object or null is still refused.
    expect(await h.api('POST', `/ring/${ring.id}/update`, '[]')).toEqual({ status: 400, body: { error: 'the request body must be a JSON object' } });
  });
});
