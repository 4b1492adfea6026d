import { createHash } from 'node:crypto';
import type { ChatDeps } from './chat-router.js';
import type { Actor } from '../model/ring.js';
import type { PlanBasis, ReleasePlan } from '../service/release-plan.js';
import { basisChanges } from '../service/release-plan.js';
import type { RingReleaseRequest } from '../commands/elrond-api.js';
import { inProcessApi } from './in-process-api.js';
import { chatCaller } from '../service/access-policy.js';
import type { OperationName } from '../service/operations.js';
import { signAction, type SignedValue } from './action-signature.js';
import { canonicalJson } from './canonical-json.js';

/** What a Start button carries besides its signature: the request to start and the basis of the plan it showed. */
interface StartPayload {
  request: RingReleaseRequest;
  ringId: string | null;
  basis: PlanBasis;
}

const PLAN_BUTTON_TTL_MS = 30 * 60_000;

/**
 * What a plan's Start runs: it compares the plan's basis with the basis now, then starts the release it shows, of
 * one ring or of all (through the command API's methods of these names).
 */
export const START_PLAN_OPERATIONS = ['planBasis', 'releaseRing', 'releaseAllRings'] as const satisfies readonly OperationName[];

/** The payload's hash over its canonical JSON: the context comes back from Mattermost with its keys re-sorted. */
function digest(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

/**
 * The Start button under a plan. The payload travels in the button's context (which Mattermost keeps
 * server-side and never shows to clients); its hash is what the HMAC signs (`plan`). Signing the
 * canonical form keeps Elrond stateless (any replica can check a click, nothing to store or expire) where
 * keeping plans server-side would need a table and its cleanup.
 */
export function startButton(secret: string, actionUrl: string, plan: ReleasePlan, request: RingReleaseRequest, ringId: string | undefined, now: number) {
  const payload: StartPayload = { request, ringId: ringId ?? null, basis: plan.basis };
  const signed = signAction(secret, { action: 'start-plan', plan: digest(payload), ring: ringId ?? '', exp: now + PLAN_BUTTON_TTL_MS });
  return {
    fallback: 'Start this release',
    color: '#1E88E5',
    text: plan.rings.length ? `Start when ready: Elrond checks first that nothing changed since this plan (valid 30 minutes).` : 'Nothing to start.',
    actions: plan.rings.length ? [{ id: 'start', type: 'button', name: 'Start', style: 'primary', integration: { url: actionUrl, context: { ...signed, payload } } }] : [],
  };
}

/**
 * A click on Start: the signature was checked by the caller; here the payload must match what was signed,
 * and the rings, their active versions and the freezes must be what the plan showed — otherwise refuse
 * with the difference. Then start the release as the clicking user (their permissions apply).
 */
export async function startPlannedRelease(deps: ChatDeps, signed: SignedValue<'start-plan'>, context: Record<string, unknown>, actor: Actor, rolloutActor: () => Promise<Actor>): Promise<string> {
  const payload = context.payload as StartPayload | undefined;
  if (!payload || typeof payload !== 'object' || digest(payload) !== signed.plan) return '⛔ This Start button does not match the plan it was signed for. Nothing was started.';
  const caller = chatCaller(deps.policy, actor, rolloutActor);
  const changes = basisChanges(payload.basis, await deps.services.operations.invoke('planBasis', {}, caller));
  if (changes.length > 0) return `⛔ Not started: things changed since the plan — ${changes.join('; ')}. Run the plan again.`;
  const api = inProcessApi(deps.services.operations, caller, deps.clock);
  if (payload.ringId) {
    const ring = await api.releaseRing(payload.ringId, payload.request);
    return `🚀 Release of ring ${ring.Name} started; its card follows in this channel.`;
  }
  const rings = await api.releaseAllRings(payload.request);
  return `🚀 Release started for ${rings.filter((r) => r.State === 'release-pending').length} ring(s); its card follows in this channel.`;
}
