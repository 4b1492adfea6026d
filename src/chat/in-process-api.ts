import type { ElrondApi } from '../commands/elrond-api.js';
import type { Services } from '../service/services.js';
import type { Actor } from '../model/ring.js';
import type { Clock } from '../model/clock.js';
import { parseSince } from '../model/durations.js';
import { authorize, type AccessPolicy, type GuardedAction } from '../service/access-policy.js';
import { presentEvent, presentFreeze, presentGroup, presentRelease, presentRing, presentWebhook } from '../http/present.js';

/**
 * The command grammar's API, served in-process for a chat user: the same service operations as REST, with
 * the chat user's permissions checked first. `rolloutActor` gives the actor a release or rollback records its
 * rollout with (the same user; its channel is where the card goes).
 */
export function inProcessApi(services: Services, actor: Actor, policy: AccessPolicy, clock: Clock, rolloutActor: () => Promise<Actor> = async () => actor): ElrondApi {
  const may = (action: GuardedAction) => authorize(policy, actor, action);
  const ring = (r: Parameters<typeof presentRing>[0]) => presentRing(r, clock.now());
  return {
    async createRing(request) {
      may('change');
      return ring(await services.rings.create(request, actor));
    },
    listRings: async (paging) => (await services.rings.list(paging)).map(ring),
    getRing: async (id) => ring(await services.rings.get(id)),
    async updateRing(id, request) {
      may('change');
      return ring(await services.rings.update(id, request, actor));
    },
    async deleteRing(id) {
      may('change');
      await services.rings.delete(id, actor);
    },
    async retryRing(id) {
      may('change');
      return ring(await services.rings.retryCreate(id, actor));
    },
    async releaseRing(id, request) {
      may(request.Force ? 'force' : 'release');
      return ring(await services.releases.releaseRing(id, request, await rolloutActor()));
    },
    async releaseAllRings(request) {
      may(request.Force ? 'force' : 'release');
      return (await services.releases.releaseAllRings(request, await rolloutActor())).map(ring);
    },
    async pauseReleases() {
      may('pause');
      await services.releases.pause(actor);
    },
    async resumeReleases() {
      may('resume');
      await services.releases.resume(actor);
    },
    async cancelReleases() {
      may('cancel');
      await services.releases.cancel(actor);
    },
    async rollbackRing(id, request) {
      may('rollback');
      return ring(await services.releases.rollbackRing(id, request, await rolloutActor()));
    },
    async rollbackAllRings(request) {
      may('rollback');
      return (await services.releases.rollbackAllRings(request, await rolloutActor())).map(ring);
    },
    getRelease: async (id) => presentRelease(await services.releases.get(id)),
    async registerGroup(id, request) {
      may('change');
      return ring(await services.groups.register(id, request, actor));
    },
    async updateGroup(id, request) {
      may('change');
      return presentGroup(await services.groups.update(id, request, actor));
    },
    async deleteGroup(ringId, groupId) {
      may('change');
      await services.groups.remove(ringId, groupId, actor);
    },
    async createWebhook(request) {
      may('change');
      return presentWebhook(await services.webhooks.create(request, actor));
    },
    getWebhook: async (id) => presentWebhook(await services.webhooks.get(id)),
    listWebhooks: async (query) => (await services.webhooks.list({ page: query.page, perPage: query.perPage, includeDeleted: query.includeDeleted, ...(query.owner ? { ownerId: query.owner } : {}) })).map(presentWebhook),
    async deleteWebhook(id) {
      may('change');
      await services.webhooks.delete(id, actor);
    },
    async lockRing(id) {
      may('change');
      await services.rings.setApiLock(id, true, actor);
    },
    async unlockRing(id) {
      may('change');
      await services.rings.setApiLock(id, false, actor);
    },
    listEvents: async (query) =>
      (await services.events.list({ limit: query.limit ?? 20, ...(query.ring ? { ringId: query.ring } : {}), ...(query.since ? { since: parseSince(query.since, 'since', clock.now()) } : {}) })).map(presentEvent),
    planRelease: (ringId, request) => services.plans.plan(request, ringId),
    async createFreeze(request) {
      may('change');
      return presentFreeze(await services.freezes.create(request, actor));
    },
    freezeNow: async (request) => presentFreeze(await services.freezes.now(request, actor)),
    listFreezes: async () => (await services.freezes.list()).map(presentFreeze),
    deleteFreeze: (id) => services.freezes.delete(id, actor),
    why: (ringId) => services.why.explain(ringId),
    status: () => services.overview(),
    // The service checks who may subscribe which channel (the current one: anyone in it; another: admins).
    subscribe: (request) => services.subscriptions.subscribe(request, actor),
    unsubscribe: (request) => services.subscriptions.unsubscribe(request, actor),
    listSubscriptions: () => services.subscriptions.list(),
  };
}
