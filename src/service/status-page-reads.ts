import type { Kysely } from 'kysely';
import type { Database, EventRow, RolloutRow } from '../store/schema.js';
import { WHY_OPERATIONS, type RingWhy } from './why.js';
import { z } from 'zod';
import { readOperation, type ReadContext } from './operation.js';
import { objectId } from './inputs.js';
import { SUPERVISOR_ACTOR } from '../model/ring.js';
import type { InstallationGroup, Ring } from '../model/ring.js';
import { RING_STATES_FAILED, RING_STATES_RELEASE_PENDING, ringStateIn } from '../model/ring-states.js';
import { describeRelease } from '../model/release-target.js';
import { notFound } from '../model/errors.js';
import { rolloutRowToRollout } from '../store/rows.js';
import { liveRingsInOrder, ringsInOrderByIds, rolloutsWithMovingRings } from '../store/rings.js';
import { findRolloutRow, newestRolloutRows, rolloutsById } from '../store/rollouts.js';
import { eventsOfKindBetween, latestEventId } from '../store/event-log.js';
import { eventsOfRollout, ringTransitionsOfRollouts, rollbackRequestsOfRings } from '../store/rollout-events.js';
import { freezesById } from '../store/freezes.js';
import { groupsOfRings } from '../store/installation-groups.js';
import { releasesById } from '../store/releases.js';

export type RolloutOutcome = 'in progress' | 'succeeded' | 'failed' | 'cancelled' | 'rolled back';

/** One line of "recent rollouts". camelCase, like every new shape. */
export interface RolloutSummary {
  id: string;
  kind: 'release' | 'rollback';
  /** image:version */
  release: string;
  version: string;
  requestedBy: string;
  source: string;
  reason: string | null;
  createAt: number;
  endAt: number | null;
  /** Until its end, or until now while it runs. */
  durationMs: number;
  outcome: RolloutOutcome;
}

export interface PageGroup {
  id: string;
  name: string;
  state: string;
  statusMessage: string;
  failureReason: string | null;
  /** Installations on the release / in the group, from the provisioner's last status (null before any). */
  installationsUpdated: number | null;
  installationsTotal: number | null;
  soakUntil: number | null;
}

export interface PageRing {
  id: string;
  name: string;
  priority: number;
  state: string;
  activeVersion: string;
  desiredVersion: string;
  approvalRequired: boolean;
  approvedBy: string | null;
  forceRequestedBy: string | null;
  rolloutId: string | null;
  /** Who asked for the release the ring is moving for, and from where. */
  startedBy: { name: string; source: string } | null;
  soakUntil: number | null;
  groups: PageGroup[];
  groupsDone: number;
  /** What holds it back, in the words of `elrond why`. */
  holds: string[];
  /** What it does, or why it failed. */
  doing: string;
}

/** An event as the timeline reads it (src/web/timeline-layout.ts). */
export interface RolloutEvent {
  id: number;
  at: number;
  kind: string;
  actor: string;
  ringId: string | null;
  groupId: string | null;
  oldState: string | null;
  newState: string | null;
  groupName?: string;
  freezeRingIds?: string[];
  reason?: string;
}

export interface RolloutTimelineData {
  rollout: RolloutSummary;
  rings: Array<{ id: string; name: string; groups: Array<{ id: string; name: string }> }>;
  events: RolloutEvent[];
}

export interface StatusPageData {
  now: number;
  rings: PageRing[];
  /** The rollout shown on the timeline: the one asked for, or the newest. */
  rollout: RolloutTimelineData | null;
  recent: RolloutSummary[];
  /** The newest event id the page was drawn from: the live stream carries on after it. */
  latestEventId: number;
}

const RECENT_ROLLOUTS = 10;
/** Events drawn on one timeline at most (a rollout of hundreds of rings has a few thousand). */
const MAX_TIMELINE_EVENTS = 5000;

/**
 * How a rollout ended, from each of its rings' last transition on it: still moving, any failure, every ring
 * taken off before it started (a cancel), a rollback that completed, or done.
 */
export function rolloutOutcome(kind: 'release' | 'rollback', lastTransitions: ReadonlyArray<{ oldState: string | null; newState: string | null }>, stillMoving: boolean): RolloutOutcome {
  if (stillMoving) return 'in progress';
  if (lastTransitions.some((t) => ringStateIn((t.newState ?? 'stable') as Ring['state'], RING_STATES_FAILED))) return 'failed';
  const pending: readonly string[] = RING_STATES_RELEASE_PENDING;
  if (lastTransitions.length > 0 && lastTransitions.every((t) => t.newState === 'stable' && pending.includes(t.oldState ?? ''))) return 'cancelled';
  return kind === 'rollback' ? 'rolled back' : 'succeeded';
}

function parseData(row: Pick<EventRow, 'data'>): Record<string, unknown> {
  if (!row.data) return {};
  try {
    const value = JSON.parse(row.data) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** What the page's reads run on: the database, the time, and the `why` operation's answer. */
export interface PageSource {
  db: Kysely<Database>;
  now(): number;
  why: { explain(ringId?: string): Promise<RingWhy[]> };
}

/** The status page's reads: every ring with what holds it, a rollout's timeline events, the recent rollouts. */
export function statusPageReads(deps: PageSource) {
  const db = (): Kysely<Database> => deps.db;

  async function summarize(rows: RolloutRow[], now: number): Promise<RolloutSummary[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const transitions = await ringTransitionsOfRollouts(db(), ids);
    const movingIds = await rolloutsWithMovingRings(db(), ids);
    const releases = await releasesById(db(), rows.map((r) => r.release_id));
    return rows.map((row) => {
      const last = new Map<string, { oldState: string | null; newState: string | null }>();
      let lastAt = row.create_at;
      for (const t of transitions) {
        if (t.rollout_id !== row.id) continue;
        if (t.ring_id) last.set(t.ring_id, { oldState: t.old_state, newState: t.new_state });
        lastAt = Math.max(lastAt, t.at);
      }
      const rollout = rolloutRowToRollout(row);
      const stillMoving = movingIds.has(row.id);
      const release = releases.get(row.release_id);
      const end = stillMoving ? null : (row.end_at ?? lastAt);
      return {
        id: row.id,
        kind: rollout.kind,
        release: describeRelease(release),
        version: release?.version ?? '',
        requestedBy: row.requested_by,
        source: row.source,
        reason: row.reason,
        createAt: row.create_at,
        endAt: end,
        durationMs: Math.max(0, (end ?? now) - row.create_at),
        outcome: rolloutOutcome(rollout.kind, [...last.values()], stillMoving),
      };
    });
  }

  async function pageRings(rings: Ring[]): Promise<PageRing[]> {
    const groups = await groupsOfRings(db(), rings.map((r) => r.id));
    const releases = await releasesById(db(), rings.flatMap((r) => [r.activeReleaseId, r.desiredReleaseId]));
    const rolloutIds = [...new Set(rings.map((r) => r.rolloutId).filter((id): id is string => id !== null))];
    const starters = new Map([...(await rolloutsById(db(), rolloutIds)).values()].map((r) => [r.id, { name: r.requestedBy, source: r.source }]));
    const why = new Map((await deps.why.explain()).map((answer) => [answer.id, answer]));
    const versionOf = (id: string) => {
      const release = releases.get(id);
      return release && (release.image || release.version) ? release.version : '(none)';
    };
    return rings.map((ring) => {
      const own = groups.get(ring.id) ?? [];
      const releasing = ring.activeReleaseId !== ring.desiredReleaseId;
      return {
        id: ring.id,
        name: ring.name,
        priority: ring.priority,
        state: ring.state,
        activeVersion: versionOf(ring.activeReleaseId),
        desiredVersion: versionOf(ring.desiredReleaseId),
        approvalRequired: ring.approvalRequired,
        approvedBy: ring.approvedBy,
        forceRequestedBy: ring.forceRequestedBy,
        rolloutId: ring.rolloutId,
        startedBy: ring.rolloutId ? (starters.get(ring.rolloutId) ?? null) : null,
        soakUntil: ring.state === 'soaking-requested' ? ring.soakUntil : null,
        groups: own.map(pageGroup),
        groupsDone: own.filter((g) => g.state === 'stable' && (!releasing || g.releaseId === ring.desiredReleaseId)).length,
        holds: (why.get(ring.id)?.holds ?? []).map((hold) => hold.message),
        doing: ring.failureReason ?? ring.statusMessage ?? '',
      };
    });
  }

  async function timeline(row: RolloutRow, summary: RolloutSummary, now: number): Promise<RolloutTimelineData> {
    const own = await eventsOfRollout(db(), row.id, MAX_TIMELINE_EVENTS);
    const ringIds = [...new Set(own.map((e) => e.ring_id).filter((id): id is string => id !== null))];
    const rings = await ringsInOrderByIds(db(), ringIds);
    const windowEnd = summary.endAt ?? now;
    // Asked elsewhere but drawn here: a rollback of these rings (it is a rollout of its own) and freezes.
    const rollbacks = await rollbackRequestsOfRings(db(), ringIds, row.id, row.create_at, windowEnd);
    const freezes = await eventsOfKindBetween(db(), 'freeze.created', row.create_at, windowEnd, 100);
    const freezeIds = freezes.map((e) => text(parseData(e).freezeId)).filter((id): id is string => id !== undefined);
    const scopes = new Map([...(await freezesById(db(), freezeIds)).values()].map((f) => [f.id, f.ringIds]));
    const rollbackReasons = new Map<string, string | null>([...(await rolloutsById(db(), rollbacks.map((e) => e.rollout_id ?? ''))).values()].map((r) => [r.id, r.reason]));
    rollbackReasons.set(row.id, row.reason);
    const isRollbackRequest = (e: EventRow) => e.kind === 'ring.state' && e.new_state === 'release-rollback-requested' && e.old_state !== e.new_state;
    const groups = await groupsOfRings(db(), rings.map((r) => r.id));
    const events = [...own, ...rollbacks, ...freezes].map((e): RolloutEvent => {
      const data = parseData(e);
      const freezeId = text(data.freezeId);
      // A retry's reason is the provisioner trouble its message names; a rollback's is its rollout's.
      const reason = e.kind === 'group.retry' ? e.message.replace(/^group [^:]*: /, '') : isRollbackRequest(e) ? (rollbackReasons.get(e.rollout_id ?? '') ?? undefined) : text(data.reason);
      return {
        id: e.id,
        at: e.at,
        kind: e.kind,
        actor: e.actor,
        ringId: e.ring_id,
        groupId: e.installation_group_id,
        oldState: e.old_state,
        newState: e.new_state,
        ...(text(data.groupName) ? { groupName: text(data.groupName)! } : {}),
        ...(freezeId && scopes.has(freezeId) ? { freezeRingIds: scopes.get(freezeId)! } : {}),
        ...(reason ? { reason } : {}),
      };
    });
    return {
      rollout: summary,
      rings: rings.map((ring) => ({ id: ring.id, name: ring.name, groups: (groups.get(ring.id) ?? []).map((g) => ({ id: g.id, name: g.name })) })),
      events: events.sort((a, b) => a.id - b.id),
    };
  }

  /** The newest event id (0 when there is none). */
  const readLatestEventId = () => latestEventId(db());

  return {
    latestEventId: readLatestEventId,

    /** The newest rollouts first, with duration and outcome. */
    async recentRollouts(limit = RECENT_ROLLOUTS): Promise<RolloutSummary[]> {
      return summarize(await newestRolloutRows(db(), limit), deps.now());
    },

    /**
     * Everything the status page shows. Without `rolloutId`: every live ring and the newest rollout's timeline;
     * with it: that rollout's rings and timeline (404 when there is no such rollout).
     */
    async page(rolloutId?: string): Promise<StatusPageData> {
      const now = deps.now();
      const latestEventId = await readLatestEventId();
      const recentRows = await newestRolloutRows(db(), RECENT_ROLLOUTS);
      let row: RolloutRow | undefined = recentRows[0];
      if (rolloutId) {
        row = recentRows.find((r) => r.id === rolloutId) ?? (await findRolloutRow(db(), rolloutId));
        if (!row) throw notFound(`rollout ${rolloutId} not found: the recent rollouts are listed on the status page`);
      }
      const summaries = await summarize(row && !recentRows.includes(row) ? [...recentRows, row] : recentRows, now);
      const data = row ? await timeline(row, summaries.find((s) => s.id === row!.id)!, now) : null;
      const rings = rolloutId && data ? await ringsInOrderByIds(db(), data.rings.map((r) => r.id)) : await liveRingsInOrder(db());
      return { now, rings: await pageRings(rings), rollout: data, recent: summaries.filter((s) => recentRows.some((r) => r.id === s.id)), latestEventId };
    },
  };
}

function pageGroup(group: InstallationGroup): PageGroup {
  return {
    id: group.id,
    name: group.name,
    state: group.state,
    statusMessage: group.statusMessage,
    failureReason: group.failureReason,
    installationsUpdated: group.lastStatus ? group.lastStatus.InstallationsUpdated : null,
    installationsTotal: group.lastStatus ? group.lastStatus.InstallationsTotal : null,
    soakUntil: group.state === 'release-soaking-requested' ? group.soakUntil : null,
  };
}

export type StatusPageReads = ReturnType<typeof statusPageReads>;

/** The status page as an operation: a viewer's read, so the page reaches state the way every other surface does. */
export const STATUS_PAGE_OPERATIONS = {
  statusPage: readOperation({
    summary: 'the status page: every ring with what holds it, a rollout\'s timeline, the recent rollouts',
    input: z.object({ rolloutId: objectId.optional() }),
    guard: { role: 'viewer', verb: 'look at the status page' },
    run: (ctx: ReadContext, input): Promise<StatusPageData> =>
      statusPageReads({
        db: ctx.db,
        now: () => ctx.now,
        why: { explain: (ringId) => WHY_OPERATIONS.why.run(ctx, ringId ? { ringId } : {}, SUPERVISOR_ACTOR) },
      }).page(input.rolloutId),
  }),
};
