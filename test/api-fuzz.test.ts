/**
 * Property-based: random bodies, ids, query strings, content types and methods thrown at EVERY route of
 * API_ROUTES. Whatever arrives, the server answers below 500, errors are JSON `{"error": "..."}`, it keeps
 * serving, and a rejected request writes nothing (every table's rows are unchanged).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { startHarness, IMAGE, type Harness } from './helpers/harness.js';
import { TEST_DIALECTS } from './helpers/temp-database.js';
import { API_ROUTES, type Route } from '../src/http/api-routes.js';

const RUNS_PER_GROUP = 150;

/** Route groups, each fuzzed with RUNS_PER_GROUP runs. Every route must be in one (checked below). */
const GROUPS: Record<string, (route: Route) => boolean> = {
  'rings collection': (r) => r.path.startsWith('/rings'),
  'one ring': (r) => r.path.startsWith('/ring/') && !r.path.includes('installationgroup'),
  'installation groups': (r) => r.path.includes('installationgroup'),
  'releases and events': (r) => r.path.startsWith('/release/') || r.path.startsWith('/events'),
  webhooks: (r) => r.path.startsWith('/webhook'),
  security: (r) => r.path.startsWith('/security/'),
  'freezes, why and status': (r) => r.path.startsWith('/freeze') || r.path.endsWith('/why') || r.path === '/why' || r.path === '/status',
  subscriptions: (r) => r.path.startsWith('/subscriptions'),
};

/** A valid body (or several) per route, which the fuzz then damages. */
const VALID_BODIES: Record<string, Array<Record<string, unknown>>> = {
  'POST /rings': [
    { name: 'fz-ring', priority: 4, soakTime: 60, image: IMAGE, version: 'v1', apiSecurityLock: false },
    { name: 'fz-ring-ig', priority: 5, installationGroup: { name: 'fz-ig', provisionerGroupID: 'pgfzig', soakTime: 0 } },
  ],
  'POST /rings/release': [{ image: IMAGE, version: 'v3', force: false, EnvVariables: { MM_FZ: { value: 'on' } }, reason: 'fuzz' }],
  'POST /rings/rollback': [{ reason: 'fuzz' }],
  'POST /ring/:ring/update': [{ name: 'fz-renamed', priority: 7, soakTime: 90 }],
  'POST /ring/:ring/release': [{ image: IMAGE, version: 'v4', force: true, EnvVariables: { MM_FZ: { value: 'off' } } }, { version: 'v5' }],
  'POST /ring/:ring/rollback': [{ reason: 'fuzz' }],
  'POST /ring/:ring/installationgroup': [{ name: 'fz-group', provisionerGroupID: 'pgfz', soakTime: 5 }],
  'POST /installationgroup/:group/update': [{ name: 'fz-group-renamed', provisionerGroupID: 'pgfz2', soakTime: 6 }],
  'POST /rings/release/plan': [{ image: IMAGE, version: 'v6', force: false }],
  'POST /ring/:ring/release/plan': [{ version: 'v7' }],
  'POST /freezes': [{ start: '2030-01-01T00:00:00Z', end: '2030-01-02T00:00:00Z', reason: 'fuzz freeze' }, { cron: '0 22 * * 5', duration: '2h', timezone: 'Europe/Berlin', reason: 'fuzz weekly' }],
  'POST /freezes/now': [{ reason: 'fuzz stop', until: '+1h' }],
  'POST /subscriptions': [{ channel: 'release/ops', rings: [] }],
  'POST /webhooks': [{ OwnerID: 'fz', URL: 'http://127.0.0.1:9/fz' }, { OwnerID: 'fz', URL: 'http://127.0.0.1:9/fz2', secret: 's' }],
};

const ID_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';
const FIELD_KEYS = [
  'name', 'Name', 'NAME', 'priority', 'Priority', 'soakTime', 'SoakTime', 'soaktime', 'image', 'Image', 'version', 'Version',
  'force', 'Force', 'EnvVariables', 'envVariables', 'installationGroup', 'InstallationGroup', 'provisionerGroupID', 'apiSecurityLock',
  'OwnerID', 'ownerid', 'URL', 'url', 'secret', 'reason', 'Reason', '__proto__', 'constructor', 'toString', '',
];

/** Everything a database row could be changed by, so "nothing written" is checked exactly. */
async function tables(h: Harness) {
  const db = h.server.store.db;
  const [rings, groups, links, releases, rollouts, webhooks, events, outbox, freezes] = await Promise.all([
    db.selectFrom('rings').selectAll().orderBy('id').execute(),
    db.selectFrom('installation_groups').selectAll().orderBy('id').execute(),
    db.selectFrom('ring_installation_groups').selectAll().orderBy('id').execute(),
    db.selectFrom('releases').selectAll().orderBy('id').execute(),
    db.selectFrom('rollouts').selectAll().orderBy('id').execute(),
    db.selectFrom('webhooks').selectAll().orderBy('id').execute(),
    db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('freezes').selectAll().orderBy('id').execute(),
  ]);
  return { rings, groups, links, releases, rollouts, webhooks, events: Number(events.n), outbox: Number(outbox.n), freezes };
}

/** The large bodies, built once and referred to by name in the arbitraries. */
const BIG_BODIES: Record<string, string> = {
  '<<deep object>>': `{"a":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`,
  '<<deep installationGroup>>': `{"name":"fz","priority":1,"installationGroup":${'{"name":'.repeat(20_000)}1${'}'.repeat(20_000)}}`,
  '<<deep array>>': `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  '<<over 1mb>>': `{"name":"${'x'.repeat(1_100_000)}","priority":1}`,
};
const expandBody = (body: string | undefined) => (body !== undefined && Object.hasOwn(BIG_BODIES, body) ? BIG_BODIES[body] : body);

function arbitraries(ids: string[]) {
  const segment = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...ids) },
    { weight: 2, arbitrary: fc.stringOf(fc.constantFrom(...ID_ALPHABET), { minLength: 26, maxLength: 26 }) },
    { weight: 2, arbitrary: fc.fullUnicodeString({ maxLength: 40 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom('%zz', '%00', '%', '..', '%2F', 'a%20b', 'A'.repeat(26), 'a'.repeat(500), '%F0%9F%92%A9', '%C0%AF') },
  );
  const queryValue = fc.oneof(
    fc.integer({ min: -3, max: 20_000 }).map(String),
    fc.constantFrom('true', 'false', 'T', '0', '1', '-1', '1e3', '0x10', '', ' ', '%00', '%zz', ...ids.slice(0, 3)),
    fc.fullUnicodeString({ maxLength: 20 }).map(encodeURIComponent),
  );
  const query = fc
    .array(fc.tuple(fc.constantFrom('page', 'per_page', 'include_deleted', 'owner', 'ring', 'limit', 'page[x]', 'x'), queryValue), { maxLength: 4 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
  const leaf = fc.oneof(
    fc.constantFrom(IMAGE, 'v1', 'v2', 'v3', 1, 2, 3, 0, -1, 1.5, 1e308, true, false, null, '', 'pg1', 'pgnew', 'http://127.0.0.1:9/hook', 'ftp://x', 'a\u0000b'),
    fc.integer(),
    fc.string({ maxLength: 30 }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom({ value: 'x' }, { MM_X: { value: 'on' } }, { MM_X: 'on' }, { name: 'fz', provisionerGroupID: 'pgfz', soakTime: 5 }, []),
  );
  // Values that pass a type check but not a database or a stack: NUL, huge, deep, odd Unicode.
  const nasty = fc.constantFrom<unknown>(
    'fz\u0000nul',
    '\u0000',
    'x'.repeat(5000),
    '\ud800',
    '🦄'.repeat(40),
    ' padded ',
    JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`),
    { MM_FZ: { value: 'a\u0000b' } },
    { MM_FZ: { value: 'on', valueFrom: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) } },
    2 ** 31,
    Number.MAX_SAFE_INTEGER,
    -0,
  );
  // Near-valid bodies: a valid request of the route, each field kept, dropped or replaced, keys in any case.
  const nearValid = (route: Route) =>
    fc.constantFrom(...(VALID_BODIES[`${route.method.toUpperCase()} ${route.path}`] ?? [{}])).chain((template) =>
      fc
        .tuple(
          ...Object.entries(template).map(([key, value]) =>
            fc.tuple(
              fc.constantFrom(key, key.toLowerCase(), key.toUpperCase()),
              fc.oneof(
                { weight: 12, arbitrary: fc.constant<unknown>(value) },
                { weight: 1, arbitrary: fc.constant<unknown>(undefined) },
                { weight: 1, arbitrary: leaf },
                { weight: 1, arbitrary: nasty },
              ),
            ),
          ),
        )
        .map((fields) => JSON.stringify(Object.fromEntries(fields.filter(([, value]) => value !== undefined)))),
    );
  const objectBody = fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_KEYS), fc.string({ maxLength: 10 })), leaf, { maxKeys: 6 }).map((o) => JSON.stringify(o));
  const body = (route: Route) => fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: objectBody },
    { weight: 10, arbitrary: nearValid(route) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        // Named, so a counterexample stays readable; expanded by expandBody().
        '<<deep object>>',
        '<<deep installationGroup>>',
        '<<deep array>>',
        '<<over 1mb>>',
        '{"__proto__":{"name":"p","priority":1,"OwnerID":"o","URL":"http://127.0.0.1:9/p"}}',
        '{"name":"nul\\u0000","priority":1}',
        '{"name": "x", "priority": 1',
        '\uFEFF{}',
        'null',
      ),
    },
  );
  const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', undefined);
  return { segment, query, body, contentType };
}

for (const dialect of TEST_DIALECTS) {
  describe(`API fuzz (${dialect})`, () => {
    let h: Harness;
    const ids: string[] = [];

    beforeAll(async () => {
      // Its webhooks aim at 127.0.0.1:9 (discard), an internal address: allowed only with --webhook-allow-private.
      h = await startHarness({ dialect, config: { webhookAllowPrivate: true } });
      const a = await h.ring('fuzz-a', 1, { groups: 2 });
      const b = await h.ring('fuzz-b', 2, { groups: 1 });
      await h.api('POST', '/rings', { name: 'fuzz-c', priority: 3 });
      await h.settle();
      const release = await h.api('POST', `/ring/${b.id}/release`, { image: IMAGE, version: 'v2' });
      const hook = await h.api('POST', '/webhooks', { OwnerID: 'fuzz', URL: 'http://127.0.0.1:9/fuzz' });
      await h.settle();
      ids.push(a.id, b.id, ...a.groups.map((g) => g.id), ...b.groups.map((g) => g.id), release.body.DesiredReleaseID, release.body.ActiveReleaseID, hook.body.ID);
    }, 60_000);
    afterAll(async () => {
      await h.close();
    });

    it('every route belongs to a fuzzed group', () => {
      for (const route of API_ROUTES) expect(Object.values(GROUPS).some((inGroup) => inGroup(route)), `${route.method} ${route.path}`).toBe(true);
    });

    for (const [group, inGroup] of Object.entries(GROUPS)) {
      it(`${group}: random input never gets a 5xx, a crash, a non-JSON error or a partial write`, async () => {
        const routes = API_ROUTES.filter(inGroup);
        const { segment, query, body, contentType } = arbitraries(ids);
        const statuses = new Map<number, number>();
        let dirty = true;
        const request = fc.constantFrom(...routes).chain((route) =>
          fc.record({
            // "METHOD /path", so a counterexample prints compactly.
            route: fc.constant(`${route.method.toUpperCase()} ${route.path}`),
            params: fc.array(segment, { minLength: 3, maxLength: 3 }),
            query,
            body: body(route),
            contentType,
            method: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH') }),
          }),
        );
        const count = (low: number, high: number) => [...statuses].filter(([status]) => status >= low && status < high).reduce((sum, [, n]) => sum + n, 0);
        // A group whose routes need a JSON body and the right kind of id in each segment gets a 2xx from a few
        // percent of random requests: 150 of them found none once in a clean-clone CI run. More rounds, only then.
        for (let round = 0; round === 0 || (round < 3 && count(200, 300) === 0); round++) {
          await fc.assert(
            fc.asyncProperty(request, async ({ route: key, params, query: search, body: payload, contentType: type, method }) => {
              const route = routes.find((r) => `${r.method.toUpperCase()} ${r.path}` === key)!;
              const sent = expandBody(payload);
              let n = 0;
              const path = route.path.replace(/:\w+/g, () => params[n++]!);
              const verb = method ?? route.method.toUpperCase();
              // Only an accepted change wakes the supervisor; let it finish so it cannot write during the check.
              if (dirty) await h.server.supervisor.runUntilIdle();
              const before = await tables(h);
              const response = await fetch(`${h.server.url}/api${path}${search}`, {
                method: verb,
                headers: type ? { 'Content-Type': type } : {},
                ...(sent === undefined || verb === 'GET' ? {} : { body: sent }),
              });
              const text = await response.text();
              statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
              dirty = response.status < 300 && verb !== 'GET';
              const where = `${verb} ${path}${search} ${String(payload).slice(0, 120)} → ${response.status} ${text.slice(0, 200)}`;
              expect(response.status, where).toBeLessThan(500);
              if (response.status >= 400) {
                expect(response.headers.get('content-type') ?? '', where).toMatch(/^application\/json/);
                const error = (JSON.parse(text) as { error?: unknown }).error;
                expect(typeof error === 'string' && error.length > 0, where).toBe(true);
                expect(await tables(h), `rejected request wrote something: ${where}`).toEqual(before);
              } else if (text !== '') {
                expect(() => JSON.parse(text), where).not.toThrow();
              }
            }),
            { numRuns: RUNS_PER_GROUP },
          );
        }
        // The generators reach the services: some requests succeed, some are refused.
        expect(count(200, 300), JSON.stringify([...statuses])).toBeGreaterThan(0);
        expect(count(400, 500), JSON.stringify([...statuses])).toBeGreaterThan(0);
        const health = await fetch(`${h.server.url}/healthz`);
        expect(health.status).toBe(200);
      }, 60_000);
    }
  });
}
