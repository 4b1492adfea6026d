import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { HINTS, objectId } from './inputs.js';
import { readOperation } from './operation.js';
import { ReleaseRequest } from './release-request.js';
import type { Database } from '../store/schema.js';
import type { InstallationGroup, Release, Ring } from '../model/ring.js';
import { diffEnv, displayEnvValue, validateEnvMap } from '../model/env-vars.js';
import { redact } from '../model/redact.js';
import { releaseDiffers, type ReleaseSpec } from '../model/release-target.js';
import { canRequestRingState } from '../model/ring-states.js';
import { freezesBetween } from '../model/freeze.js';
import { badRequest } from '../model/errors.js';
import { liveRingsInOrder, getRing } from '../store/rings.js';
import { groupsOfRings } from '../store/installation-groups.js';
import { releasesById } from '../store/releases.js';
import { liveFreezes } from '../store/freezes.js';
import { rolloutHistory } from '../store/rollout-history.js';
import { selectRings } from './ring-selection.js';
import { DEFAULT_ROLLOUT_ESTIMATE_MS, planRollout } from '../model/rollout-eta.js';

export { DEFAULT_ROLLOUT_ESTIMATE_MS };

export interface PlannedGroup {
  name: string;
  provisionerGroupId: string;
  soakSeconds: number;
  rolloutEstimateMs: number;
  estimateFrom: 'history' | 'default';
}

export interface PlannedRing {
  id: string;
  name: string;
  priority: number;
  state: string;
  current: string;
  target: string;
  env: { added: Record<string, string>; changed: Record<string, { from: string; to: string }>; deleted: string[] };
  soakSeconds: number;
  approvalRequired: boolean;
  freezes: Array<{ id: string; reason: string; by: string; start: number; end: number }>;
  groups: PlannedGroup[];
  startEta: number;
  endEta: number;
  /** Why this ring cannot be released now (the release request would be refused), if so. */
  blocked?: string;
}

export interface ReleasePlan {
  /** The env changes as people see them (secret-looking values redacted). */
  release: { image: string; version: string; force: boolean; envVariables: Record<string, string> | null };
  rings: PlannedRing[];
  /** Rings the release would not touch (already on it). */
  unchanged: string[];
  endEta: number;
  approvers: string[];
  defaultRolloutEstimateMs: number;
  /** What the plan depends on; a Start that finds it changed is refused with the difference. */
  basis: PlanBasis;
  fingerprint: string;
}

/** The state a plan was computed from: ring set, their states and active releases, and freezes. */
export interface PlanBasis {
  rings: Array<{ id: string; name: string; state: string; active: string }>;
  freezes: string[];
}

/** A release request, for one ring (`ringId`) or for every ring whose release differs. */
const PlanRelease = ReleaseRequest.extend({ ringId: objectId.optional() });

const describe = (release: Pick<Release, 'image' | 'version'> | undefined) => (release && (release.image || release.version) ? `${release.image}:${release.version}` : '(none)');

export function fingerprintOf(basis: PlanBasis): string {
  return createHash('sha256').update(JSON.stringify(basis)).digest('hex').slice(0, 16);
}

/** Differences between the basis a plan was made on and now, in words ("ring canary: v1 → v2"). */
export function basisChanges(before: PlanBasis, now: PlanBasis): string[] {
  const changes: string[] = [];
  const nowById = new Map(now.rings.map((r) => [r.id, r]));
  const beforeIds = new Set(before.rings.map((r) => r.id));
  for (const ring of before.rings) {
    const current = nowById.get(ring.id);
    if (!current) changes.push(`ring ${ring.name} is gone`);
    else {
      if (current.active !== ring.active) changes.push(`ring ${ring.name} is now on ${current.active} (was ${ring.active})`);
      if (current.state !== ring.state) changes.push(`ring ${ring.name} is now ${current.state} (was ${ring.state})`);
    }
  }
  for (const ring of now.rings) if (!beforeIds.has(ring.id)) changes.push(`ring ${ring.name} is new`);
  const freezesBefore = new Set(before.freezes);
  const freezesNow = new Set(now.freezes);
  if ([...freezesNow].some((f) => !freezesBefore.has(f)) || [...freezesBefore].some((f) => !freezesNow.has(f))) changes.push('freeze windows changed');
  return changes;
}

async function basisOf(db: Kysely<Database>, rings: Ring[], releases: Map<string, Release>): Promise<PlanBasis> {
  const freezes = await liveFreezes(db);
  return {
    rings: rings.map((r) => ({ id: r.id, name: r.name, state: r.state, active: describe(releases.get(r.activeReleaseId)) })),
    freezes: freezes.map((f) => `${f.id}:${f.startAt ?? f.cron}:${f.endAt ?? f.durationMs}`),
  };
}

export const RELEASE_PLAN_OPERATIONS = {
  /**
   * What a release would do, changing nothing: rings in release order with their groups, current → target,
   * env diff (secret values redacted), soaks, approval points, freezes in the way, and ETAs.
   * `ringId` plans one ring; otherwise every ring whose active release differs.
   */
  planRelease: readOperation({
    summary: 'what a release would do (rings, versions, env diff, soaks, approvals, freezes, ETAs), changing nothing',
    input: PlanRelease,
    hints: HINTS,
    guard: { role: 'viewer', verb: 'plan releases' },
    async run({ db, now, facts }, input): Promise<ReleasePlan> {
      const { ringId } = input;
      const env = validateEnvMap(input.envVariables);
      const all = await liveRingsInOrder(db);
      const releases = await releasesById(db, all.flatMap((r) => [r.activeReleaseId, r.desiredReleaseId]));
      let candidates: Ring[];
      let spec: ReleaseSpec;
      if (ringId) {
        const ring = await getRing(db, ringId);
        const active = releases.get(ring.activeReleaseId);
        spec = { image: input.image || active?.image || '', version: input.version || active?.version || '', envVariables: env, force: input.force ?? false };
        candidates = [ring];
      } else {
        if (!input.image || !input.version) throw badRequest(`image and version are required to plan a release of all rings (${HINTS.image}, ${HINTS.version})`);
        spec = { image: input.image, version: input.version, envVariables: env, force: input.force ?? false };
        candidates = selectRings(all, input.rings);
      }
      if (!spec.image || !spec.version) throw badRequest('image and version are required');
      const targets = candidates.filter((ring) => ringId || releaseDiffers(releases.get(ring.activeReleaseId)!, spec));
      const groups = await groupsOfRings(db, targets.map((r) => r.id));
      const history = await rolloutHistory(db, [...groups.values()].flat().map((g) => g.id));
      const freezes = input.overrideFreeze ? [] : await liveFreezes(db);

      const groupsToPlan = new Map(
        targets.map((ring) => [
          ring.id,
          (groups.get(ring.id) ?? []).map((g: InstallationGroup): PlannedGroup => {
            const estimate = history.get(g.id);
            return { name: g.name, provisionerGroupId: g.provisionerGroupId, soakSeconds: spec.force ? 0 : g.soakTime, rolloutEstimateMs: estimate ?? DEFAULT_ROLLOUT_ESTIMATE_MS, estimateFrom: estimate === undefined ? 'default' : 'history' };
          }),
        ]),
      );
      // Freezes a ring meets in the week after it could start; one holding it then moves its start to the freeze's end.
      const freezesInWay = (ringId: string, from: number) => freezesBetween(freezes, ringId, from, from + 30 * 24 * 3600_000).filter((f) => f.start <= from + 7 * 24 * 3600_000);
      const times = planRollout(
        targets.map((ring) => ({ id: ring.id, groups: groupsToPlan.get(ring.id)!.map((g) => ({ rolloutMs: g.rolloutEstimateMs, soakSeconds: g.soakSeconds })), soakSeconds: spec.force ? 0 : ring.soakTime })),
        {
          now,
          maxParallelGroups: facts.maxParallelGroups ?? 1,
          force: spec.force,
          holdUntil: (ringId, from) => freezesInWay(ringId, from).find((f) => f.start <= from && f.end > from)?.end ?? from,
        },
      );
      const planned: PlannedRing[] = targets.map((ring, index) => {
        const { ready, start, end } = times[index]!;
        const active = releases.get(ring.activeReleaseId);
        const diff = diffEnv(active?.envVariables ?? null, env);
        const blocked = !canRequestRingState(ring.state, 'release-pending') ? `ring is ${ring.state}: a release request would be refused` : ring.apiSecurityLock ? 'ring is API-locked' : undefined;
        return {
          id: ring.id,
          name: ring.name,
          priority: ring.priority,
          state: ring.state,
          current: describe(active),
          target: `${spec.image}:${spec.version}`,
          env: {
            added: Object.fromEntries(Object.entries(diff.added).map(([k, v]) => [k, displayEnvValue(k, v)])),
            changed: Object.fromEntries(Object.entries(diff.changed).map(([k, v]) => [k, { from: displayEnvValue(k, v.from), to: displayEnvValue(k, v.to) }])),
            deleted: diff.deleted,
          },
          soakSeconds: spec.force ? 0 : ring.soakTime,
          approvalRequired: ring.approvalRequired,
          freezes: freezesInWay(ring.id, ready).map((f) => ({ id: f.freeze.id, reason: redact(f.freeze.reason), by: f.freeze.author, start: f.start, end: f.end })),
          groups: groupsToPlan.get(ring.id)!,
          startEta: start,
          endEta: end,
          ...(blocked ? { blocked } : {}),
        };
      });
      const basis = await basisOf(db, all, releases);
      return {
        release: { image: spec.image, version: spec.version, force: spec.force, envVariables: env ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, displayEnvValue(k, v) || '(delete)'])) : null },
        rings: planned,
        unchanged: candidates.filter((r) => !targets.includes(r)).map((r) => r.name),
        endEta: planned.reduce((max, r) => Math.max(max, r.endEta), now),
        approvers: [...(facts.approvers ?? [])],
        defaultRolloutEstimateMs: DEFAULT_ROLLOUT_ESTIMATE_MS,
        basis,
        fingerprint: fingerprintOf(basis),
      };
    },
  }),

  /** The basis as it is now, to compare with a plan's before starting it. */
  planBasis: readOperation({
    summary: 'what a plan depends on, as it is now (for a plan\'s Start button)',
    input: z.object({}),
    guard: { role: 'viewer', verb: 'plan releases' },
    async run({ db }): Promise<PlanBasis> {
      const all = await liveRingsInOrder(db);
      return basisOf(db, all, await releasesById(db, all.map((r) => r.activeReleaseId)));
    },
  }),
};
