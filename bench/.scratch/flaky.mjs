// How often does a release fail when the provisioner answers 30% of requests with 503? (manual clock, in-process)
const root = '/work/main/dist';
const { startHarness, IMAGE } = await import(`${root}/test/helpers/harness.js`);
const RELEASES = Number(process.env.N ?? 20);
let failed = 0, groupsFailed = 0, groups = 0, seconds = [];
for (let seed = 1; seed <= RELEASES; seed++) {
  const h = await startHarness({ settleInstantly: true, provisioner: { seed } });
  const rings = [];
  for (let r = 0; r < 5; r++) rings.push(await h.ring(`r${r}`, r + 1, { groups: 2, soak: 1 }));
  await h.settle();
  h.provisioner.setErrorRate(0.3, 503);
  const t0 = h.clock.now();
  await h.api('POST', '/rings/release', { image: IMAGE, version: 'v2' });
  await h.settle();
  for (let i = 0; i < 5000 && (await h.advanceToNextDeadline()); i++);
  const states = await Promise.all(rings.map((r) => h.getRing(r.id)));
  const bad = states.filter((s) => s.State !== 'stable');
  groups += 10;
  groupsFailed += states.flatMap((s) => s.installationGroups ?? []).filter((g) => g.state === 'release-failed').length;
  if (bad.length) failed++;
  seconds.push((h.clock.now() - t0) / 1000);
  await h.close();
}
console.log(`releases failed: ${failed}/${RELEASES}; groups failed ${groupsFailed}/${groups}; release time (virtual) median ${seconds.sort((a,b)=>a-b)[Math.floor(seconds.length/2)]} s, max ${Math.max(...seconds)} s`);
