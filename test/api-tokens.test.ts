import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TEST_DIALECTS, tempDatabase, type TempDatabase } from './helpers/temp-database.js';
import { createApiToken, hashToken, listApiTokens, revokeApiToken, storedTokens, TOKEN_PREFIX } from '../src/store/api-tokens.js';
import { restCredentials, TOKEN_CACHE_MS } from '../src/http/rest-credentials.js';
import { ManualClock } from '../src/model/clock.js';

describe.each(TEST_DIALECTS)('API tokens on %s', (dialect) => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await tempDatabase(dialect);
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('stores only a hash of a token, shown once; names are unique and checked', async () => {
    const token = await createApiToken(db.store.db, { name: 'ci-deployer', role: 'releaser', now: 1000 });
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token.length).toBeGreaterThan(40);
    const rows = await db.store.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows.map((row) => row.token_hash)).toEqual([hashToken(token)]);
    await expect(createApiToken(db.store.db, { name: 'ci-deployer', role: 'admin', now: 1000 })).rejects.toThrow(/a token named ci-deployer exists already: revoke it first/);
    await expect(createApiToken(db.store.db, { name: '@all\nx', role: 'admin', now: 1000 })).rejects.toThrow(/token name .* is not valid/);
    expect(await listApiTokens(db.store.db)).toEqual([{ name: 'ci-deployer', role: 'releaser', createAt: 1000, lastUsedAt: null }]);
  });

  it('resolves a presented token to its name and role, records its use, and forgets it within the cache time once revoked', async () => {
    const clock = new ManualClock(50_000);
    const token = await createApiToken(db.store.db, { name: 'dashboard', role: 'viewer', now: clock.now() });
    const credentials = restCredentials({ tokens: [{ token: 'boot', role: 'admin' }], db: db.store.db, now: () => clock.now() });
    expect(await credentials.resolve(token)).toMatchObject({ name: 'dashboard', role: 'viewer', named: true });
    expect(await credentials.resolve('boot')).toMatchObject({ name: 'api-token', role: 'admin', named: false });
    expect(await credentials.resolve(`${token}x`)).toBeUndefined();
    await expect.poll(async () => (await listApiTokens(db.store.db)).find((t) => t.name === 'dashboard')?.lastUsedAt).toBe(50_000);

    await revokeApiToken(db.store.db, 'dashboard');
    await expect(revokeApiToken(db.store.db, 'dashboard')).rejects.toThrow(/no token named "dashboard"/);
    // Within the cache time a revoked token may still pass; after it, never.
    clock.advance(TOKEN_CACHE_MS);
    expect(await credentials.resolve(token)).toBeUndefined();
    expect((await storedTokens(db.store.db)).map((t) => t.name)).toEqual(['ci-deployer']);
  });

  it('needs a token once any exists, start-up or stored', async () => {
    const clock = new ManualClock(0);
    const none = restCredentials({ tokens: [], now: () => clock.now() });
    expect(await none.required()).toBe(false);
    expect(await restCredentials({ tokens: [], db: db.store.db, now: () => clock.now() }).required()).toBe(true);
  });
});
