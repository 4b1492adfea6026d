import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../src/http/app.js';
import { restCredentials } from '../src/http/rest-credentials.js';
import { createPageAccess } from '../src/http/page-access.js';
import { createStatusPageRouter } from '../src/http/status-page-router.js';
import { createEventStream, type EventStream } from '../src/http/event-stream.js';
import { createLogger } from '../src/logging.js';
import { runCli } from '../src/cli/run-cli.js';
import { OPERATIONS, OPERATION_NAMES, type OperationName } from '../src/service/operations.js';
import { ROLES, chatCaller, requiredRole, rolesGrantedBy, type Role } from '../src/service/access-policy.js';
import { cardButtonContext, signAction, type CardAction, type PrivilegedAction } from '../src/chat/action-signature.js';
import { startButton } from '../src/chat/plan-start.js';
import { BUTTON_OPERATIONS } from '../src/chat/button-operations.js';
import { API_ROUTES } from '../src/http/api-routes.js';
import { COMMANDS } from '../src/commands/index.js';
import { newId } from '../src/model/ids.js';
import { startChatHarness, type ChatHarness, type ChatUser } from './helpers/chat-harness.js';
import { IMAGE } from './helpers/harness.js';

/**
 * The authorization matrix: every operation × role × surface (REST, the CLI over REST, chat commands, card buttons
 * and their dialogs, the status page) gets the same decision, the one the operation table's guard gives — printed as a table.
 *
 * REST callers get their role from their token (one token per role here); chat users from --admins/--releasers/
 * --approvers, by Mattermost user id: alice is an admin, dave a releaser, bob an approver, carol none (a viewer).
 */

type Surface = 'REST' | 'CLI' | 'chat' | 'button' | 'dialog' | 'page';
const SURFACE_LETTER: Record<Surface, string> = { REST: 'R', CLI: 'C', chat: 'M', button: 'B', dialog: 'D', page: 'P' };
type User = ChatUser;
const CHAT_USERS: Record<Role, User> = { admin: 'alice', releaser: 'dave', approver: 'bob', viewer: 'carol' };
const POLICY = { admins: ['alice'], releasers: ['dave'], approvers: ['bob'], allowSelfApproval: false };
const SECRET = 'matrix-action-secret';
const token = (role: Role) => `matrix-token-for-the-${role}-role`;

interface RestCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}
/** A click on a card button, or a dialog submission, as a user. */
interface ChatCallback {
  path: 'action' | 'dialog';
  body: Record<string, unknown>;
}

interface Scenario {
  operation: OperationName;
  /** An input that calls for another role than the guard's (e.g. a release with force). */
  variant?: string;
  /** The domain input the elevated role is decided from. */
  input?: Record<string, unknown>;
  rest?: () => Promise<RestCall>;
  /** A command line: run by the CLI (over REST, with the role's token) and typed in chat by the role's user. */
  command?: () => Promise<string[]>;
  /** A command line that only means something in chat (the channel you are in; the release form). */
  chatCommand?: () => Promise<string[]>;
  button?: (user: User) => Promise<ChatCallback>;
  /** A submission of the dialog a button opened. */
  dialog?: (user: User) => Promise<ChatCallback>;
  /** A status page path, opened with the role's token. */
  page?: () => Promise<string>;
}

let h: ChatHarness;
let restServer: Server;
let restUrl = '';
let base = '';
let counter = 0;
const unique = (prefix: string) => `${prefix}${++counter}`;
const ID = () => newId();

async function ringWithRollout(): Promise<{ ringId: string; rolloutId: string }> {
  const ring = await h.ring(unique('gated'), 100 + counter, { soak: 600 });
  expect((await h.api('POST', `/ring/${ring.id}/update`, { approvalRequired: true })).status).toBe(202);
  await h.settle();
  // Started over REST ("api"), so no chat user is its starter: the not-the-starter rule stays out of the way.
  expect((await h.api('POST', `/ring/${ring.id}/release`, { version: unique('v') })).status).toBe(202);
  const rolloutId = (await h.getRing(ring.id)).rolloutID as string;
  return { ringId: ring.id, rolloutId };
}

function click(user: User, context: unknown, post = CARD_POST): ChatCallback {
  return {
    path: 'action',
    body: { user_id: h.users[user], user_name: user, channel_id: h.channelId, team_id: h.teamId, post_id: post, trigger_id: h.mm.issueTriggerId(h.users[user], h.channelId), type: 'button', context },
  };
}

const CARD_POST = 'matrixcardpost000000000000';

function sign(action: CardAction, rollout: string, ring: string, post: string) {
  return cardButtonContext(SECRET, { action, ring }, { rollout, post }, h.clock.now(), 10 * 60_000);
}

const cardButton = (action: CardAction, ids: { rollout?: string; ring?: string } = {}) => async (user: User) =>
  click(user, sign(action, ids.rollout ?? ID(), ids.ring ?? '', CARD_POST));

const ringButton = (action: CardAction) => async (user: User) => {
  const { ringId, rolloutId } = await ringWithRollout();
  return click(user, sign(action, rolloutId, ringId, CARD_POST));
};

/** A submission of the dialog a privileged button opened for `user` (its state signed as Elrond signs it, used once). */
const dialog = (action: PrivilegedAction) => async (user: User): Promise<ChatCallback> => {
  const { ringId, rolloutId } = await ringWithRollout();
  const userId = h.users[user];
  const state = signAction(SECRET, { action: 'dialog', of: action, rollout: rolloutId, ring: action === 'force' || action === 'approve' ? ringId : '', post: CARD_POST, user: userId, nonce: unique('nonce'), exp: h.clock.now() + 10 * 60_000 });
  return { path: 'dialog', body: { user_id: userId, channel_id: h.channelId, callback_id: action, cancelled: false, state: JSON.stringify(state), submission: { reason: 'matrix reason' } } };
};

const startPlan = async (user: User): Promise<ChatCallback> => {
  await h.settle();
  const version = unique('v');
  const plan = await fetch(`${restUrl}/api/rings/release/plan`, { method: 'POST', headers: { Authorization: `Bearer ${token('viewer')}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ image: IMAGE, version }) });
  const request = { Image: IMAGE, Version: version, Force: false, EnvVariables: {} };
  const button = startButton(SECRET, `${h.server.url}/mattermost/action`, (await plan.json()) as Parameters<typeof startButton>[2], request, undefined, h.clock.now());
  return click(user, button.actions[0]!.integration.context);
};

const release = { image: IMAGE };
const SCENARIOS: Scenario[] = [
  // Reads: everyone.
  { operation: 'listRings', rest: async () => ({ method: 'GET', path: '/rings' }), command: async () => ['ring', 'list'] },
  { operation: 'getRing', rest: async () => ({ method: 'GET', path: `/ring/${base}` }), command: async () => ['ring', 'get', '--ring', base] },
  { operation: 'getRelease', rest: async () => ({ method: 'GET', path: `/release/${(await h.getRing(base)).ActiveReleaseID}` }), command: async () => ['ring', 'get-release', '--release', (await h.getRing(base)).ActiveReleaseID] },
  { operation: 'listWebhooks', rest: async () => ({ method: 'GET', path: '/webhooks' }), command: async () => ['webhook', 'list'] },
  { operation: 'getWebhook', rest: async () => ({ method: 'GET', path: `/webhook/${await webhook()}` }), command: async () => ['webhook', 'get', '--webhook', await webhook()] },
  { operation: 'listEvents', rest: async () => ({ method: 'GET', path: '/events?limit=5' }), command: async () => ['events', '--limit', '5'] },
  { operation: 'listEvents', command: async () => ['history', '--limit', '5'] },
  { operation: 'planRelease', rest: async () => ({ method: 'POST', path: '/rings/release/plan', body: { ...release, version: 'v9' } }), command: async () => ['ring', 'release', '--all-rings', '--image', IMAGE, '--version', 'v9', '--plan'] },
  { operation: 'planRelease', rest: async () => ({ method: 'POST', path: `/ring/${base}/release/plan`, body: { version: 'v9' } }), command: async () => ['ring', 'release', '--ring', base, '--version', 'v9', '--plan'] },
  { operation: 'planBasis', button: startPlan },
  { operation: 'statusPage', page: async () => '/' },
  { operation: 'statusPage', variant: 'one rollout', page: async () => `/rollouts/${(await ringWithRollout()).rolloutId}` },
  { operation: 'listFreezes', rest: async () => ({ method: 'GET', path: '/freezes' }), command: async () => ['freeze', 'list'] },
  { operation: 'why', rest: async () => ({ method: 'GET', path: '/why' }), command: async () => ['why'] },
  { operation: 'why', rest: async () => ({ method: 'GET', path: `/ring/${base}/why` }), command: async () => ['ring', 'why', '--ring', base] },
  { operation: 'status', rest: async () => ({ method: 'GET', path: '/status' }), command: async () => ['status'] },
  { operation: 'listSubscriptions', rest: async () => ({ method: 'GET', path: '/subscriptions' }), command: async () => ['subscriptions'] },
  // The release form (chat, no flags) reads the last release for its defaults.
  { operation: 'latestRelease', chatCommand: async () => ['release'] },
  // Channels: the one you are in, anyone; naming one (every REST and CLI call does), admins.
  { operation: 'subscribe', chatCommand: async () => ['subscribe'] },
  { operation: 'unsubscribe', chatCommand: async () => ['unsubscribe'] },
  {
    operation: 'subscribe',
    variant: 'named channel',
    input: { channel: 'named' },
    rest: async () => ({ method: 'POST', path: '/subscriptions', body: { channel: h.channelId } }),
    command: async () => ['subscribe', '--channel', h.channelId],
  },
  {
    operation: 'unsubscribe',
    variant: 'named channel',
    input: { channel: 'named' },
    rest: async () => ({ method: 'DELETE', path: `/subscriptions?channel=${h.channelId}` }),
    command: async () => ['unsubscribe', '--channel', h.channelId],
  },
  // Stop the line: everyone.
  { operation: 'freezeNow', rest: async () => ({ method: 'POST', path: '/freezes/now', body: { reason: 'matrix', until: '+1m', rings: [await spare()] } }), command: async () => ['freeze', 'now', '--reason', 'matrix', '--until', '+1m', '--ring', await spare()] },
  // Releasing: releasers; with force or through a freeze, admins.
  { operation: 'releaseRing', rest: async () => ({ method: 'POST', path: `/ring/${base}/release`, body: { version: unique('v') } }), command: async () => ['ring', 'release', '--ring', base, '--version', unique('v')] },
  { operation: 'releaseRing', variant: 'short alias', command: async () => ['release', '--ring', base, '--version', unique('v')] },
  { operation: 'releaseRing', variant: 'force', input: { force: true }, rest: async () => ({ method: 'POST', path: `/ring/${base}/release`, body: { version: unique('v'), Force: true } }), command: async () => ['ring', 'release', '--ring', base, '--version', unique('v'), '--force'] },
  { operation: 'releaseAllRings', rest: async () => ({ method: 'POST', path: '/rings/release', body: { ...release, version: unique('v') } }), command: async () => ['ring', 'release', '--all-rings', '--image', IMAGE, '--version', unique('v')], button: startPlan },
  { operation: 'releaseAllRings', variant: 'overrideFreeze', input: { overrideFreeze: true }, rest: async () => ({ method: 'POST', path: '/rings/release', body: { ...release, version: unique('v'), overrideFreeze: true, reason: 'matrix' } }), command: async () => ['ring', 'release', '--all-rings', '--image', IMAGE, '--version', unique('v'), '--override-freeze', '--reason', 'matrix'] },
  // Approving: approvers (and admins).
  {
    operation: 'approveRing',
    button: ringButton('approve'),
    dialog: dialog('approve'),
    rest: async () => ({ method: 'POST', path: `/ring/${(await ringWithRollout()).ringId}/approve` }),
    command: async () => ['ring', 'approve', '--ring', (await ringWithRollout()).ringId],
  },
  // Everything else: admins.
  { operation: 'createRing', rest: async () => ({ method: 'POST', path: '/rings', body: { name: unique('created'), priority: 50 } }), command: async () => ['ring', 'create', '--name', unique('created'), '--priority', '50'] },
  { operation: 'updateRing', rest: async () => ({ method: 'POST', path: `/ring/${base}/update`, body: { soakTime: 1 } }), command: async () => ['ring', 'update', '--ring', base, '--soak-time', '1'] },
  { operation: 'retryRing', rest: async () => ({ method: 'POST', path: `/ring/${base}` }) },
  { operation: 'deleteRing', rest: async () => ({ method: 'DELETE', path: `/ring/${await spare()}` }), command: async () => ['ring', 'delete', '--ring', await spare()] },
  { operation: 'lockRing', rest: async () => ({ method: 'POST', path: `/security/ring/${await spare()}/api/lock` }), command: async () => ['security', 'ring', 'api-lock', '--ring', await spare()] },
  { operation: 'unlockRing', rest: async () => ({ method: 'POST', path: `/security/ring/${await spare()}/api/unlock` }), command: async () => ['security', 'ring', 'api-unlock', '--ring', await spare()] },
  {
    operation: 'registerGroup',
    rest: async () => ({ method: 'POST', path: `/ring/${await spare()}/installationgroup`, body: { name: unique('ig'), provisionerGroupID: unique('pg') } }),
    command: async () => ['ring', 'installation-group', 'register', '--ring', await spare(), '--installation-group-name', unique('ig'), '--provisioner-group-id', unique('pg')],
  },
  {
    operation: 'updateGroup',
    rest: async () => ({ method: 'POST', path: `/installationgroup/${await group()}/update`, body: { soakTime: 2 } }),
    command: async () => ['ring', 'installation-group', 'update', '--installation-group', await group(), '--soak-time', '2'],
  },
  { operation: 'deleteGroup', rest: async () => ({ method: 'DELETE', path: `/ring/${base}/installationgroup/${ID()}` }), command: async () => ['ring', 'installation-group', 'delete', '--ring', base, '--installation-group', ID()] },
  { operation: 'pauseReleases', rest: async () => ({ method: 'POST', path: '/rings/release/pause' }), command: async () => ['ring', 'release', '--pause'], button: cardButton('pause') },
  { operation: 'resumeReleases', rest: async () => ({ method: 'POST', path: '/rings/release/resume' }), command: async () => ['ring', 'release', '--resume'], button: cardButton('resume') },
  { operation: 'cancelReleases', rest: async () => ({ method: 'POST', path: '/rings/release/cancel' }), command: async () => ['ring', 'release', '--cancel'], button: cardButton('cancel') },
  { operation: 'rollbackRing', rest: async () => ({ method: 'POST', path: `/ring/${base}/rollback`, body: { reason: 'matrix' } }), command: async () => ['ring', 'release', '--rollback', '--ring', base, '--reason', 'matrix'] },
  { operation: 'rollbackAllRings', rest: async () => ({ method: 'POST', path: '/rings/rollback', body: { reason: 'matrix' } }), command: async () => ['ring', 'release', '--rollback', '--all-rings', '--reason', 'matrix'] },
  { operation: 'rollbackRollout', button: cardButton('rollback') },
  { operation: 'rollbackRollout', dialog: dialog('rollback') },
  { operation: 'forceRing', button: ringButton('force') },
  { operation: 'forceRing', dialog: dialog('force') },
  { operation: 'retryRingRelease', button: ringButton('retry') },
  { operation: 'createWebhook', rest: async () => ({ method: 'POST', path: '/webhooks', body: { OwnerID: 'matrix', URL: `http://127.0.0.1:9/${unique('h')}` } }), command: async () => ['webhook', 'create', '--owner', 'matrix', '--url', `http://127.0.0.1:9/${unique('h')}`] },
  { operation: 'deleteWebhook', rest: async () => ({ method: 'DELETE', path: `/webhook/${await webhook()}` }), command: async () => ['webhook', 'delete', '--webhook', await webhook()] },
  { operation: 'createFreeze', rest: async () => ({ method: 'POST', path: '/freezes', body: { start: '+1h', end: '+2h', reason: 'matrix' } }), command: async () => ['freeze', 'create', '--start', '+1h', '--end', '+2h', '--reason', 'matrix'] },
  { operation: 'deleteFreeze', rest: async () => ({ method: 'DELETE', path: `/freeze/${await freeze()}` }), command: async () => ['freeze', 'delete', '--freeze', await freeze()] },
];

/** A ring of its own for a call that changes or deletes it. */
const spare = async () => (await h.ring(unique('spare'), 200 + counter, { soak: 0 })).id;
const group = async () => (await h.ring(unique('grouped'), 200 + counter, { soak: 0 })).groups[0]!.id;
const webhook = async () => (await h.api('POST', '/webhooks', { OwnerID: 'matrix', URL: `http://127.0.0.1:9/${unique('w')}` })).body.ID as string;
const freeze = async () => (await h.api('POST', '/freezes', { start: '+1h', end: '+2h', reason: 'matrix' })).body.id as string;

/** The guard's verbs: a refusal by the role says "@name may not <verb>: …" (a refusal by a rule reads otherwise). */
function refusedBy(scenario: Scenario, text: string): boolean {
  const guard = OPERATIONS[scenario.operation].guard;
  const verbs = [guard.verb, ...('elevate' in guard && guard.elevate && scenario.input ? [guard.elevate.verb(scenario.input as never)] : [])];
  return verbs.some((verb) => text.includes(`may not ${verb}:`));
}

const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `"${word}"`);

async function decide(scenario: Scenario, role: Role, surface: Surface): Promise<boolean | undefined> {
  switch (surface) {
    case 'REST': {
      if (!scenario.rest) return undefined;
      const call = await scenario.rest();
      const response = await fetch(`${restUrl}/api${call.path}`, {
        method: call.method,
        headers: { Authorization: `Bearer ${token(role)}`, 'Content-Type': 'application/json' },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      });
      const text = await response.text();
      expect(response.status, `${call.method} ${call.path} as ${role}: ${text}`).toBeLessThan(500);
      return response.status === 403 && refusedBy(scenario, text);
    }
    case 'page': {
      if (!scenario.page) return undefined;
      const path = await scenario.page();
      const response = await fetch(`${restUrl}${path}`, { headers: { Authorization: `Bearer ${token(role)}` }, redirect: 'manual' });
      const text = await response.text();
      expect([200, 403], `GET ${path} as ${role}: ${response.status} ${text.slice(0, 200)}`).toContain(response.status);
      return response.status === 403;
    }
    case 'CLI': {
      if (!scenario.command) return undefined;
      const argv = await scenario.command();
      let stderr = '';
      const code = await runCli([...argv, '--server', restUrl, '--api-token', token(role)], { stdout: () => undefined, stderr: (text) => void (stderr += text), env: {}, serve: async () => undefined });
      expect(code, `elrond ${argv.join(' ')} as ${role}: ${stderr}`).not.toBe(2);
      return code === 1 && /\b403\b/.test(stderr) && refusedBy(scenario, stderr);
    }
    case 'chat': {
      const user = CHAT_USERS[role];
      const line = scenario.chatCommand ?? scenario.command;
      if (!line || !user) return undefined;
      const argv = await line();
      const reply = await h.slash(user, argv.map(quote).join(' '));
      expect(reply.status, `/elrond ${argv.join(' ')} as ${user}`).toBe(200);
      return refusedBy(scenario, reply.ephemeral ?? '');
    }
    case 'button':
    case 'dialog': {
      const user = CHAT_USERS[role];
      const make = surface === 'button' ? scenario.button : scenario.dialog;
      if (!make || !user) return undefined;
      const call = await make(user);
      const response = await h.chatPost(call.path, call.body);
      expect(response.status).toBe(200);
      return refusedBy(scenario, String(response.body?.ephemeral_text ?? response.body?.error ?? ''));
    }
  }
}

const SURFACES: Surface[] = ['REST', 'CLI', 'chat', 'button', 'dialog', 'page'];
let stream: EventStream | undefined;

describe('authorization matrix', () => {
  beforeAll(async () => {
    // Webhooks aim at a closed local port: deliveries fail at once instead of waiting on DNS for a name that does not resolve here.
    h = await startChatHarness({ actionSecret: SECRET, webhookAllowPrivate: true });
    const log = createLogger({ silent: true });
    const credentials = restCredentials({ tokens: ROLES.map((role) => ({ token: token(role), role })), now: () => h.clock.now() });
    stream = createEventStream({ db: h.server.store.db, log });
    const page = createStatusPageRouter({ services: h.server.services, log, access: createPageAccess({ credentials, now: () => h.clock.now(), secure: false }), stream, simulated: null });
    const { app } = createHttpApp({ services: h.server.services, store: h.server.store, clock: h.clock, log, credentials, mount: [{ path: '/', router: page }] });
    restServer = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => restServer.once('listening', resolve));
    restUrl = `http://127.0.0.1:${(restServer.address() as AddressInfo).port}`;
    base = (await h.ring('matrix', 1, { soak: 0 })).id;
    await h.settle();
  }, 30_000);

  afterAll(async () => {
    stream?.close();
    await new Promise((resolve) => restServer?.close(resolve));
    await h?.close();
  });

  it('chat users hold the roles the flags give them, as a token for that role does', () => {
    for (const [role, user] of Object.entries(CHAT_USERS)) {
      // By id: the name a request carries proves nothing (a user named "alice" who is not alice is a viewer).
      const userIds = () => ({ admins: new Set([h.users.alice]), releasers: new Set([h.users.dave]), approvers: new Set([h.users.bob]) });
      expect([...chatCaller({ ...POLICY, userIds }, { name: user, source: 'chat', userId: h.users[user] }).roles].sort(), user).toEqual([...rolesGrantedBy(role as Role)].sort());
      expect([...chatCaller({ ...POLICY, userIds }, { name: 'alice', source: 'chat', userId: h.users.carol }).roles]).toEqual(['viewer']);
    }
  });

  it('every operation × role × surface gets the decision the operation table gives, everywhere', async () => {
    // Every operation, route, remote command and button is in the matrix.
    expect(OPERATION_NAMES.filter((name) => !SCENARIOS.some((s) => s.operation === name))).toEqual([]);
    const commands = COMMANDS.filter((spec) => spec.operations.length > 0).map((spec) => spec.path.join(' '));
    const lines = await Promise.all(SCENARIOS.filter((s) => s.command).map(async (s) => (await s.command!()).join(' ')));
    expect(commands.filter((command) => !lines.some((line) => line.startsWith(`${command} `) || line === command))).toEqual([]);
    expect(Object.values(BUTTON_OPERATIONS).filter((name) => !SCENARIOS.some((s) => s.operation === name && s.button))).toEqual([]);
    const routeOperations = new Set(SCENARIOS.filter((s) => s.rest).map((s) => s.operation));
    expect(API_ROUTES.filter((route) => !routeOperations.has(route.operation)).map((r) => `${r.method} ${r.path}`)).toEqual([]);

    const rows: string[][] = [];
    const mismatches: string[] = [];
    for (const scenario of SCENARIOS) {
      const guard = OPERATIONS[scenario.operation].guard;
      const needed = requiredRole(guard as never, scenario.input as never);
      const cells: string[] = [];
      for (const role of ROLES) {
        const expected = !rolesGrantedBy(role).has(needed);
        const seen: string[] = [];
        for (const surface of SURFACES) {
          const refused = await decide(scenario, role, surface);
          if (refused === undefined) continue;
          seen.push(SURFACE_LETTER[surface]);
          if (refused !== expected) mismatches.push(`${scenario.operation}${scenario.variant ? ` (${scenario.variant})` : ''} as ${role} on ${surface}: ${refused ? 'refused' : 'allowed'}, the table says ${expected ? 'refused' : 'allowed'}`);
        }
        cells.push(`${expected ? '✗' : '✓'} ${seen.join('')}`);
      }
      rows.push([`${scenario.operation}${scenario.variant ? ` (${scenario.variant})` : ''}`, needed, ...cells]);
    }
    const widths = rows.reduce((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, [...cell].length)), ['operation'.length, 'needs'.length, ...ROLES.map((r) => r.length)]);
    const line = (row: string[]) => row.map((cell, i) => cell + ' '.repeat(widths[i]! - [...cell].length)).join('  ');
    console.log(
      [
        'Authorization matrix (✓ allowed, ✗ refused; surfaces tried: R REST, C CLI over REST, M chat command, B button, D dialog):',
        line(['operation', 'needs', ...ROLES]),
        ...rows.map(line),
      ].join('\n'),
    );
    expect(mismatches).toEqual([]);
  }, 240_000);
});
