import express, { type Request, type Response, type Router } from 'express';
import axios from 'axios';
import type { Logger } from 'pino';
import type { Services } from '../service/services.js';
import type { Clock } from '../model/clock.js';
import type { Actor } from '../model/ring.js';
import { isElrondError } from '../model/errors.js';
import { chatCaller, rolesKey, type AccessPolicy, type Caller } from '../service/access-policy.js';
import { chatFormFor, parseCommandLine, tokenize, type ParseResult } from '../commands/build-program.js';
import type { CommandTokens } from './command-tokens.js';
import type { MattermostApi } from './mattermost-client.js';
import { inProcessApi } from './in-process-api.js';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { CARD_ACTIONS } from './button-operations.js';
import { renderForChat } from './render-for-chat.js';
import { isCardValue, isPrivileged, signAction, verifyAction, type CardAction } from './action-signature.js';
import { chatText } from './chat-text.js';
import { startButton, startPlannedRelease } from './plan-start.js';
import { interventionDialog } from './intervention-dialog.js';
import { RELEASE_FORM_ACTION } from './release-form.js';
import { openReleaseForm, submitReleaseForm } from './release-form-flow.js';
import type { RolloutSummary } from './card-snapshot.js';
import type { PlaceCard } from './card-placement.js';
import { sendJsonBody, sendJsonBytes } from '../http/compressed-body.js';

export interface ChatDeps {
  services: Services;
  clock: Clock;
  log: Logger;
  policy: AccessPolicy;
  tokens: CommandTokens;
  /** Absent when Elrond has no bot token: usernames then come from the request. */
  api?: MattermostApi;
  secret: () => Promise<string>;
  /** `<public-url>/mattermost`. */
  baseUrl: string;
  /** Answer a slash command within this long; slower work is reported through response_url. */
  replyWithinMs?: number;
  /** Queue a redraw of a rollout's card (fresh buttons), e.g. when an expired button was clicked. */
  redrawCard?: (rolloutId: string) => Promise<void>;
  /** The release and rings of a rollout, named in the dialogs its card's buttons open. */
  describeRollout: (rolloutId: string) => Promise<RolloutSummary | undefined>;
  /** Where the card of a rollout started from a channel goes (absent without a bot: the channel itself). */
  placeCard?: PlaceCard;
  /** Mark a dialog's state used: true the first time only (on any replica, across restarts), kept until `expiresAt`. */
  useOnce: (key: string, expiresAt: number) => Promise<boolean>;
}

/**
 * The actor a release or rollback started from chat records its rollout with: its channel is where the card will
 * go (asked once per request); a note for the reply is added to `notes` when that is not the channel itself.
 */
export function rolloutActorFor(deps: ChatDeps, actor: Actor, notes: Set<string>): () => Promise<Actor> {
  let placed: Promise<Actor> | undefined;
  return () =>
    (placed ??= (async () => {
      if (!deps.placeCard) return actor;
      const placement = await deps.placeCard(actor.channelId);
      if (placement.note) notes.add(placement.note);
      return { ...actor, channelId: placement.channelId };
    })());
}

export const withNotes = (text: string, notes: Set<string>) => (notes.size ? `${text}\n\n${[...notes].join('\n')}` : text);

const ephemeral = (text: string) => ({ response_type: 'ephemeral', text });

/** Answer JSON with the Content-Type exactly `application/json`, as the contract asks (B.4, B.10: Client4 only parses that exact type). */
function sendJson(res: ServerResponse, body: unknown): void {
  sendJsonBytes(res, 200, Buffer.from(JSON.stringify(body), 'utf8'));
}

function explain(error: unknown, log: Logger): string {
  if (isElrondError(error)) return `⚠️ ${error.message}`;
  if (error instanceof Error && /^(--|error:|Usage)/.test(error.message)) return `⚠️ ${error.message}`;
  log.error({ err: error }, 'chat request failed');
  return '⚠️ Elrond hit an internal error; the server log has the details.';
}

export async function usernameOf(deps: ChatDeps, userId: string, fallback: string): Promise<string> {
  if (!deps.api || !userId) return fallback || 'unknown';
  try {
    return await deps.api.username(userId);
  } catch {
    return fallback || userId;
  }
}

/** A command form's bounds, wherever it is read (here, or slash-command-route.ts): its bytes, and its fields. */
export const SLASH_COMMAND_LIMIT_BYTES = 1024 * 1024;
export const SLASH_COMMAND_MAX_FIELDS = 10_000;

/** POST /mattermost/command, /action, /dialog: chat-ops over the same operations as the REST API. */
export function createChatRouter(deps: ChatDeps): Router {
  const router = express.Router();
  // A command text may be 16383 runes (Mattermost's message limit): up to 64 KiB of UTF-8, three times that
  // percent-encoded, plus the repeated user_mentions/channel_mentions keys.
  router.use(express.urlencoded({ extended: false, limit: SLASH_COMMAND_LIMIT_BYTES, parameterLimit: SLASH_COMMAND_MAX_FIELDS }));
  router.use(express.json({ limit: '256kb' }));

  router.post('/command', async (req: Request, res: Response) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    await answerSlashCommand(deps, { field: (name) => (typeof form[name] === 'string' ? (form[name] as string) : ''), headers: req.headers }, res);
  });

  router.post('/action', async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = await handleAction(deps, body).catch((error: unknown) => explain(error, deps.log));
    sendJson(res, text ? { ephemeral_text: text } : {});
  });

  router.post('/dialog', async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      const result = await handleDialog(deps, body);
      sendJson(res, result);
    } catch (error) {
      sendJson(res, { error: explain(error, deps.log) });
    }
  });

  // A body that cannot be read (too large, malformed): Mattermost shows any non-200 as a bare "failed", so
  // answer in each endpoint's own shape. Nothing was parsed, so nothing was done.
  router.use((error: unknown, req: Request, res: Response, next: (error?: unknown) => void) => {
    if (res.headersSent) return next(error);
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) deps.log.error({ err: error, path: req.path }, 'chat request failed');
    else deps.log.warn({ path: req.path, status, error: error instanceof Error ? error.message : String(error) }, 'unreadable chat request');
    const why = unreadableBecause(status);
    if (req.path === '/command') unreadableCommandReply(res, status);
    else if (req.path === '/action') sendJson(res, { ephemeral_text: `⛔ Elrond could not read this click because ${why}. Nothing was changed.` });
    else if (req.path === '/dialog') sendJson(res, { error: `Elrond could not read this form because ${why}. Nothing was changed.` });
    else next(error);
  });
  return router;
}

const unreadableBecause = (status: number) => (status === 413 ? 'it is too large' : status >= 500 ? 'of an internal error' : 'it is malformed');

/** The reply to a command whose body could not be read (`status`: what reading it failed with); Mattermost shows any non-200 as a bare "failed". */
export function unreadableCommandReply(res: ServerResponse, status: number): void {
  sendJson(res, ephemeral(`⚠️ Elrond could not read this command because ${unreadableBecause(status)}. Nothing was done.`));
}

/** A slash-command request, whoever read its form (Express here, or slash-command-route.ts ahead of it). */
export interface SlashCommandRequest {
  /** A form field's value; '' when absent or sent more than once. */
  field: (name: string) => string;
  headers: IncomingHttpHeaders;
}

/**
 * Answer `POST /mattermost/command`: the caller is proven by the slash command's token (the form's `token`, or
 * `Authorization: Token …`), then the text runs through the shared grammar. A reply not ready within
 * `replyWithinMs` is promised at once and delivered through `response_url`.
 */
export async function answerSlashCommand(deps: ChatDeps, request: SlashCommandRequest, res: ServerResponse): Promise<void> {
  const { field } = request;
  const authorization = request.headers.authorization;
  const header = /^token\s+(.+)$/i.exec(typeof authorization === 'string' ? authorization : '')?.[1] ?? '';
  if (!(await deps.tokens.verify(field('team_id'), header || field('token')))) {
    sendJsonBytes(res, 401, Buffer.from(JSON.stringify({ error: 'unknown slash command token: register /elrond through Elrond or pass its token with --slash-command-token' })));
    return;
  }
  const actor: Actor = { name: await usernameOf(deps, field('user_id'), field('user_name')), source: 'chat', channelId: field('channel_id'), userId: field('user_id') };
  const work = runSlashCommand(deps, field('text'), actor, { triggerId: field('trigger_id'), responseUrl: field('response_url') });
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), deps.replyWithinMs ?? 2500).unref();
  });
  const first = await Promise.race([work, slow]);
  clearTimeout(timer);
  if (first !== 'slow') {
    await sendJsonBody(request, res, 200, replyBody(first));
    return;
  }
  sendJson(res, ephemeral('⏳ Working on it; the answer will follow here.'));
  const responseUrl = field('response_url');
  const reply = await work;
  if (responseUrl) await axios.post(responseUrl, replyJson(reply), { timeout: 10_000 }).catch((error: unknown) => deps.log.warn({ err: error }, 'could not deliver a delayed slash-command reply'));
}

/** The reply to one `/elrond …` text. */
export interface SlashReply {
  text: string;
  /** Buttons under the reply (a plan's Start). */
  attachments?: unknown[];
}

export const replyJson = (reply: SlashReply) => ({ ...ephemeral(reply.text), ...(reply.attachments ? { attachments: reply.attachments } : {}) });

/** A reply's response body, serialized once per reply (a read command's reply is shared from the read cache). */
const replyBodies = new WeakMap<SlashReply, Buffer>();
function replyBody(reply: SlashReply): Buffer {
  let body = replyBodies.get(reply);
  if (!body) replyBodies.set(reply, (body = Buffer.from(JSON.stringify(replyJson(reply)), 'utf8')));
  return body;
}

const parsedCommands = new Map<string, ParseResult>();
const MAX_PARSED_COMMANDS = 256;

/**
 * A chat command line parsed once: the same words always parse the same way in chat (no environment applies).
 * `key` identifies the words (their JSON).
 */
function parseChatCommand(argv: readonly string[], key: string): ParseResult {
  let parsed = parsedCommands.get(key);
  if (!parsed) {
    parsed = parseCommandLine(argv, 'chat', {});
    parsedCommands.set(key, parsed);
    if (parsedCommands.size > MAX_PARSED_COMMANDS) parsedCommands.delete(parsedCommands.keys().next().value!);
  }
  return parsed;
}

/** Run one `/elrond …` text with the shared grammar; always resolves to the reply. */
export async function runSlashCommand(deps: ChatDeps, text: string, actor: Actor, request: { triggerId: string; responseUrl: string } = { triggerId: '', responseUrl: '' }): Promise<SlashReply> {
  try {
    const words = tokenize(text.trim());
    if (chatFormFor(words) === 'release') return await openReleaseForm(deps, actor, request);
    const argv = words.length === 0 || (words.length === 1 && words[0] === 'help') ? ['--help'] : words[0] === 'help' ? [...words.slice(1), '--help'] : words;
    const line = JSON.stringify(argv);
    const parsed = parseChatCommand(argv, line);
    if ('help' in parsed) return { text: `\`\`\`\n${parsed.help.trim()}\n\`\`\`` };
    if ('error' in parsed) return { text: `⚠️ ${parsed.error}` };
    const notes = new Set<string>();
    const caller = chatCaller(deps.policy, actor, rolloutActorFor(deps, actor, notes));
    const api = inProcessApi(deps.services.operations, caller, deps.clock);
    const run = async () => parsed.spec.run({ api, now: () => deps.clock.now(), actor: actor.name }, parsed.input);
    if (parsed.spec.readOnly) return await deps.services.reads.read(`chat ${rolesKey(caller)} ${line}`, async (): Promise<SlashReply> => ({ text: renderForChat(await run()) }), (reply) => reply.text.length * 2);
    const output = await run();
    if (output.kind === 'plan') {
      return { text: renderForChat(output), attachments: [startButton(await deps.secret(), `${deps.baseUrl}/action`, output.plan, output.request, output.ringId, deps.clock.now())] };
    }
    return { text: withNotes(renderForChat(output), notes) };
  } catch (error) {
    return { text: explain(error, deps.log) };
  }
}

/** A Mattermost user id: 26 lowercase letters and digits (model.IsValidId). */
const MATTERMOST_ID = /^[a-z0-9]{26}$/;
/** How long a privileged button's dialog may stay open before its state expires. */
const DIALOG_TTL_MS = 10 * 60_000;

/**
 * Who sent a click or a dialog submission, proven as far as Elrond can: `user_id` must be a Mattermost id, and
 * the bot must find that user (the lookup is URL-encoded, so `username/<name>` is never a path); a failed lookup
 * denies. A string is the refusal. Without the bot there is no one to ask: buttons then refuse.
 */
async function provenActor(deps: ChatDeps, body: Record<string, unknown>): Promise<Actor | string> {
  const userId = typeof body.user_id === 'string' ? body.user_id : '';
  if (!MATTERMOST_ID.test(userId)) return 'this request does not come with a Mattermost user id (26 letters and digits)';
  if (!deps.api) return 'buttons need Elrond\'s bot to know who clicked (--mattermost-url, --mattermost-token)';
  try {
    const name = await deps.api.username(userId);
    return { name, source: 'chat', userId, channelId: typeof body.channel_id === 'string' ? body.channel_id : '' };
  } catch {
    return 'Mattermost does not know the user this request names';
  }
}

/**
 * The user a trigger id was minted for. Mattermost's `GenerateTriggerId` (server/public/model/integration_action.go)
 * encodes base64("clientTriggerId:userId:millis:" + base64(signature)); `DecodeAndVerifyTriggerId` checks that
 * signature when the dialog is opened and shows the dialog to that user only.
 */
export function triggerUser(triggerId: string): string | undefined {
  const parts = Buffer.from(triggerId, 'base64').toString('utf8').split(':');
  return parts.length === 4 && MATTERMOST_ID.test(parts[1] ?? '') ? parts[1] : undefined;
}

/** Ring states a card's Pause, Resume and Cancel act on (what their operations move). */
const BULK_STATES: Record<'pause' | 'resume' | 'cancel', readonly string[]> = {
  pause: ['release-pending'],
  resume: ['release-paused'],
  cancel: ['release-pending', 'release-paused'],
};

/**
 * A card acts on its own release only: a refusal when it no longer can, else undefined. A ring button needs the
 * ring still on the card's rollout (Approve on the v2 card must not approve v3). Pause, Resume and Cancel act on
 * every ring waiting, so they need some waiting on this rollout and none on another (a Cancel from a finished
 * release must not cancel a newer one).
 */
async function noLongerApplies(deps: ChatDeps, caller: Caller, action: CardAction, value: { rollout: string; ring?: string }): Promise<string | undefined> {
  const { operations } = deps.services;
  const bound = CARD_ACTIONS[action].bound;
  if (bound === 'ring') {
    const ring = value.ring ? await operations.invoke('getRing', { ringId: value.ring }, caller).catch(() => undefined) : undefined;
    if (ring && ring.rolloutId === value.rollout) return undefined;
    return `⛔ ${ring ? `Ring ${chatText(ring.name, 60)}` : 'This ring'} has moved on from the release this card is about; use the buttons on its latest card. Nothing was changed.`;
  }
  if (bound === 'rollout' && (action === 'pause' || action === 'resume' || action === 'cancel')) {
    const rings = await operations.invoke('listRings', { page: 0, perPage: -1, includeDeleted: false }, caller);
    const waiting = rings.filter((ring) => BULK_STATES[action].includes(ring.state));
    const others = waiting.filter((ring) => ring.rolloutId !== value.rollout);
    if (others.length > 0) return `⛔ Another release is waiting on ${others.map((r) => chatText(r.name, 60)).join(', ')}: this card's ${action} would reach it; use that release's card, or \`/elrond ring release --${action}\`. Nothing was changed.`;
    if (waiting.length === 0) return `⛔ Nothing of this release is left to ${action}. Nothing was changed.`;
  }
  return undefined;
}

async function handleAction(deps: ChatDeps, body: Record<string, unknown>): Promise<string | undefined> {
  const now = deps.clock.now();
  const secret = await deps.secret();
  const verified = verifyAction(secret, body.context, now);
  if (!verified.ok) {
    // An idle card has expired buttons: redraw it so the next click works.
    const expired = verified.expired;
    if (expired && isCardValue(expired) && deps.redrawCard) {
      await deps.redrawCard(expired.rollout);
      return '⌛ This button had expired; the card is being redrawn with fresh buttons — click again in a few seconds. Nothing was changed.';
    }
    if (expired) return '⛔ This button has expired; use the buttons on the latest version of the card. Nothing was changed.';
    return `⛔ ${capital(verified.reason)}. Nothing was changed.`;
  }
  const value = verified.value;
  // A plan's Start sits on an ephemeral reply, whose post id Elrond never learns; every card button is bound to its card.
  if (value.action === 'start-plan') {
    const starter = await provenActor(deps, body);
    if (typeof starter === 'string') return `⛔ ${capital(starter)}. Nothing was started.`;
    const notes = new Set<string>();
    return withNotes(await startPlannedRelease(deps, value, body.context as Record<string, unknown>, starter, rolloutActorFor(deps, starter, notes)), notes);
  }
  if (!isCardValue(value)) return '⛔ This is not a button Elrond drew. Nothing was changed.';
  if (value.post !== body.post_id) return '⛔ This button belongs to another post. Nothing was changed.';
  const actor = await provenActor(deps, body);
  if (typeof actor === 'string') return `⛔ ${capital(actor)}. Nothing was changed.`;
  const caller = chatCaller(deps.policy, actor);
  const spec = CARD_ACTIONS[value.action];
  // The operation's guard first: a refusal by role reads the same on every surface.
  deps.services.operations.refuseEarly(spec.operation, caller);
  const stale = await noLongerApplies(deps, caller, value.action, value);
  if (stale) return stale;
  if (!isPrivileged(value.action)) return spec.run({ operations: deps.services.operations, caller, reason: '' }, { rollout: value.rollout, ring: 'ring' in value ? value.ring : '' });
  const triggerId = typeof body.trigger_id === 'string' ? body.trigger_id : '';
  if (!deps.api || !triggerId) return '⚠️ Elrond cannot open a dialog here (no bot token or no trigger id).';
  if (triggerUser(triggerId) !== actor.userId) return '⛔ This click\'s trigger id was issued to another user than the one it names. Nothing was changed.';
  const ring = 'ring' in value ? value.ring : '';
  const state = signAction(secret, { action: 'dialog', of: value.action, rollout: value.rollout, ring, post: value.post, user: actor.userId!, nonce: randomBytes(16).toString('hex'), exp: now + DIALOG_TTL_MS });
  const ringName = ring ? ((await deps.services.operations.invoke('getRing', { ringId: ring }, caller).catch(() => undefined))?.name ?? ring) : '';
  const dialog = interventionDialog(value.action, { ringName, rollout: await deps.describeRollout(value.rollout) }, JSON.stringify(state));
  await deps.api.openDialog({ trigger_id: triggerId, url: `${deps.baseUrl}/dialog`, dialog });
  return undefined;
}

const capital = (text: string) => `${text[0]!.toUpperCase()}${text.slice(1)}`;

async function handleDialog(deps: ChatDeps, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (body.cancelled === true) return {};
  const userId = typeof body.user_id === 'string' ? body.user_id : '';
  let state: unknown;
  try {
    state = JSON.parse(typeof body.state === 'string' ? body.state : '');
  } catch {
    return { error: 'This dialog\'s state is not valid. Nothing was changed.' };
  }
  const verified = verifyAction(await deps.secret(), state, deps.clock.now(), 'this form');
  if (!verified.ok && verified.expired?.action === RELEASE_FORM_ACTION) return { error: 'This form has expired: run /elrond release again. Nothing was changed.' };
  if (!verified.ok && verified.expired) return { error: 'This form has expired; click the button on the card again. Nothing was changed.' };
  if (!verified.ok) return { error: `${capital(verified.reason)}. Nothing was changed.` };
  const value = verified.value;
  if (value.action !== RELEASE_FORM_ACTION && value.action !== 'dialog') return { error: 'This is not a form Elrond opened. Nothing was changed.' };
  if (value.user !== userId) return { error: 'This form was opened for someone else. Nothing was changed.' };
  const sig = String((state as { sig: string }).sig);
  const once = () => deps.useOnce(`dialog:${sig}`, value.exp);
  const submission = (body.submission && typeof body.submission === 'object' ? body.submission : {}) as Record<string, unknown>;
  const actor = await provenActor(deps, body);
  if (typeof actor === 'string') return { error: `${capital(actor)}. Nothing was changed.` };
  if (value.action === RELEASE_FORM_ACTION) return submitReleaseForm(deps, value, state, submission, actor, once);
  const spec = CARD_ACTIONS[value.of];
  const reason = typeof submission.reason === 'string' ? submission.reason.trim() : '';
  if (spec.dialog.reason && reason.length < 3) return { errors: { reason: 'Say why, in at least 3 characters.' } };
  const caller = chatCaller(deps.policy, actor);
  const stale = await noLongerApplies(deps, caller, value.of, value);
  if (stale) return { error: stale.replace(/^⛔ /, '') };
  if (!(await once())) return { error: 'This form was already submitted once. Nothing was changed.' };
  await spec.run({ operations: deps.services.operations, caller, reason }, { rollout: value.rollout, ring: value.ring });
  return {};
}
