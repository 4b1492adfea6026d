import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; let total = 0;
const counts = new Map();
for (let i = 0; i < p.samples.length; i++) { counts.set(p.samples[i], (counts.get(p.samples[i]) ?? 0) + (dt[i] ?? 0)); total += dt[i] ?? 0; }
// self time by function
for (const [id, t] of counts) { const n = byId.get(id); const cf = n.callFrame; const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*node_modules\//, 'nm/').replace(/.*\/dist\//,'dist/')}:${cf.lineNumber}`; self.set(key, (self.get(key) ?? 0) + t); }
const top = [...self].sort((a,b)=>b[1]-a[1]).slice(0, Number(process.argv[3] ?? 30));
console.log('total ms', (total/1000).toFixed(0));
for (const [k, t] of top) console.log((t/1000).toFixed(0).padStart(8), ((t/total)*100).toFixed(1).padStart(5)+'%', k);
// inclusive time for our dist functions
const parent = new Map(); for (const n of p.nodes) for (const c of (n.children ?? [])) parent.set(c, n.id);
const incl = new Map();
for (const [id, t] of counts) { const seen = new Set(); let cur = id; while (cur !== undefined) { const n = byId.get(cur); const cf = n.callFrame; if (cf.url.includes('/dist/')) { const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/dist\//,'dist/')}:${cf.lineNumber}`; if (!seen.has(key)) { seen.add(key); incl.set(key, (incl.get(key) ?? 0) + t); } } cur = parent.get(cur); } }
console.log('--- inclusive (dist)');
for (const [k, t] of [...incl].sort((a,b)=>b[1]-a[1]).slice(0, Number(process.argv[4] ?? 30))) console.log((t/1000).toFixed(0).padStart(8), ((t/total)*100).toFixed(1).padStart(5)+'%', k);
