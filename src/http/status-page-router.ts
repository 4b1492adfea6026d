import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Services } from '../service/services.js';
import { isElrondError } from '../model/errors.js';
import { isId } from '../model/ids.js';
import type { PageAccess, PageViewer } from './page-access.js';
import type { EventStream } from './event-stream.js';
import type { RenderPages } from '../web/render-pages.js';
import { FAVICON_SVG, STATUS_CSS } from '../web/status-css.js';
import { liveClientScript } from '../web/client-script.js';
import type { OperationName } from '../service/operations.js';
import { tokenCaller, type Caller } from '../service/access-policy.js';

export interface StatusPageRouterOptions {
  services: Services;
  log: Logger;
  access: PageAccess;
  stream: EventStream;
  /** One line describing the simulator when the provisioner is simulated (the banner), else null. */
  simulated: string | null;
}

/**
 * The page scripts its own origin only: no inline script or style, no framing. The SVG's presentation
 * attributes are not styles, so the timeline draws under `style-src 'self'`.
 */
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/** The page routes that show state, and the operation each runs (test/operation-coverage.test.ts checks them). */
export const PAGE_ROUTES = { 'GET /': 'statusPage', 'GET /rollouts/:id': 'statusPage' } as const satisfies Record<string, OperationName>;

/** Who looks at the page, for the operation: the role the sign-in proved; the page's reads record nothing. */
function pageCaller(viewer: PageViewer): Caller {
  return tokenCaller({ name: 'status-page', source: 'api' }, viewer.role);
}

/** A path on this server to go back to after signing in; anything else (another host, `//evil`) is `/`. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\w\-./?=&%]*$/.test(value) && value.length <= 200 ? value : '/';
}

/**
 * The read-only status page: `/` (every ring, the newest rollout), `/rollouts/{id}`, their live bodies
 * (`?part=live`), `/api/stream` (Server-Sent Events), the sign-in form and the page's two assets. Nothing here
 * changes Elrond's state; signing in only sets a cookie.
 */
export function createStatusPageRouter(options: StatusPageRouterOptions): Router {
  const { services, access, stream, simulated } = options;
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 5 });
  // Loaded on the first page request: the server and the CLI start without Preact.
  let loading: Promise<RenderPages> | undefined;
  const render = async () => (loading ??= import('../web/render-pages.js').then((m) => m.renderPages));

  /** The viewer, or an answer sent: a redirect to the form (pages) or a 401 (the body, the stream). */
  async function viewerOr(req: Request, res: Response, answer: 'redirect' | 'status'): Promise<PageViewer | undefined> {
    const viewer = await access.check(req);
    if (viewer) return viewer;
    res.set(PAGE_HEADERS);
    if (answer === 'redirect') res.redirect(303, `/login?next=${encodeURIComponent(safeNext(req.originalUrl))}`);
    else res.status(401).json({ error: 'sign in first: open the status page and enter a token (or send "Authorization: Bearer <token>")' });
    return undefined;
  }

  async function page(req: Request, res: Response, rolloutId: string | undefined): Promise<void> {
    const part = req.query.part === 'live';
    const viewer = await viewerOr(req, res, part ? 'status' : 'redirect');
    if (!viewer) return;
    const signedIn = viewer.via === 'session';
    const scope = rolloutId ? 'rollout' : 'all';
    const liveUrl = `${rolloutId ? `/rollouts/${rolloutId}` : '/'}?part=live`;
    res.set(PAGE_HEADERS);
    try {
      // Shared by everyone looking while nothing changed (service/read-cache.ts).
      const html = await services.reads.read(
        `page ${scope} ${rolloutId ?? ''} ${part ? 'part' : signedIn ? 'signed-in' : 'page'}`,
        async () => {
          const data = await services.operations.invoke('statusPage', rolloutId ? { rolloutId } : {}, pageCaller(viewer));
          const pages = await render();
          return part ? pages.statusBody(data, scope) : pages.statusPage({ data, scope, simulated, signedIn, liveUrl });
        },
        (text) => text.length,
      );
      res.status(200).type('html').send(html);
    } catch (error) {
      if (!isElrondError(error) || error.status >= 500) throw error;
      res.status(error.status).type('html').send((await render()).message({ title: 'Not found', message: error.message, simulated, signedIn }));
    }
  }

  router.get('/', (req, res) => page(req, res, undefined));
  router.get('/rollouts/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!isId(id)) {
      const viewer = await viewerOr(req, res, 'redirect');
      if (!viewer) return;
      res.set(PAGE_HEADERS).status(404).type('html');
      res.send((await render()).message({ title: 'Not found', message: `there is no rollout "${id.slice(0, 40)}": rollout ids are 26 letters and digits; the recent rollouts are listed on the status page`, simulated, signedIn: viewer.via === 'session' }));
      return;
    }
    await page(req, res, id);
  });

  router.get('/api/stream', async (req, res) => {
    if (!(await viewerOr(req, res, 'status'))) return;
    await stream.handle(req, res);
  });

  router.get('/assets/status.css', (_req, res) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'public, max-age=300' }).type('text/css').send(STATUS_CSS);
  });
  router.get(['/assets/favicon.svg', '/favicon.ico'], (_req, res) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'public, max-age=86400' }).type('image/svg+xml').send(FAVICON_SVG);
  });
  router.get('/assets/live.js', async (_req, res) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'public, max-age=300' }).type('text/javascript').send(await liveClientScript());
  });

  router.get('/login', async (req, res) => {
    const next = safeNext(req.query.next);
    if (!(await access.required()) || (await access.check(req))) {
      res.redirect(303, next);
      return;
    }
    res.set(PAGE_HEADERS).status(200).type('html').send((await render()).login({ next, error: null, simulated }));
  });
  router.post('/login', form, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const cookie = token ? await access.signIn(token) : undefined;
    if (!cookie) {
      res.set(PAGE_HEADERS).status(401).type('html').send((await render()).login({ next, error: token ? 'That token is not valid here: use a token from "elrond token create" (any role) or the --api-token this server was started with.' : 'Enter a token.', simulated }));
      return;
    }
    res.set(PAGE_HEADERS).set('Set-Cookie', cookie).redirect(303, next);
  });
  router.post('/logout', async (_req, res) => {
    res.set(PAGE_HEADERS).set('Set-Cookie', access.signOut()).redirect(303, (await access.required()) ? '/login' : '/');
  });

  // A malformed sign-in form is the caller's mistake: say so on the form, never a 500.
  router.use(async (error: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (req.path === '/login' && typeof status === 'number' && status >= 400 && status < 500) {
      res.set(PAGE_HEADERS).status(400).type('html').send((await render()).login({ next: '/', error: 'The sign-in form was malformed or too large: enter only the token.', simulated }));
      return;
    }
    options.log.error({ err: error, path: req.path }, 'status page failed');
    next(error);
  });
  return router;
}
