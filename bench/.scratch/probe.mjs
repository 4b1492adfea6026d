// Start a real server on a seeded DB (no release), then autocannon several URLs: the per-request cost.
const root = '/work/main/dist';
const { FakeProvisioner } = await import(`${root}/test/fakes/fake-provisioner.js`);
const { seedDatabase } = await import(`${root}/bench/lib/seed.js`);
const { ElrondProcess } = await import(`${root}/bench/lib/elrond-process.js`);
const autocannon = (await import('/work/main/node_modules/autocannon/autocannon.js')).default;
const { mkdtempSync } = await import('node:fs');
const dir = mkdtempSync('/tmp/elrond-probe-');
const prov = new FakeProvisioner(); const purl = await prov.start();
await seedDatabase(`${dir}/x.db`, { rings: Number(process.env.RINGS ?? 500), groupsPerRing: Number(process.env.G ?? 1), ringSoakSeconds: 0 });
const server = await ElrondProcess.start({ database: `sqlite://${dir}/x.db`, provisionerUrl: purl, args: ['--slash-command-token', 'tok'], nodeArgs: process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [] });
const form = (text) => new URLSearchParams({ token: 'tok', team_id: 't', channel_id: 'c', user_id: 'u', user_name: 'bench', command: '/elrond', text }).toString();
const targets = (process.env.URLS ?? '/healthz,/api/rings?per_page=10,/api/rings,chat:ring list,chat:status').split(',');
for (const t of targets) {
  const opts = t.startsWith('chat:') ? { url: `${server.url}/mattermost/command`, method: 'POST', body: form(t.slice(5)), headers: { 'content-type': 'application/x-www-form-urlencoded' } } : { url: `${server.url}${t}` };
  const c0 = server.cpuMs();
  const r = await autocannon({ ...opts, connections: Number(process.env.CONN ?? 50), duration: Number(process.env.DUR ?? 5) });
  const cpu = server.cpuMs() - c0;
  console.log(t.padEnd(28), 'p50', r.latency.p50, 'p99', r.latency.p99, 'rps', Math.round(r.requests.average), 'cpu/req ms', (cpu / r.requests.total).toFixed(2), 'bytes', Math.round(r.throughput.average / r.requests.average), 'non2xx', r.non2xx);
}
await server.stop(); await prov.stop();
if (process.env.PROF) console.log('profile in', dir);
