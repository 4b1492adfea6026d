// In-process: time every SQLite statement by SQL text while a scenario runs.
import Database from '/work/main/node_modules/better-sqlite3/lib/index.js';
const stats = new Map();
const origPrepare = Database.prototype.prepare;
Database.prototype.prepare = function (src) {
  const stmt = origPrepare.call(this, src);
  for (const m of ['all', 'run', 'get', 'iterate']) {
    const f = stmt[m];
    if (typeof f !== 'function') continue;
    stmt[m] = function (...a) { const t = performance.now(); try { return f.apply(this, a); } finally { const d = performance.now() - t; const s = stats.get(src) ?? { n: 0, ms: 0, max: 0 }; s.n++; s.ms += d; s.max = Math.max(s.max, d); stats.set(src, s); } };
  }
  return stmt;
};
const root = '/work/main/dist';
const { FakeProvisioner } = await import(`${root}/test/fakes/fake-provisioner.js`);
const { FakeMattermost } = await import(`${root}/test/fakes/fake-mattermost.js`);
const { seedDatabase, createProvisionerGroups } = await import(`${root}/bench/lib/seed.js`);
const { startServer } = await import(`${root}/src/server.js`);
const { defaultServerConfig } = await import(`${root}/src/config.js`);
const { createLogger } = await import(`${root}/src/logging.js`);
const autocannon = (await import('/work/main/node_modules/autocannon/autocannon.js')).default;
const { mkdtempSync } = await import('node:fs');
const RINGS = Number(process.env.RINGS ?? 500);
const dir = mkdtempSync('/tmp/elrond-inproc-');
const prov = new FakeProvisioner({ rolloutDurationMs: Number(process.env.ROLLOUT ?? 1000) }); const purl = await prov.start();
const mm = new FakeMattermost(); const mmUrl = await mm.start();
const team = mm.addTeam({ name: 'release' }); const ch = mm.addChannel({ teamId: team.id, name: 'releases' }); const bot = mm.addBot({ username: 'bot' }); mm.addChannelMember(ch.id, bot.userId);
const user = mm.addUser({ username: 'bench' }); mm.addChannelMember(ch.id, user.id);
const pgs = createProvisionerGroups(prov, RINGS, 1, { installations: 1 });
await seedDatabase(`${dir}/x.db`, { rings: RINGS, groupsPerRing: 1, ringSoakSeconds: 0, provisionerGroupId: (r, g) => pgs[r][g] });
const config = { ...defaultServerConfig(), database: `sqlite://${dir}/x.db`, listen: '127.0.0.1:0', poll: 30, provisionerServer: purl, mattermostUrl: mmUrl, mattermostToken: bot.token, mattermostTeams: ['release'], notifyChannel: 'release/releases', slashCommandTokens: ['tok'] };
const server = await startServer(config, { log: createLogger({ silent: true }) });
stats.clear();
const t0 = Date.now();
await fetch(`${server.url}/api/rings/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: 'mattermost/mattermost-enterprise-edition', version: 'v2' }) });
const target = process.env.TARGET ?? 'none';
const dur = Number(process.env.DUR ?? 8);
if (target === 'none') await new Promise((r) => setTimeout(r, dur * 1000));
else {
  const form = (text) => new URLSearchParams({ token: 'tok', team_id: team.id, channel_id: ch.id, user_id: user.id, user_name: 'bench', command: '/elrond', text }).toString();
  const opts = target === 'api' ? { url: `${server.url}/api/rings` } : { url: `${server.url}/mattermost/command`, method: 'POST', body: form(target), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  const r = await autocannon({ ...opts, connections: 50, duration: dur });
  console.log('p99', r.latency.p99, 'rps', r.requests.average, 'non2xx', r.non2xx);
}
const done = server.store.db;
const { rows } = await (await import(`${root}/../node_modules/kysely/dist/esm/index.js`)).sql`select count(*) as n from rings where state = 'stable' and active_release_id = desired_release_id and desired_release_id != (select active_release_id from rings limit 0)`.execute(done).catch(() => ({ rows: [] }));
const total = [...stats.values()].reduce((a, s) => a + s.ms, 0);
console.log('elapsed', Date.now() - t0, 'sql total ms', total.toFixed(0));
for (const [src, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 15))) console.log(s.ms.toFixed(0).padStart(7), String(s.n).padStart(7), (s.ms / s.n).toFixed(3).padStart(8), src.slice(0, 230));
const evs = await (await import(`${root}/../node_modules/kysely/dist/esm/index.js`)).sql`select count(*) as n from events where kind = 'ring.state' and new_state = 'stable' and at >= ${t0}`.execute(done);
console.log('rings stable since start', evs.rows[0]);
await server.close(); await prov.stop(); await mm.stop();
process.exit(0);
