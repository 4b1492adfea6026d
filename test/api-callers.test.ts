import { describe, it, expect, afterEach } from 'vitest';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';

/**
 * A REST caller is what its credential proves, never what its headers claim: the role and the actor come from the
 * token (the --api-token is recorded as "api-token"); X-Elrond-Actor is ignored with a token, and X-Elrond-Source
 * may only say "cli".
 */
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const post = (url: string, body: unknown, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('REST callers', () => {
  it('headers naming a chat user neither lower nor raise what a token may do, and are not recorded as chat', async () => {
    h = await startHarness({ config: { apiToken: 'the-admin-token', admins: ['alice'] } });
    // Before: "X-Elrond-Source: chat" was recorded as coming from chat, and where a service checked permissions
    // (lifting a freeze) the chat policy judged the header's name: the admin token got "403 @carol may not …".
    const created = await post(`${h.server.url}/api/rings`, { name: 'claimed', priority: 1, image: IMAGE, version: 'v1' }, {
      Authorization: 'Bearer the-admin-token',
      'X-Elrond-Source': 'chat',
      'X-Elrond-Actor': 'carol',
    });
    expect(created.status).toBe(202);
    const id = ((await created.json()) as { ID: string }).ID;
    const events = await fetch(`${h.server.url}/api/events?ring=${id}`, { headers: { Authorization: 'Bearer the-admin-token' } });
    expect(((await events.json()) as Array<{ actor: string; source: string }>).map((e) => ({ actor: e.actor, source: e.source }))).toEqual([{ actor: 'api-token', source: 'api' }]);
    const freeze = await post(`${h.server.url}/api/freezes`, { start: '+1h', end: '+2h', reason: 'maintenance' }, { Authorization: 'Bearer the-admin-token' });
    const lifted = await fetch(`${h.server.url}/api/freeze/${((await freeze.json()) as { id: string }).id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer the-admin-token', 'X-Elrond-Source': 'chat', 'X-Elrond-Actor': 'carol' },
    });
    expect({ status: lifted.status, body: await lifted.text() }).toEqual({ status: 200, body: '' });
    // The CLI's own source is kept.
    const cli = await post(`${h.server.url}/api/rings`, { name: 'from-cli', priority: 2 }, { Authorization: 'Bearer the-admin-token', 'X-Elrond-Source': 'cli', 'X-Elrond-Actor': 'dana' });
    expect(cli.status).toBe(202);
    const cliEvents = await fetch(`${h.server.url}/api/events?ring=${((await cli.json()) as { ID: string }).ID}`, { headers: { Authorization: 'Bearer the-admin-token' } });
    expect(((await cliEvents.json()) as Array<{ source: string }>)[0]!.source).toBe('cli');
  });
});
