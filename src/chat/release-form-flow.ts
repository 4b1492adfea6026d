import axios from 'axios';
import type { Actor } from '../model/ring.js';
import { describeRelease } from '../model/release-target.js';
import { isElrondError } from '../model/errors.js';
import type { SignedValue } from './action-signature.js';
import { inProcessApi } from './in-process-api.js';
import { chatCaller } from '../service/access-policy.js';
import type { OperationName } from '../service/operations.js';
import { renderForChat } from './render-for-chat.js';
import { startButton } from './plan-start.js';
import { parseReleaseForm, releaseFormDialog, releaseFormPayload, releaseFormState } from './release-form.js';
import { replyJson, rolloutActorFor, withNotes, type ChatDeps, type SlashReply } from './chat-router.js';

/** What the release form runs: its defaults (the last release, the rings), then a plan or the release itself. */
export const RELEASE_FORM_OPERATIONS = ['latestRelease', 'status', 'planRelease', 'releaseAllRings'] as const satisfies readonly OperationName[];

const USAGE = 'or give it all on one line: `/elrond release --all-rings --image <image> --version <version> [--plan]` (`/elrond release --help`)';

/**
 * `/elrond release` (or `ring release`) with no flags: open the release form for the user who ran it, at once (a
 * trigger id is valid for seconds). Its answers come back as ephemeral replies through the command's
 * response_url, so the signed state carries it.
 */
export async function openReleaseForm(deps: ChatDeps, actor: Actor, request: { triggerId: string; responseUrl: string }): Promise<SlashReply> {
  if (!deps.api || !request.triggerId || !actor.userId) return { text: `⚠️ The release form needs Elrond's bot (--mattermost-url, --mattermost-token) to open it; ${USAGE}.` };
  const caller = chatCaller(deps.policy, actor);
  const [latest, rings] = await Promise.all([deps.services.operations.invoke('latestRelease', {}, caller), deps.services.operations.invoke('status', {}, caller)]);
  const state = releaseFormState(await deps.secret(), { responseUrl: request.responseUrl, channelId: actor.channelId ?? '' }, actor.userId, deps.clock.now());
  const dialog = releaseFormDialog({ image: latest?.image ?? '', ...(latest?.version ? { lastVersion: latest.version } : {}), rings: rings.map((r) => r.name) }, state);
  try {
    await deps.api.openDialog({ trigger_id: request.triggerId, url: `${deps.baseUrl}/dialog`, dialog });
  } catch (error) {
    deps.log.warn({ err: error }, 'could not open the release form');
    return { text: `⚠️ Mattermost did not open the release form (${(error as { message?: string }).message ?? 'no answer'}); ${USAGE}.` };
  }
  // Nothing to say: an empty ephemeral reply is not shown (B.4), the form is.
  return { text: '' };
}

/**
 * A submitted release form: field problems go back to the form (`errors`), a refusal (permissions, a ring that
 * cannot be released now) as its general `error`. With "show the plan first" the plan and its Start button come
 * as an ephemeral reply; otherwise the release starts as the user (their permissions apply) and says so.
 */
export async function submitReleaseForm(deps: ChatDeps, signed: SignedValue<'release-form'>, state: unknown, submission: Record<string, unknown>, user: Actor, once: () => Promise<boolean>): Promise<Record<string, unknown>> {
  const payload = releaseFormPayload(signed, state);
  if (!payload) return { error: 'This form does not match what was signed for it. Nothing was changed.' };
  const actor: Actor = { ...user, channelId: payload.channelId };
  const notes = new Set<string>();
  const caller = chatCaller(deps.policy, actor, rolloutActorFor(deps, actor, notes));
  const rings = await deps.services.operations.invoke('status', {}, caller);
  const answer = parseReleaseForm(submission, rings);
  if ('errors' in answer) return { errors: answer.errors };
  if (!(await once())) return { error: 'This form was already submitted once: run /elrond release again. Nothing was changed.' };
  const api = inProcessApi(deps.services.operations, caller, deps.clock);
  let reply: SlashReply;
  try {
    if (answer.planFirst) {
      const plan = await api.planRelease(undefined, answer.request);
      reply = { text: renderForChat({ kind: 'plan', plan, request: answer.request }), attachments: [startButton(await deps.secret(), `${deps.baseUrl}/action`, plan, answer.request, undefined, deps.clock.now())] };
    } else {
      const moved = (await api.releaseAllRings(answer.request)).filter((r) => r.State === 'release-pending');
      const release = describeRelease({ image: answer.request.Image, version: answer.request.Version });
      if (moved.length === 0) return { error: `Nothing to release: ${answer.ringNames === 'all' ? 'every ring' : answer.ringNames.join(', ')} ${answer.ringNames !== 'all' && answer.ringNames.length === 1 ? 'is' : 'are'} already on ${release}.` };
      reply = { text: withNotes(`🚀 Release of ${release} started for ${moved.map((r) => r.Name).join(', ')}; its card follows in this channel.`, notes) };
    }
  } catch (error) {
    if (isElrondError(error)) return { error: error.message };
    throw error;
  }
  try {
    await axios.post(payload.responseUrl, replyJson(reply), { timeout: 10_000 });
  } catch (error) {
    deps.log.warn({ err: error }, 'could not answer a release form through its response_url');
    // A started release goes on (its card says so); a plan nobody can see is worth saying.
    if (answer.planFirst) return { error: 'Elrond could not show the plan here (the form is over 30 minutes old, or its replies are used up): run /elrond release again.' };
  }
  return {};
}
