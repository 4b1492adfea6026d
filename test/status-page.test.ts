import { describe, it, expect, afterEach } from 'vitest';
import { startPageServer, type PageServer } from './helpers/status-page-server.js';
import { IMAGE } from './helpers/harness.js';
import { pageViewer, sessionValue, SESSION_MS } from '../src/http/page-access.js';
import { safeNext } from '../src/http/status-page-router.js';

let s: PageServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${s!.server.url}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Release every ring to v2 as alice from the CLI. */
async function release(reason = 'monthly release') {
  const response = await fetch(`${s!.server.url}/api/rings/release`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Elrond-Actor': 'alice', 'X-Elrond-Source': 'cli', ...(s!.server ? {} : {}) },
    body: JSON.stringify({ image: IMAGE, version: 'v2', reason }),
  });
  expect(response.status).toBe(202);
  await s!.settle();
}

const ringState = async (id: string) => (await s!.api('GET', `/ring/${id}`)).body.State as string;
const rolloutId = async () => ((await s!.api('GET', '/events?limit=20')).body as Array<{ rolloutId: string | null }>).find((e) => e.rolloutId)!.rolloutId!;
/** The text a person reads: tags dropped, entities decoded. */
const visible = (html: string) => html.replace(/<title[^>]*>[^<]*<\/title>/g, ' ').replace(/<[^>]+>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

describe('status page', () => {
  it('shows every ring in order with state, versions, installation progress, soak countdown, what holds it and who started it', async () => {
    s = await startPageServer();
    const [canary, production] = await s.fleet([{ name: 'canary', priority: 1 }, { name: 'production', priority: 2, approval: true }]);
    await release();
    s.clock.advance(4000);
    await s.settle();
    let page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const text = visible(page.text);
    expect(text.indexOf('canary priority 1')).toBeGreaterThan(0);
    expect(text.indexOf('production priority 2')).toBeGreaterThan(text.indexOf('canary priority 1'));
    expect(text).toContain('canary priority 1 release-in-progress v1 → v2');
    // Groups roll one at a time: canary-2 has no provisioner status yet.
    expect(text).toMatch(/2\/4 installations · 0\/2 groups done/);
    expect(text).toContain('group canary-1: rolling out, 2 of 4 installations updated, 2 updating');
    expect(text).toContain('started by alice (unverified) (cli)');
    expect(text).toContain('production priority 2 release-pending v1 → v2');
    expect(text).toContain('needs approval');
    expect(text).toContain('Release of mattermost/mattermost-enterprise-edition:v2 in progress started by alice (unverified) (cli)');
    expect(text).toContain('“monthly release”');
    expect(text).toContain('Simulated provisioner — no real installation is updated (4 installations per new group, 2 at a time, 4s per update');

    await s.advanceUntil(async () => (await ringState(canary!)) === 'soaking-requested', 1000, 120_000);
    s.clock.advance(3000);
    page = await get('/');
    expect(visible(page.text)).toMatch(/soak: 7s left \(until \d\d:\d\d:\d\d UTC\)/);
    expect(visible(page.text)).toContain('8/8 installations · 2/2 groups done');
    expect(await ringState(production!)).toBe('release-pending');
  });

  it('draws the timeline from the events: rows per ring and group, rollout and soak bars, approval and freeze markers, a now line', async () => {
    s = await startPageServer();
    const [canary, production] = await s.fleet([{ name: 'canary', priority: 1 }, { name: 'production', priority: 2, approval: true }]);
    await release();
    await s.advanceUntil(async () => (await ringState(canary!)) === 'stable', 1000, 120_000);
    expect((await s.api('POST', `/ring/${production}/approve`)).status).toBe(200);
    await s.settle();
    expect((await s.api('POST', '/freezes/now', { reason: 'incident 1234', until: '+1m' })).status).toBe(201);
    const page = await get('/');
    const svg = /<svg class="timeline"[\s\S]*?<\/svg>/.exec(page.text)![0];
    const rows = [...svg.matchAll(/<g class="row row-(ring|group)[^"]*" data-row="[^"]+"><rect[^>]*><\/rect><text[^>]*>([^<]+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(rows).toEqual(['ring:canary', 'group:canary-1', 'group:canary-2', 'ring:production', 'group:production-1', 'group:production-2']);
    const bars = [...svg.matchAll(/data-row="([^"]+)" data-phase="(\w+)" data-status="(\w+)"/g)].map((m) => `${m[1] === canary ? 'canary' : m[1] === production ? 'production' : 'group'}:${m[2]}:${m[3]}`);
    expect(bars).toEqual(expect.arrayContaining(['canary:rollout:done', 'canary:soak:done', 'group:rollout:done', 'group:soak:done']));
    expect(svg).toContain(`data-marker="approval" data-row="${production}"`);
    expect(svg).toMatch(/<title>production approved by api<\/title>/);
    expect(svg).toContain(`data-marker="freeze" data-row="${canary}"`);
    expect(svg).toMatch(/<title>freeze by api: incident 1234<\/title>/);
    expect(svg).toContain('<g class="now" data-now>');

    // The rollout's own page says the same; once it ended there is no "now" line, and "recent" has its outcome.
    const id = await rolloutId();
    expect((await s.api('DELETE', `/freeze/${(await s.api('GET', '/freezes')).body[0].id}`)).status).toBe(200);
    await s.advanceUntil(async () => (await ringState(production!)) === 'stable', 1000, 300_000);
    const done = await get(`/rollouts/${id}`);
    expect(done.status).toBe(200);
    expect(done.text).not.toContain('data-now');
    const recent = visible(/<table class="recent">[\s\S]*?<\/table>/.exec(done.text)![0]);
    expect(recent).toMatch(/Release of mattermost\/mattermost-enterprise-edition:v2 monthly release alice \(unverified\) \(cli\) 2026-11-25 12:\d\d UTC \d+m( \d+s)? succeeded/);
  });

  it('keeps every user text inert: a ring name or a reason with markup is shown as text', async () => {
    s = await startPageServer();
    await s.fleet([{ name: 'canary <img src=x onerror=alert(1)>', priority: 1 }], 1);
    await release('</p><script>alert("x")</script>');
    const page = await get('/');
    expect(page.text).not.toMatch(/<img src=x|<script>alert/);
    expect(page.text).toContain('canary &lt;img src=x onerror=alert(1)>');
    expect(visible(page.text)).toContain('</p><script>alert("x")</script>');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers an unknown or malformed rollout with a 404 page, and offers no way to change anything', async () => {
    s = await startPageServer();
    const unknown = await get('/rollouts/00000000000000000000000000');
    expect(unknown.status).toBe(404);
    expect(visible(unknown.text)).toContain('rollout 00000000000000000000000000 not found');
    const malformed = await get('/rollouts/%3Cscript%3E');
    expect(malformed.status).toBe(404);
    expect(visible(malformed.text)).toContain('there is no rollout "<script>"');
    expect(malformed.text).not.toContain('<script>');
    // Only GET on the page; no form but sign-in/out posts anywhere.
    for (const path of ['/', '/rollouts/00000000000000000000000000']) expect((await fetch(`${s.server.url}${path}`, { method: 'POST' })).status).toBe(404);
    expect((await get('/')).text).not.toMatch(/<form(?![^>]*action="\/logout")/);
    // The assets come from the package: a stylesheet and a module script, no other origin named anywhere.
    const css = await get('/assets/status.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const js = await get('/assets/live.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.text).toContain("new EventSource(`/api/stream?since=");
    expect((await get('/')).text).not.toMatch(/https?:\/\//);
  });
});

describe('status page sign-in (--api-token)', () => {
  const TOKEN = 'page-token-0123456789';

  it('sends a browser to a sign-in form; the right token sets an HttpOnly, SameSite=Strict cookie that opens the page and the stream, not /api', async () => {
    s = await startPageServer({ config: { apiToken: TOKEN } });
    const first = await get('/rollouts/00000000000000000000000000?x=1');
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/login?next=%2Frollouts%2F00000000000000000000000000%3Fx%3D1');
    expect((await get('/?part=live')).status).toBe(401);
    expect((await get('/api/stream')).status).toBe(401);
    const form = await get('/login?next=/');
    expect(form.status).toBe(200);
    expect(form.text).toContain('<form method="post" action="/login"');

    const wrong = await fetch(`${s.server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope', next: '/' }), redirect: 'manual' });
    expect(wrong.status).toBe(401);
    expect(visible(await wrong.text())).toContain('That token is not valid here');
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const right = await fetch(`${s.server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN, next: '/rollouts/x' }), redirect: 'manual' });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/rollouts/x');
    const cookie = right.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^elrond_session=\d+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0]!;
    const page = await get('/', { Cookie: session });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign out');
    const stream = await fetch(`${s.server.url}/api/stream`, { headers: { Cookie: session } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await stream.body?.cancel();
    // The cookie is for looking: the API still wants the bearer token.
    expect((await fetch(`${s.server.url}/api/rings`, { headers: { Cookie: session } })).status).toBe(401);
    expect((await get('/', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);

    // It lasts 12 hours (on the server's clock), and signing out ends it in the browser.
    s.clock.advance(SESSION_MS + 1000);
    expect((await get('/', { Cookie: session })).status).toBe(303);
    const out = await fetch(`${s.server.url}/logout`, { method: 'POST', headers: { Cookie: session }, redirect: 'manual' });
    expect(out.headers.get('set-cookie')).toBe('elrond_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });

  it('answers a malformed sign-in form with a 400 page, not a 500', async () => {
    s = await startPageServer({ config: { apiToken: TOKEN } });
    const huge = await fetch(`${s.server.url}/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `token=${'a'.repeat(10_000)}` });
    expect(huge.status).toBe(400);
    expect(visible(await huge.text())).toContain('The sign-in form was malformed or too large');
  });

  it('checks every credential in one function, against every role token (the per-role tokens plug in here)', () => {
    const now = Date.UTC(2026, 0, 1);
    const tokens = [{ token: 'admin-token', role: 'admin' as const }, { token: 'viewer-token', role: 'viewer' as const }];
    expect(pageViewer({}, [], now)).toEqual({ role: 'admin', via: 'open' });
    expect(pageViewer({}, tokens, now)).toBeUndefined();
    expect(pageViewer({ bearer: 'viewer-token' }, tokens, now)).toEqual({ role: 'viewer', via: 'bearer' });
    expect(pageViewer({ bearer: 'other' }, tokens, now)).toBeUndefined();
    expect(pageViewer({ session: sessionValue('viewer-token', now + 1000) }, tokens, now)).toEqual({ role: 'viewer', via: 'session' });
    expect(pageViewer({ session: sessionValue('admin-token', now - 1) }, tokens, now)).toBeUndefined();
    // A forged expiry far in the future is refused even with a valid signature for it.
    expect(pageViewer({ session: sessionValue('admin-token', now + SESSION_MS * 10) }, tokens, now)).toBeUndefined();
    expect(pageViewer({ session: `${now + 1000}.forged` }, tokens, now)).toBeUndefined();
  });

  it('only sends a signed-in browser back to a path on this server', () => {
    expect(safeNext('/rollouts/abc?part=live')).toBe('/rollouts/abc?part=live');
    for (const bad of ['//evil.example.com/', 'https://evil.example.com', '/\\evil.example.com', 'javascript:alert(1)', undefined, '/a b']) expect(safeNext(bad)).toBe('/');
  });
});
