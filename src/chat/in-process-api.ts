import type { ElrondApi } from '../commands/elrond-api.js';
import type { OperationInput, OperationName, Operations, Unvalidated } from '../service/operations.js';
import type { Caller } from '../service/access-policy.js';
import type { Release, Ring, RingWithGroups } from '../model/ring.js';
import { redact } from '../model/redact.js';
import type { Clock } from '../model/clock.js';
import { parseSince } from '../model/durations.js';
import { presentEvent, presentFreeze, presentGroup, presentRelease, presentRing, presentWebhook } from '../wire/present.js';
import { wireRequest } from '../wire/request-keys.js';

/** A release as chat shows it: every channel member reads the answer, so env values go through the one redaction rule. */
function withRedactedEnv(release: Release): Release {
  if (!release.envVariables) return release;
  const env = Object.entries(release.envVariables).map(([name, entry]) => [name, entry.value === undefined ? entry : { ...entry, value: redact(entry.value, name) }] as const);
  return { ...release, envVariables: Object.fromEntries(env) };
}

/**
 * The command grammar's API served in-process for a chat user: each method is the operation of the same name, run
 * as `caller`, with the requests read and the answers shaped as REST does (src/wire), so a command answers alike in
 * chat and on the CLI. Nothing here decides who may: the operations do.
 */
export function inProcessApi(operations: Operations, caller: Caller, clock: Clock): ElrondApi {
  const invoke = <N extends OperationName>(name: N, input: OperationInput<N> | Unvalidated) => operations.invoke(name, input, caller);
  const ring = (r: Ring | RingWithGroups) => presentRing(r, clock.now());
  return {
    createRing: async (request) => ring(await invoke('createRing', wireRequest(request))),
    listRings: async (paging) => (await invoke('listRings', paging)).map(ring),
    getRing: async (ringId) => ring(await invoke('getRing', { ringId })),
    updateRing: async (ringId, request) => ring(await invoke('updateRing', wireRequest(request, { ringId }))),
    deleteRing: (ringId) => invoke('deleteRing', { ringId }),
    retryRing: async (ringId) => ring(await invoke('retryRing', { ringId })),
    releaseRing: async (ringId, request) => ring(await invoke('releaseRing', wireRequest(request, { ringId }))),
    releaseAllRings: async (request) => (await invoke('releaseAllRings', wireRequest(request))).map(ring),
    pauseReleases: async () => void (await invoke('pauseReleases', {})),
    resumeReleases: async () => void (await invoke('resumeReleases', {})),
    cancelReleases: async () => void (await invoke('cancelReleases', {})),
    approveRing: async (ringId) => ring((await invoke('approveRing', { ringId })).ring),
    rollbackRing: async (ringId, request) => ring(await invoke('rollbackRing', wireRequest(request, { ringId }))),
    rollbackAllRings: async (request) => (await invoke('rollbackAllRings', wireRequest(request))).map(ring),
    getRelease: async (releaseId) => presentRelease(withRedactedEnv(await invoke('getRelease', { releaseId }))),
    registerGroup: async (ringId, request) => ring(await invoke('registerGroup', wireRequest(request, { ringId }))),
    updateGroup: async (groupId, request) => presentGroup(await invoke('updateGroup', wireRequest(request, { groupId }))),
    deleteGroup: (ringId, groupId) => invoke('deleteGroup', { ringId, groupId }),
    createWebhook: async (request) => presentWebhook(await invoke('createWebhook', wireRequest(request))),
    getWebhook: async (webhookId) => presentWebhook(await invoke('getWebhook', { webhookId })),
    listWebhooks: async ({ owner, ...paging }) => (await invoke('listWebhooks', { ...paging, ...(owner ? { ownerId: owner } : {}) })).map(presentWebhook),
    deleteWebhook: (webhookId) => invoke('deleteWebhook', { webhookId }),
    lockRing: (ringId) => invoke('lockRing', { ringId }),
    unlockRing: (ringId) => invoke('unlockRing', { ringId }),
    listEvents: async (query) =>
      (await invoke('listEvents', { limit: query.limit ?? 20, ...(query.ring ? { ringId: query.ring } : {}), ...(query.since ? { since: parseSince(query.since, 'since', clock.now()) } : {}) })).map(presentEvent),
    planRelease: (ringId, request) => invoke('planRelease', wireRequest(request, ringId ? { ringId } : {})),
    createFreeze: async (request) => presentFreeze(await invoke('createFreeze', wireRequest(request))),
    freezeNow: async (request) => presentFreeze(await invoke('freezeNow', wireRequest(request))),
    listFreezes: async () => (await invoke('listFreezes', {})).map(presentFreeze),
    deleteFreeze: (freezeId) => invoke('deleteFreeze', { freezeId }),
    why: (ringId) => invoke('why', ringId ? { ringId } : {}),
    status: () => invoke('status', {}),
    // Who may subscribe which channel is the operation's guard: the current one, anyone in it; another, admins.
    subscribe: (request) => invoke('subscribe', wireRequest(request)),
    unsubscribe: (request) => invoke('unsubscribe', wireRequest(request)),
    listSubscriptions: () => invoke('listSubscriptions', {}),
  };
}
