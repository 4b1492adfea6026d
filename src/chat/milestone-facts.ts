import type { Kysely } from 'kysely';
import type { Database, EventRow } from '../store/schema.js';
import type { Release, Ring, Rollout } from '../model/ring.js';
import { approvalNeeded, milestoneOf, rolloutFinished, type Milestone, type MilestoneContext, type MilestoneEvent, type RolloutOutcome } from '../model/milestones.js';
import { RING_STATES_FAILED, isRingState, ringStateIn } from '../model/ring-states.js';
import { DEFAULT_ROLLOUT_ESTIMATE_MS, ringReleaseMs } from '../model/rollout-eta.js';
import { findRing, liveRingsOfRollout, rolloutHasMovingRing } from '../store/rings.js';
import { lastForcedBy, ringStartsOnRollout } from '../store/rollout-events.js';
import { findRelease, releasesById } from '../store/releases.js';
import { groupsOfRing } from '../store/installation-groups.js';
import { rolloutHistory } from '../store/rollout-history.js';

/** The parts of a recorded event a milestone reads. */
export function milestoneEvent(event: EventRow): MilestoneEvent {
  return {
    kind: event.kind,
    at: event.at,
    actor: event.actor,
    source: event.source,
    ringId: event.ring_id,
    oldState: event.old_state,
    newState: event.new_state,
    data: event.data ? (JSON.parse(event.data) as Record<string, unknown>) : {},
  };
}

const label = (release: Release | undefined) => ({ image: release?.image ?? '', version: release?.version ?? '' });

/** When the ring's release on this rollout last started (its start event). */
async function ringStartedAt(db: Kysely<Database>, rolloutId: string, ringId: string): Promise<number | undefined> {
  const rows = await ringStartsOnRollout(db, rolloutId, ringId);
  return rows.find((r) => r.new_state === 'release-requested' || r.old_state === r.new_state)?.at;
}

/** What the milestone of a ring event says besides the event: the ring, its releases, its times. */
async function ringContext(db: Kysely<Database>, event: MilestoneEvent, rollout: Rollout, ring: Ring, maxParallelGroups: number): Promise<Partial<MilestoneContext>> {
  const releases = await releasesById(db, [ring.desiredReleaseId, ring.activeReleaseId, ...(ring.previousReleaseId ? [ring.previousReleaseId] : [])]);
  // Before it completes a ring's active release is the one it leaves; after, the one it left is its previous.
  const fromId = ring.activeReleaseId !== ring.desiredReleaseId ? ring.activeReleaseId : ring.previousReleaseId;
  const context: Partial<MilestoneContext> = { ringName: ring.name, release: label(releases.get(ring.desiredReleaseId)), from: fromId ? label(releases.get(fromId)) : undefined, soakUntil: ring.soakUntil };
  if (event.kind !== 'ring.state' || event.source !== 'supervisor') return context;
  if (event.newState === 'release-requested') {
    const groups = await groupsOfRing(db, ring.id);
    const history = await rolloutHistory(db, groups.map((g) => g.id));
    const skip = releases.get(ring.desiredReleaseId)?.force === true;
    context.groups = groups.length;
    context.ringEtaMs = ringReleaseMs(groups.map((g) => ({ rolloutMs: history.get(g.id) ?? DEFAULT_ROLLOUT_ESTIMATE_MS, soakSeconds: skip ? 0 : g.soakTime })), skip ? 0 : ring.soakTime, maxParallelGroups);
  } else {
    context.ringStartedAt = await ringStartedAt(db, rollout.id, ring.id);
    context.forcedBy = await lastForcedBy(db, rollout.id, ring.id, context.ringStartedAt);
  }
  return context;
}

/**
 * How a rollout ended, when `event` ended its last moving ring (as `maybeEndRollout` will decide in the same
 * transaction): its rings done, failed, and never started. Undefined while a ring of it still waits or moves.
 */
async function rolloutOutcome(db: Kysely<Database>, rollout: Rollout, at: number): Promise<RolloutOutcome | undefined> {
  if (await rolloutHasMovingRing(db, rollout.id)) return undefined;
  const rings = await liveRingsOfRollout(db, rollout.id);
  const startedIds = new Set((await ringStartsOnRollout(db, rollout.id)).map((r) => r.ring_id));
  const failed = rings.filter((r) => ringStateIn(r.state, RING_STATES_FAILED));
  return {
    kind: rollout.kind,
    release: label(await findRelease(db, rollout.releaseId)),
    requestedBy: rollout.requestedBy,
    fromChat: rollout.source === 'chat',
    startedAt: rollout.createAt,
    endedAt: at,
    done: rings.filter((r) => r.state === 'stable' || r.state === 'release-rollback-complete'),
    failed: failed.filter((r) => startedIds.has(r.id)),
    notStarted: failed.filter((r) => !startedIds.has(r.id)),
  };
}

/** The kinds of event that can be a milestone (model/milestones.ts decides which are). */
const MILESTONE_KINDS = new Set(['release.requested', 'release.rollback', 'ring.state', 'group.state', 'ring.approved', 'ring.forced', 'release.paused', 'release.resumed', 'release.cancelled', 'freeze.overridden']);

const endsRing = (state: string | null) => state !== null && isRingState(state) && (state === 'stable' || state === 'release-rollback-complete' || ringStateIn(state, RING_STATES_FAILED));

/**
 * The milestones an event of a rollout is, in thread order: its own, then who must approve (a request or a retry
 * of rings that wait for an approver), then the end of the rollout when this event ended it. Read inside the
 * transaction that records the event, so they describe the state it leaves.
 */
export async function milestonesFor(db: Kysely<Database>, row: EventRow, rollout: Rollout, settings: { approvers: readonly string[]; maxParallelGroups: number }): Promise<Milestone[]> {
  // Progress and retries are most of a release's events and never a milestone: no reads for them.
  if (!MILESTONE_KINDS.has(row.kind) || (row.kind === 'group.state' && row.old_state !== 'release-requested')) return [];
  const event = milestoneEvent(row);
  const ring = event.ringId ? await findRing(db, event.ringId) : undefined;
  const context: MilestoneContext = {
    rollout: { kind: rollout.kind, requestedBy: rollout.requestedBy, fromChat: rollout.source === 'chat' },
    release: label(await findRelease(db, rollout.releaseId)),
    ...(ring ? await ringContext(db, event, rollout, ring, settings.maxParallelGroups) : {}),
  };
  const found: Milestone[] = [];
  const own = milestoneOf(event, context);
  if (own) found.push(own);
  if (event.kind === 'release.requested' && Array.isArray(event.data.approvals) && event.data.approvals.length > 0) {
    found.push(approvalNeeded(event.data.approvals as Array<{ id: string; name: string }>, settings.approvers));
  }
  if (own?.kind === 'retried' && ring?.approvalRequired && !ring.approvedBy) found.push(approvalNeeded([ring], settings.approvers));
  if (event.kind === 'ring.state' && event.source === 'supervisor' && endsRing(event.newState)) {
    const outcome = await rolloutOutcome(db, rollout, event.at);
    if (outcome) found.push(rolloutFinished(outcome));
  }
  return found;
}
