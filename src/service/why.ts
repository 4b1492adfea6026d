import { z } from 'zod';
import { objectId } from './inputs.js';
import { readOperation } from './operation.js';
import type { InstallationGroup, Ring } from '../model/ring.js';
import { decideRing } from '../model/ring-decision.js';
import { describeGate, releaseGates, rollbackGate } from '../model/gates.js';
import { describeGroupRollout, installationCounts, type RetryParts } from '../model/group-decision.js';
import { IG_STATES_ACTIVE, igStateIn } from '../model/installation-group-states.js';
import { latestGroupFacts, type GroupFacts } from '../store/group-facts.js';
import { RING_STATES_FAILED, RING_STATES_PENDING_WORK, ringStateIn } from '../model/ring-states.js';
import { formatDuration } from '../model/durations.js';
import { describeSloCheck, describeSoakTime } from '../model/slo-gate.js';
import { liveRingsInOrder, getRing } from '../store/rings.js';
import { loadRingViews } from '../store/ring-view.js';

/** One thing holding a ring back: its kind, its parts (as data), and `message`, composed from them once. */
export interface Hold {
  kind: string;
  message: string;
  until?: number;
  /** The group it is about (rollout, group soak, group failure). */
  group?: string;
  /** Installations of a rolling group, as the provisioner last counted them. */
  installations?: { updated: number; total: number };
  /** The transient failure a group waits to retry. */
  retry?: RetryParts;
}

export interface RingWhy {
  id: string;
  name: string;
  priority: number;
  state: string;
  /** What the engine would do next, from the same decision function it runs. */
  next: string;
  holds: Hold[];
}

const iso = (ms: number) => new Date(ms).toISOString();

function groupHolds(groups: readonly InstallationGroup[], facts: ReadonlyMap<string, GroupFacts>, now: number): Hold[] {
  const holds: Hold[] = [];
  for (const group of groups) {
    if (group.state === 'release-requested') {
      // The counts belong to this rollout only once the group is rolling (before, they are the last rollout's).
      const status = group.phase === 'rolling' ? group.lastStatus : null;
      const known = facts.get(group.id) ?? {};
      const retry = group.attempts > 0 ? (known.retry ?? { pending: group.statusMessage }) : null;
      holds.push({
        kind: 'rollout',
        message: describeGroupRollout({ name: group.name, phase: group.phase, status, retry, ...(status && known.stuck ? { stuck: known.stuck } : {}), ...(status && known.block ? { block: known.block } : {}) }, now),
        group: group.name,
        ...(status ? { installations: installationCounts(status) } : {}),
        ...(retry && !('pending' in retry) ? { retry, until: retry.at } : {}),
      });
    } else if (group.state === 'release-soaking-requested' && group.soakUntil) {
      holds.push({ kind: 'group-soak', message: `group ${group.name} soaking until ${iso(group.soakUntil)} (${formatDuration(group.soakUntil - now)} left)`, until: group.soakUntil, group: group.name });
    } else if (group.state === 'release-failed' || group.state === 'soaking-failed') {
      holds.push({ kind: 'group-failed', message: `group ${group.name} failed: ${group.failureReason ?? group.state}`, group: group.name });
    }
  }
  return holds;
}

/**
 * What a ring rolling its groups does next, from its groups (the decision's own message carries each group's
 * status message, which the holds above already say).
 */
function groupsNext(ring: Ring, groups: readonly InstallationGroup[]): string {
  const mine = groups.filter((g) => g.releaseId === ring.desiredReleaseId);
  const done = mine.filter((g) => g.state === 'stable').length;
  const active = mine.filter((g) => igStateIn(g.state, IG_STATES_ACTIVE)).map((g) => g.name);
  return `waiting for group${active.length === 1 ? '' : 's'} ${active.join(', ') || '(none)'} (${done} of ${groups.length} groups done)`;
}

/** The SLO gate of a soaking ring: failing with Prometheus' error, healthy, or not checked yet. */
function sloHold(ring: Ring, maxFailures: number | undefined): string {
  if (ring.sloFailures > 0) return describeSloCheck(ring, maxFailures);
  if (ring.sloHealthyAt !== null) return `${describeSloCheck(ring)}; the burn rate is checked every minute, and the ring completes only after a healthy check at or after the soak's end`;
  return `SLO not checked yet; first check at ${iso(ring.nextCheckAt)}`;
}

export const WHY_OPERATIONS = {
  /**
   * "Why is it stuck": for each ring (or one), exactly what holds it back, computed with the engine's own gate and
   * decision functions so the answer cannot disagree with what the engine does.
   */
  why: readOperation({
    summary: 'what holds each ring (or one) back',
    input: z.object({ ringId: objectId.optional() }),
    guard: { role: 'viewer', verb: 'ask why' },
    async run({ db, now, facts }, { ringId }): Promise<RingWhy[]> {
      const live = ringId ? undefined : await liveRingsInOrder(db);
      const views = await loadRingViews(db, live ?? [await getRing(db, ringId!)], { now, maxParallelGroups: facts.maxParallelGroups ?? 1, approvers: facts.approvers ?? [] }, live);
      const rolling = views.flatMap((v) => v.groups).filter((g) => g.state === 'release-requested');
      const groupFacts = await latestGroupFacts(db, new Map(rolling.map((g) => [g.id, g.rolloutStartedAt ?? 0])));
      const result: RingWhy[] = [];
      for (const view of views) {
        const { ring, groups: ringGroups, release, rings } = view;
        const freeze = view.freeze ?? null;
        const decision = decideRing(view, { slo: facts.sloEnabled ?? false });
        const holds: Hold[] = [];
        if (ring.lockedBy && ring.lockedUntil > now) {
          holds.push({ kind: 'lease', message: `a step is running under ${ring.lockedBy}'s lease since ${iso(ring.lockedAt)} (it expires ${iso(ring.lockedUntil)} if that process died)`, until: ring.lockedUntil });
        }
        if (ring.state === 'release-pending' || ring.state === 'release-paused') {
          for (const gate of releaseGates(ring, release, rings, facts.approvers ?? [], freeze)) holds.push({ kind: gate.kind, message: describeGate(gate), ...(gate.kind === 'freeze' ? { until: gate.until } : {}) });
        } else if (ring.state === 'release-rollback-requested' && !ring.rollingBack) {
          const gate = rollbackGate(ring, rings);
          if (gate) holds.push({ kind: gate.kind, message: describeGate(gate) });
        } else if (ring.state === 'soaking-requested' && ring.soakUntil && facts.sloEnabled) {
          holds.push({ kind: 'soak', message: describeSoakTime(ring, now), until: ring.soakUntil });
          holds.push({ kind: 'slo', message: sloHold(ring, facts.sloMaxFailures), until: ring.nextCheckAt });
        } else if (ring.state === 'soaking-requested' && ring.soakUntil) {
          holds.push({ kind: 'soak', message: `soaking until ${iso(ring.soakUntil)} (${formatDuration(ring.soakUntil - now)} left)`, until: ring.soakUntil });
        } else if (ringStateIn(ring.state, RING_STATES_FAILED)) {
          holds.push({ kind: 'failed', message: `failed: ${ring.failureReason ?? ring.state}; retry by releasing again, or roll back` });
        }
        if (ring.state === 'release-in-progress' || ring.state === 'release-rollback-requested') {
          holds.push(...groupHolds(ringGroups, groupFacts, now));
          if (decision.kind === 'wait' && decision.gate?.kind === 'freeze') holds.push({ kind: 'freeze', message: describeGate(decision.gate), until: decision.gate.until });
        }
        const rollingGroups = decision.kind === 'wait' && !decision.gate && (ring.state === 'release-in-progress' || (ring.state === 'release-rollback-requested' && ring.rollingBack));
        const next = rollingGroups ? groupsNext(ring, ringGroups) : decision.kind === 'wait' ? `waiting: ${decision.message}` : ringStateIn(ring.state, RING_STATES_PENDING_WORK) ? `moving now (${decision.kind})` : 'nothing to do';
        result.push({ id: ring.id, name: ring.name, priority: ring.priority, state: ring.state, next, holds });
      }
      return result;
    },
  }),
};
