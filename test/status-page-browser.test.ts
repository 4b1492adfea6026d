import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { existsSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPageServer, type PageServer } from './helpers/status-page-server.js';
import { IMAGE } from './helpers/harness.js';

/** Debian's chromium (.ci/run installs it); where it cannot be installed these tests are skipped, saying so. */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => existsSync(file));
if (!CHROMIUM) console.info('Browser tests skipped: no chromium at /usr/bin/chromium. Install it with "apt-get install -y chromium" (.ci/run does).');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Screenshots and measurements of every run; gitignored. */
const OUTPUT = path.join(ROOT, 'test-output');
const UPDATE_DOCS = process.env.ELROND_UPDATE_SCREENSHOTS === '1';

let browser: Browser | undefined;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  if (!CHROMIUM) return;
  mkdirSync(OUTPUT, { recursive: true });
  // Playwright gives the browser a fresh profile (--user-data-dir) of its own.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function server(options: Parameters<typeof startPageServer>[0] = {}): Promise<PageServer> {
  const s = await startPageServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** A page at `width` px that records console errors, uncaught exceptions and the bytes of every response. */
async function open(width: number): Promise<{ page: Page; errors: string[]; bytes: Map<string, number> }> {
  const context = await browser!.newContext({ viewport: { width, height: width < 600 ? 844 : 900 }, ...(width < 600 ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  const bytes = new Map<string, number>();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('response', async (response) => {
    try {
      bytes.set(new URL(response.url()).pathname, (await response.body()).length);
    } catch {
      // an event stream has no body to measure
    }
  });
  return { page, errors, bytes };
}

const ringNames = (page: Page) => page.locator('li.ring .ring-name').allTextContents();
const ringBadge = (page: Page, name: string) => page.locator('li.ring', { has: page.locator('.ring-name', { hasText: new RegExp(`^${name}$`) }) }).locator('.state.badge');
const ringState = async (s: PageServer, id: string) => (await s.api('GET', `/ring/${id}`)).body.State as string;

describe.skipIf(!CHROMIUM)('the status page in a real browser (chromium)', () => {
  it('desktop, 1280 px: the rings, a growing timeline bar, states changing without reload, the approval marker, no console errors', async () => {
    const s = await server();
    const [canary, early, production] = await s.fleet([{ name: 'canary', priority: 1 }, { name: 'early-adopters', priority: 2 }, { name: 'production', priority: 3, approval: true }]);
    const { page, errors, bytes } = await open(1280);

    await page.goto(`${s.server.url}/`);
    const firstRender = await page.evaluate(() => performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint')?.startTime ?? performance.getEntriesByType('navigation')[0]!.duration);
    await page.evaluate(() => ((window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));
    expect(await ringNames(page)).toEqual(['canary', 'early-adopters', 'production']);
    for (const name of ['canary', 'early-adopters', 'production']) expect(await ringBadge(page, name).textContent()).toBe('stable');
    await expect.poll(() => page.locator('.banner.simulated').textContent()).toMatch(/^Simulated provisioner — no real installation is updated/);
    await expect.poll(() => page.locator('#live-indicator').textContent(), { timeout: 10_000 }).toBe('live');

    // A release through the API: the page shows it without a reload.
    const asked = performance.now();
    expect((await s.api('POST', '/rings/release', { image: IMAGE, version: 'v2', reason: 'browser test' })).status).toBe(202);
    await expect.poll(() => ringBadge(page, 'canary').textContent(), { timeout: 10_000 }).toBe('release-pending');
    const firstLiveUpdate = performance.now() - asked;
    await s.settle();
    await expect.poll(() => ringBadge(page, 'canary').textContent(), { timeout: 10_000 }).toBe('release-in-progress');
    await expect.poll(() => page.locator('#rollout-title').textContent()).toBe(`Release of ${IMAGE}:v2`);

    // The running rollout bar of canary's first group grows as the rollout goes on.
    const bar = page.locator(`svg.timeline rect[data-phase="rollout"][data-status="running"][data-row="${canary}"]`);
    await expect.poll(() => bar.count(), { timeout: 10_000 }).toBe(1);
    const before = Number(await bar.getAttribute('width'));
    s.clock.advance(3000);
    await s.settle();
    await expect.poll(async () => Number(await bar.getAttribute('width')), { timeout: 10_000 }).toBeGreaterThan(before);

    // canary and early-adopters finish; production waits for its approval, which is then given.
    await s.advanceUntil(async () => (await ringState(s, early!)) === 'stable', 1000, 600_000);
    await expect.poll(() => ringBadge(page, 'early-adopters').textContent(), { timeout: 10_000 }).toBe('stable');
    await expect.poll(() => page.locator('li.ring[data-state="release-pending"] .approval').textContent(), { timeout: 10_000 }).toBe('needs approval');
    expect(await page.locator('[data-marker="approval"]').count()).toBe(0);
    expect((await s.api('POST', `/ring/${production}/approve`)).status).toBe(200);
    await s.settle();
    await expect.poll(() => page.locator(`[data-marker="approval"][data-row="${production}"]`).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => ringBadge(page, 'production').textContent(), { timeout: 10_000 }).toBe('release-in-progress');
    expect(await page.locator(`[data-marker="approval"] title`).textContent()).toBe('production approved by api');
    await expect.poll(() => page.locator('svg.timeline [data-now]').count()).toBe(1);

    expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'status-page-1280.png'), fullPage: true });
    if (UPDATE_DOCS) {
      mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
      copyFileSync(path.join(OUTPUT, 'status-page-1280.png'), path.join(ROOT, 'docs/status-page.png'));
    }

    const weight = [...bytes].filter(([route]) => route === '/' || route.startsWith('/assets/')).reduce((sum, [, size]) => sum + size, 0);
    const metrics = { pageWeightBytes: weight, byResource: Object.fromEntries([...bytes].filter(([route]) => route === '/' || route.startsWith('/assets/'))), firstRenderMs: Math.round(firstRender), firstLiveUpdateMs: Math.round(firstLiveUpdate) };
    writeFileSync(path.join(OUTPUT, 'status-page-metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    console.info(`status page: ${weight} bytes (${JSON.stringify(metrics.byResource)}), first render ${metrics.firstRenderMs} ms, first live update ${metrics.firstLiveUpdateMs} ms`);
    expect(weight).toBeGreaterThan(0);
  }, 180_000);

  it('phone, 390 px: everything fits the width; the timeline scrolls sideways inside its box', async () => {
    const s = await server();
    const [canary] = await s.fleet([{ name: 'canary-with-a-rather-long-name', priority: 1 }, { name: 'production', priority: 2, approval: true }]);
    expect((await s.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await s.settle();
    s.clock.advance(3000);
    await s.settle();
    const { page, errors } = await open(390);
    await page.goto(`${s.server.url}/`);
    expect(await ringNames(page)).toEqual(['canary-with-a-rather-long-name', 'production']);
    expect(await ringBadge(page, 'canary-with-a-rather-long-name').textContent()).toBe('release-in-progress');
    expect(await page.locator(`li.ring[data-ring="${canary}"]`).isVisible()).toBe(true);
    const widths = await page.evaluate(() => {
      const scroller = document.querySelector('.timeline-scroll')!;
      return { page: document.documentElement.scrollWidth, viewport: window.innerWidth, timeline: scroller.scrollWidth, box: scroller.clientWidth };
    });
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    expect(widths.timeline).toBeGreaterThan(widths.box);
    await expect.poll(() => page.locator('#live-indicator').textContent(), { timeout: 10_000 }).toBe('live');
    // A change still arrives live on the phone.
    s.clock.advance(20_000);
    await s.settle();
    await expect.poll(() => page.locator('li.ring .group').first().locator('.state').textContent(), { timeout: 10_000 }).not.toBe('release-requested');
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'status-page-390.png'), fullPage: true });
  }, 120_000);

  it('with --api-token: the sign-in form, then the page and its live stream on the session cookie (HttpOnly)', async () => {
    const s = await server({ config: { apiToken: 'browser-token-123456' } });
    await s.fleet([{ name: 'canary', priority: 1 }], 1);
    const { page, errors } = await open(1280);
    await page.goto(`${s.server.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#token', 'wrong');
    await page.click('form.login button[type="submit"]');
    expect(await page.locator('.error').textContent()).toMatch(/not valid here/);
    await page.fill('#token', 'browser-token-123456');
    await page.click('form.login button[type="submit"]');
    await expect.poll(() => ringNames(page)).toEqual(['canary']);
    expect(new URL(page.url()).pathname).toBe('/');
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'elrond_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    await expect.poll(() => page.locator('#live-indicator').textContent(), { timeout: 10_000 }).toBe('live');
    expect((await s.api('POST', '/rings/release', { image: IMAGE, version: 'v2' })).status).toBe(202);
    await expect.poll(() => ringBadge(page, 'canary').textContent(), { timeout: 10_000 }).toBe('release-pending');
    // The 401 of the wrong token is the only error the console saw.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  }, 120_000);
});
