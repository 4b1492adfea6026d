import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import type { Express } from 'express';
import { OPERATIONS, OPERATION_NAMES, type OperationName } from '../src/service/operations.js';
import { API_ROUTES } from '../src/http/api-routes.js';
import { PAGE_ROUTES } from '../src/http/status-page-router.js';
import { PROVISIONER_WEBHOOK_ROUTE } from '../src/http/provisioner-webhook-route.js';
import { COMMANDS } from '../src/commands/index.js';
import { parseCommandLine } from '../src/commands/build-program.js';
import type { ElrondApi } from '../src/commands/elrond-api.js';
import { BUTTON_OPERATIONS } from '../src/chat/button-operations.js';
import { START_PLAN_OPERATIONS } from '../src/chat/plan-start.js';
import { RELEASE_FORM_OPERATIONS } from '../src/chat/release-form-flow.js';
import { startChatHarness, type ChatHarness } from './helpers/chat-harness.js';

/**
 * Every way in reaches state through the operation table: each REST route names its operation, each command the
 * operations it invokes (and invokes no other), each button its operation. What is not an operation is on a
 * short allow-list, each entry with its reason; a route or command outside both fails here.
 */

/** Routes that are not operations: the transports of other surfaces, and the server's own health. */
const INFRASTRUCTURE_ROUTES: Record<string, string> = {
  'GET /healthz': 'health check for load balancers and Kubernetes: reads nothing but `select 1`',
  'GET /metrics': 'Prometheus metrics of this process',
  'POST /mattermost/command': 'the slash command: runs the command grammar, each command through its operations (checked below)',
  'POST /mattermost/action': 'card buttons: each runs its operation (BUTTON_OPERATIONS, checked below)',
  'POST /mattermost/dialog': 'the Force and Rollback dialogs: each runs its button\'s operation',
  'GET /api/stream': 'the event stream the page listens to: event ids and kinds only',
  'GET /assets/status.css': 'a static asset of the page',
  'GET /assets/favicon.svg': 'a static asset of the page',
  'GET /favicon.ico': 'a static asset of the page',
  'GET /assets/live.js': 'the page\'s live script, a static asset',
  'GET /login': 'the page\'s sign-in form',
  'POST /login': 'sign-in: trades a token for a session cookie; changes nothing',
  'POST /logout': 'sign-out: clears the session cookie; changes nothing',
  'POST /provisioner/webhook': 'the provisioner\'s installation events, proven by the registered secret header: a hint to read a group\'s status sooner; changes nothing',
};

/** Commands that run where they are typed and reach no server. */
const LOCAL_COMMANDS: Record<string, string> = {
  server: 'runs the server itself',
  'schema migrate': 'migrates a database the operator names, before any server runs',
  demo: 'runs a server of its own on the simulator and drives it as its operator',
  'token create': 'creates an API token on a database the operator names (only the operator of the database may grant roles)',
  'token list': 'lists API tokens on a database the operator names',
  'token revoke': 'revokes an API token on a database the operator names',
};

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
}

/** Every route the Express app serves, as "METHOD /path", walking mounted routers (express 5 / router 2). */
function servedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) for (const path of paths) found.push(`${method === '_all' ? 'ALL' : method.toUpperCase()} ${prefix}${path}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

/** An ElrondApi that records which methods a command calls and answers with plausible JSON. */
function recordingApi(called: Set<string>): ElrondApi {
  const ring = { ID: 'r1', Name: 'r', Priority: 1, State: 'stable', ActiveReleaseID: 'rel1', DesiredReleaseID: 'rel1', installationGroups: [] };
  const answers: Record<string, unknown> = {
    listRings: [ring],
    getRelease: { ID: 'rel1', Image: 'i', Version: 'v', EnvVariables: null, CreateAt: 0, Force: false },
    subscribe: { channel: 'team/ops', rings: [], replaced: false },
    unsubscribe: { channel: 'team/ops', rings: [] },
  };
  return new Proxy({} as ElrondApi, {
    get: (_target, name: string) => async () => {
      called.add(name);
      return answers[name] ?? (/^list|^why$|^status$|AllRings$/.test(name) ? [] : {});
    },
  });
}

/** Command lines that reach every operation a command declares (its examples, plus the modes they miss). */
const EXTRA_LINES = ['ring release --resume', 'ring release --cancel', 'ring release --rollback --all-rings', 'release --resume', 'release --cancel', 'release --rollback --all-rings'];

const ID = '0123456789abcdefghijklmnop';
const fill = (example: string) => example.replace(/<[^>]+>/g, ID);

describe('every way in goes through an operation', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('every route the server serves is an API route with an operation, or on the infrastructure allow-list', () => {
    const apiRoutes = new Map(API_ROUTES.map((route) => [`${route.method.toUpperCase()} /api${route.path}`, route]));
    // The provisioner's events are answered ahead of Express (http/provisioner-webhook-route.ts).
    const served = [...servedRoutes(h.server.app), PROVISIONER_WEBHOOK_ROUTE];
    const without: string[] = [];
    for (const route of served) {
      if (route.startsWith('ALL /api/')) {
        // The 405 answer for a known path asked with another method: it must stand for API routes.
        expect([...apiRoutes.keys()].some((key) => key.endsWith(` ${route.slice(4)}`)), route).toBe(true);
      } else if (apiRoutes.has(route)) {
        const operation = apiRoutes.get(route)!.operation;
        expect(Object.hasOwn(OPERATIONS, operation), `${route} → ${operation}`).toBe(true);
        // GET answers are cached per role: a GET route must run a read, whose guard is a role alone.
        if (route.startsWith('GET ')) expect(OPERATIONS[operation].kind, route).toBe('read');
      } else if (Object.hasOwn(PAGE_ROUTES, route)) {
        // Status page routes run a read operation, as the viewer their sign-in proved.
        expect(OPERATIONS[PAGE_ROUTES[route as keyof typeof PAGE_ROUTES]].kind, route).toBe('read');
      } else if (!Object.hasOwn(INFRASTRUCTURE_ROUTES, route)) without.push(route);
    }
    expect(without, 'routes with no operation: give them one in API_ROUTES, or (infrastructure only) a reason in INFRASTRUCTURE_ROUTES').toEqual([]);
    // Each API route and each allow-listed route is really served (the allow-list does not outlive its routes).
    for (const route of [...apiRoutes.keys(), ...Object.keys(PAGE_ROUTES), ...Object.keys(INFRASTRUCTURE_ROUTES)]) expect(served, route).toContain(route);
  });

  it('every command names the operations it invokes and invokes no other; local commands are allow-listed', async () => {
    for (const spec of COMMANDS) {
      const name = spec.path.join(' ');
      if (Object.hasOwn(LOCAL_COMMANDS, name)) {
        expect({ name, cliOnly: spec.cliOnly, operations: spec.operations }).toEqual({ name, cliOnly: true, operations: [] });
        continue;
      }
      expect(spec.operations.length, `${name} names no operation`).toBeGreaterThan(0);
      for (const operation of spec.operations) expect(Object.hasOwn(OPERATIONS, operation), `${name} → ${operation}`).toBe(true);
      // readOnly (chat may share answers) holds exactly for commands that only read.
      expect(Boolean(spec.readOnly), `${name} readOnly`).toBe(spec.operations.every((operation) => OPERATIONS[operation].kind === 'read'));

      const called = new Set<string>();
      const lines = [...spec.examples, ...EXTRA_LINES.filter((line) => line.startsWith(`${name} `))];
      for (const line of lines) {
        const parsed = parseCommandLine(line.split(' ').map(fill).filter(Boolean), 'chat', {});
        if (!('spec' in parsed)) {
          // Examples with quoted words are parsed by the CLI's shell: split them the same way.
          const words = [...fill(line).matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
          const again = parseCommandLine(words, 'cli', {});
          expect('spec' in again, `${line}: ${JSON.stringify(again)}`).toBe(true);
          if ('spec' in again) await again.spec.run({ api: recordingApi(called), now: () => 0 }, again.input);
          continue;
        }
        await parsed.spec.run({ api: recordingApi(called), now: () => 0 }, parsed.input);
      }
      for (const method of called) expect(spec.operations, `${name} invoked ${method}`).toContain(method);
      for (const operation of spec.operations) expect([...called], `${name} never reached ${operation} from its examples`).toContain(operation);
    }
  });

  it('every button runs an operation, and every operation is reachable from some surface', () => {
    for (const [action, operation] of Object.entries(BUTTON_OPERATIONS)) expect(Object.hasOwn(OPERATIONS, operation), `${action} → ${operation}`).toBe(true);
    const reached = new Set<OperationName>([
      ...API_ROUTES.map((route) => route.operation),
      ...COMMANDS.flatMap((spec) => spec.operations),
      ...Object.values(BUTTON_OPERATIONS),
      ...START_PLAN_OPERATIONS,
      ...RELEASE_FORM_OPERATIONS,
      ...Object.values(PAGE_ROUTES),
    ]);
    expect(OPERATION_NAMES.filter((name) => !reached.has(name)), 'operations nothing reaches').toEqual([]);
  });
});
