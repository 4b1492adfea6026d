import type { Kysely } from 'kysely';
import type { EngineDeps, SloCheckResult } from './engine-deps.js';
import { NO_DEADLINE, type Database, type RingRowUpdate } from '../store/schema.js';
import type { InstallationGroup, Ring } from '../model/ring.js';
import { SUPERVISOR_ACTOR } from '../model/ring.js';
import { RING_STATES_RELEASE_PENDING, type RingState } from '../model/ring-states.js';
import { decideRing, type RingDecision } from '../model/ring-decision.js';
import { describeRelease } from '../model/release-target.js';
import { describeRingSoak, sloRetryDelayMs } from '../model/slo-gate.js';
import { holdLease, LEASE_GIVEN_BACK, releaseLease, type HeldLease } from '../store/leases.js';
import { findRing, liveRingsInOrder, rewriteWaitMessages, ringsGating, ringsOfRollout, rolloutHasMovingRing, transitionRing, wakeQueueHeads, type WaitMessageChange } from '../store/rings.js';
import { deleteGroupsOfRing, queueGroupsForRelease, stopUnstartedGroups, transitionGroup } from '../store/installation-groups.js';
import { getRelease } from '../store/releases.js';
import { endRollout } from '../store/rollouts.js';
import { recordEvent } from '../store/event-log.js';
import { takeWriteGate } from '../store/system.js';
import { loadRingViews } from '../store/ring-view.js';

export type StepResult = 'progressed' | 'waiting' | 'skipped';

/** The settings a ring's view is read with, and the options it is decided with, for every decision the engine makes. */
const viewSettings = ({ clock, config }: EngineDeps) => ({ now: clock.now(), maxParallelGroups: config.maxParallelGroups, approvers: config.approvers ?? [] });
const decisionOptions = (deps: EngineDeps) => ({ slo: deps.slo !== undefined });

/** Read what a decision about `ringId` rests on (in `db`: the store, or a transaction), and decide (pure). */
async function decideNow(deps: EngineDeps, ringId: string, db: Kysely<Database> = deps.store.db) {
  const ring = await findRing(db, ringId);
  if (!ring) return undefined;
  const [view] = await loadRingViews(db, [ring], viewSettings(deps));
  const options = decisionOptions(deps);
  return { ring, groups: view!.groups, view: view!, options, decision: decideRing(view!, options) };
}

/**
 * Of rings that are not due (the backstop's full pass looks at them all), those whose decision would change what
 * is stored: decided on one read of every live ring. Read ring by ring, a pass over 500 queued rings cost ~1 ms
 * each and held requests back for half a second every --poll seconds (bench/, load). A ring not found live, or
 * a read that fails, leaves the ring to be looked at alone, as before.
 *
 * A ring that keeps waiting until the same deadline, only in other words (the queued rings of a release name the
 * ring in progress, which changes with every ring), gets its new words here, all in one transaction, and no
 * step: stepping each one (lease, reads, write, lease back) made every backstop pass over 500 queued rings cost
 * ~7 s of the event loop (bench/, load).
 */
export async function ringsToRefresh(deps: EngineDeps, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  try {
    const live = await liveRingsInOrder(deps.store.db);
    const wanted = new Set(ids);
    const targets = live.filter((ring) => wanted.has(ring.id));
    const views = await loadRingViews(deps.store.db, targets, viewSettings(deps), live);
    const options = decisionOptions(deps);
    const settled = new Set<string>();
    const reworded: WaitMessageChange[] = [];
    for (const view of views) {
      const { ring } = view;
      const decision = decideRing(view, options);
      if (isRewordedWait(ring, decision)) reworded.push({ id: ring.id, state: ring.state, nextCheckAt: ring.nextCheckAt, from: ring.statusMessage, to: decision.message });
      else if (!isUnchangedWait(ring, decision)) continue;
      settled.add(ring.id);
    }
    await rewriteWaitMessages(deps.store.db, reworded);
    return new Set(ids.filter((id) => !settled.has(id)));
  } catch {
    return new Set(ids);
  }
}

/** A wait that would write back exactly what is stored. */
function isUnchangedWait(ring: Ring, decision: RingDecision): boolean {
  return decision.kind === 'wait' && decision.message === ring.statusMessage && (decision.until ?? NO_DEADLINE) === ring.nextCheckAt;
}

/** A wait until the stored deadline, in other words than the stored ones. */
function isRewordedWait(ring: Ring, decision: RingDecision): decision is Extract<RingDecision, { kind: 'wait' }> {
  return decision.kind === 'wait' && decision.message !== ring.statusMessage && (decision.until ?? NO_DEADLINE) === ring.nextCheckAt;
}

/**
 * Run one step for a ring under its lease: re-read, decide (pure), apply in one transaction with
 * compare-and-set on the state and the lease, record the event.
 *
 * `refresh`: the ring is not due, only looked at again (the backstop's full pass); a decision to keep waiting
 * exactly as stored is then made without the lease and writes nothing. A pass over 500 rings queued behind
 * another took and released 500 leases and rewrote 500 unchanged waits, every 30 s.
 */
export async function runRingStep(deps: EngineDeps, ringId: string, refresh = false): Promise<StepResult> {
  const { store, clock, owner, config } = deps;
  if (refresh) {
    const preview = await decideNow(deps, ringId);
    if (!preview || isUnchangedWait(preview.ring, preview.decision)) return 'waiting';
  }
  const lease = await holdLease(store.db, 'rings', ringId, owner, clock, config.leaseMs);
  if (!lease) return 'skipped';
  try {
    return await decideAndApply(deps, ringId, lease);
  } finally {
    await lease.release();
  }
}

/** A bound on the moves one step chains (start → in progress → groups started is three), not a count of states. */
const MAX_CHAINED_MOVES = 4;

/** Decide about a ring whose lease this process holds, and apply the decision. */
async function decideAndApply(deps: EngineDeps, ringId: string, lease: HeldLease): Promise<StepResult> {
  const decided = await decideNow(deps, ringId);
  if (!decided) return 'skipped';
  const { ring, groups, view, options, decision } = decided;
  // The lease keeps other supervisors off this ring, not requests (from any replica) off it, nor other rings'
  // steps (on other replicas) off theirs: what the decision read may have changed since. Confirmed under the
  // gate, where no other writer can run until this transaction commits. transitionRing's compare-and-set does
  // not cover this: it compares the state (and the lease), and the interventions people make mid-release
  // (approve, force) change a ring without changing its state nor waiting for its lease. A Force clicked while
  // this step's SLO query runs would otherwise be undone by the breach the query found (test:
  // engine-rollback-slo.test.ts, "a Force clicked while the SLO query runs").
  const stillHolds = async (db: Kysely<Database>): Promise<boolean> => {
    const fresh = await findRing(db, ringId);
    if (!fresh || ringVersion(fresh) !== ringVersion(ring)) return false;
    if (decision.kind !== 'start') return true;
    // Starting depends on every other ring (one ring mid-release at a time): decide again on what is committed.
    const again = decideRing({ ...view, ring: fresh, rings: await ringsGating(db, fresh) }, options);
    return again.kind === 'start' && again.to === decision.to;
  };
  if (decision.kind === 'check-slo') return checkSlo(deps, ring, groups, decision.until, stillHolds);
  return applyRingDecision(deps, ring, decision, stillHolds, { chain: true, lease });
}

/**
 * Everything about a ring a decision rests on, as one comparable string: all of it but the lease (renewed in the
 * background) and the status message (only ever written with next_check_at, which is compared). Not the state
 * alone, nor next_check_at alone: a request in the same millisecond (any ManualClock test) writes the same value.
 */
function ringVersion(ring: Ring): string {
  const { lockedBy: _by, lockedAt: _at, lockedUntil: _until, statusMessage: _message, ...rest } = ring;
  return JSON.stringify(rest);
}

type StillHolds = (db: Kysely<Database>) => Promise<boolean>;

/**
 * The SLO gate of a soaking ring: a breach fails it; a healthy check at or after the soak's end completes it
 * (before, the next check is due after the check interval, and at the soak's end at the latest); a query that
 * gets no answer is retried with backoff and shown with Prometheus' text, and after --slo-max-failures in a row
 * fails the soak with the query and the error. The gate never opens on its own.
 */
async function checkSlo(deps: EngineDeps, ring: Ring, groups: readonly InstallationGroup[], soakUntil: number, stillHolds: StillHolds): Promise<StepResult> {
  const { config } = deps;
  let result: SloCheckResult;
  try {
    result = await deps.slo!.check(groups);
  } catch (cause) {
    result = { kind: 'error', error: cause instanceof Error ? cause.message : String(cause), query: '(not sent)', group: '(unknown)' };
  }
  const now = deps.clock.now();
  if (result.kind === 'breach') return applyRingDecision(deps, ring, { kind: 'fail', to: 'soaking-failed', reason: result.message }, stillHolds);
  if (result.kind === 'healthy') {
    if (now >= soakUntil) return applyRingDecision(deps, ring, { kind: 'complete', to: 'stable', message: 'soak finished with the SLO healthy; release complete' }, stillHolds);
    const recovered = ring.sloFailures > 0 ? `SLO check of ring ${ring.name} healthy again after ${ring.sloFailures} failed check${ring.sloFailures === 1 ? '' : 's'}` : undefined;
    return recordSloCheck(deps, ring, { sloFailures: 0, sloError: null, sloHealthyAt: now, nextCheckAt: Math.min(soakUntil, now + config.sloIntervalMs) }, recovered ? { message: recovered, data: {} } : undefined);
  }
  const failures = ring.sloFailures + 1;
  const error = `group ${result.group}: ${result.error}`;
  if (failures >= config.sloMaxFailures) {
    const reason = `SLO check failed ${failures} time${failures === 1 ? '' : 's'} in a row (--slo-max-failures ${config.sloMaxFailures}); last error: ${error}; query: ${result.query}`;
    return applyRingDecision(deps, ring, { kind: 'fail', to: 'soaking-failed', reason }, stillHolds);
  }
  const nextCheckAt = now + sloRetryDelayMs(failures);
  return recordSloCheck(
    deps,
    ring,
    { sloFailures: failures, sloError: error, sloHealthyAt: ring.sloHealthyAt, nextCheckAt },
    { message: `SLO check of ring ${ring.name} failed (${failures} in a row; the soak fails at ${config.sloMaxFailures}): ${error}; next check at ${new Date(nextCheckAt).toISOString()}`, data: { failures, error: result.error, group: result.group, query: result.query } },
  );
}

/**
 * Store an SLO check that keeps the ring soaking (and its event, when the gate's health changed or a check
 * failed), unless the ring changed while the query ran: then it stays due and is looked at again.
 */
async function recordSloCheck(
  deps: EngineDeps,
  ring: Ring,
  slo: Pick<Ring, 'sloFailures' | 'sloError' | 'sloHealthyAt' | 'nextCheckAt'>,
  event: { message: string; data: Record<string, unknown> } | undefined,
): Promise<StepResult> {
  const { store, clock, owner, sinks, config } = deps;
  const now = clock.now();
  const message = describeRingSoak({ ...slo, soakUntil: ring.soakUntil }, now, { maxFailures: config.sloMaxFailures });
  return store.db.transaction().execute(async (trx) => {
    const updated = await transitionRing(trx, {
      id: ring.id,
      from: ring.state,
      owner,
      nextCheckAt: ring.nextCheckAt,
      changes: { status_message: message, next_check_at: slo.nextCheckAt, slo_failures: slo.sloFailures, slo_error: slo.sloError, slo_healthy_at: slo.sloHealthyAt },
    });
    if (!updated) return 'skipped';
    if (event) await recordEvent(trx, { kind: 'ring.slo', actor: SUPERVISOR_ACTOR, ringId: ring.id, rolloutId: ring.rolloutId, message: event.message, data: { ringName: ring.name, ...event.data } }, { now, sinks });
    return 'waiting';
  });
}

/** The next decision follows a move of this kind at once (release started → in progress → first groups started). */
const leavesRingDue = (decision: RingDecision) => decision.kind === 'start' || decision.kind === 'transition';

/**
 * Apply a decision. `chain`: a move that leaves the ring due at once is followed by the next decision in the same
 * transaction, made on what it reads there, under the write gate: at the start of a forced release of 10 rings each
 * ring's three moves were three transactions, each deciding twice (before and under the gate), and the last ring's
 * first PUT waited for all of them (bench/, urgent). A chained decision that would query Prometheus (check-slo) is
 * left to the next step: the ring stays due.
 */
async function applyRingDecision(deps: EngineDeps, ring: Ring, decision: RingDecision, stillHolds: StillHolds, { chain = false, lease }: { chain?: boolean; lease?: HeldLease } = {}): Promise<StepResult> {
  const { store, clock, owner } = deps;
  const now = clock.now();
  if (decision.kind === 'wait') {
    // Every request that changes a ring, and every group that moves, sets next_check_at to say "look again":
    // if it changed since the read, this wait is stale and the ring stays due.
    if (await applyWait(store.db, ring, decision, owner, lease !== undefined)) lease?.givenBack();
    return 'waiting';
  }
  let gaveBack = false;
  const result = await store.db.transaction().execute(async (trx) => {
    await takeWriteGate(trx, now);
    if (!(await stillHolds(trx))) return 'skipped';
    const after: AfterMoves = { wakeQueue: false };
    const first = await applyMove(deps, trx, ring, decision, now, after);
    for (let moves = 1, last = decision; chain && first === 'progressed' && leavesRingDue(last) && moves < MAX_CHAINED_MOVES; moves++) {
      const next = await decideNow(deps, ring.id, trx);
      if (!next || next.decision.kind === 'check-slo') break;
      if (next.decision.kind === 'wait') {
        await applyWait(trx, next.ring, next.decision, owner, false);
        break;
      }
      last = next.decision;
      if ((await applyMove(deps, trx, next.ring, next.decision, now, after)) !== 'progressed') break;
    }
    // Once for the whole chain: its later moves never change which rings head the queues (the first took this ring
    // out of them), so waking after each one read the same heads again (three statements per move).
    if (after.wakeQueue) await wakeQueueHeads(trx, now);
    // The step's lease goes back with its writes: one commit fewer per step (seven steps per ring per release).
    if (lease && first !== 'skipped') {
      await releaseLease(trx, 'rings', ring.id, owner);
      gaveBack = true;
    }
    return first;
  });
  if (gaveBack) lease?.givenBack();
  return result;
}

/** Store a wait (and give the step's lease back with it when `giveBack`); false when the ring changed since it was read. */
async function applyWait(db: Kysely<Database>, ring: Ring, decision: Extract<RingDecision, { kind: 'wait' }>, owner: string, giveBack: boolean): Promise<boolean> {
  const changes = { status_message: decision.message, next_check_at: decision.until ?? NO_DEADLINE, ...(giveBack ? LEASE_GIVEN_BACK : {}) };
  return (await transitionRing(db, { id: ring.id, from: ring.state, owner, nextCheckAt: ring.nextCheckAt, changes })) !== undefined;
}

/** What the moves of one step leave to do once they are all applied. */
interface AfterMoves {
  /** A ring moved: the rings heading the release and rollback queues look again (store/rings.ts, wakeQueueHeads). */
  wakeQueue: boolean;
}

/** Apply a move (any decision but wait and check-slo) in `trx`, which holds the write gate. */
async function applyMove(deps: EngineDeps, trx: Kysely<Database>, ring: Ring, decision: RingDecision, now: number, after: AfterMoves): Promise<StepResult> {
  const { owner, sinks } = deps;
  const record = (to: RingState, message: string, extra: Record<string, unknown> = {}) =>
    recordEvent(trx, { kind: 'ring.state', actor: SUPERVISOR_ACTOR, ringId: ring.id, rolloutId: ring.rolloutId, oldState: ring.state, newState: to, message, data: { ringName: ring.name, ...extra } }, { now, sinks });
  const move = async (to: RingState, changes: RingRowUpdate, message: string, extra?: Record<string, unknown>): Promise<Ring | undefined> => {
    const transitioned = await transitionRing(trx, { id: ring.id, from: ring.state, to, owner, changes: { ...changes, status_message: changes.status_message ?? message, next_check_at: changes.next_check_at ?? now } });
    if (!transitioned) return undefined;
    if (to !== ring.state || extra?.always) await record(to, message, extra);
    // Another ring may have been waiting for this one.
    after.wakeQueue = true;
    return transitioned;
  };

  switch (decision.kind) {
    case 'transition': {
      const changes: RingRowUpdate = decision.to === 'release-in-progress' ? {} : { release_at: now };
      return (await move(decision.to, changes, decision.message)) ? 'progressed' : 'skipped';
    }
    case 'start': {
      const moved = await move(decision.to, { rolling_back: ring.state === 'release-rollback-requested' ? 1 : 0, failure_reason: null }, decision.message, { always: true });
      if (!moved) return 'skipped';
      await queueGroupsForRelease(trx, ring.id, ring.desiredReleaseId);
      return 'progressed';
    }
    case 'start-groups': {
      let started = 0;
      for (const groupId of decision.groupIds) {
        const group = await transitionGroup(trx, {
          id: groupId,
          from: 'release-pending',
          to: 'release-requested',
          changes: { phase: 'apply', attempts: 0, rollout_started_at: null, status_message: 'updating the provisioner group', next_check_at: now },
        });
        if (!group) continue;
        started++;
        await recordEvent(trx, { kind: 'group.state', actor: SUPERVISOR_ACTOR, ringId: ring.id, installationGroupId: group.id, rolloutId: ring.rolloutId, oldState: 'release-pending', newState: 'release-requested', message: `rollout of group ${group.name} started`, data: { ringName: ring.name, groupName: group.name, provisionerGroupId: group.provisionerGroupId, releaseId: ring.desiredReleaseId } }, { now, sinks });
      }
      await transitionRing(trx, { id: ring.id, from: ring.state, owner, changes: { status_message: decision.message, next_check_at: NO_DEADLINE } });
      return started > 0 ? 'progressed' : 'skipped';
    }
    case 'soak':
      // With an SLO gate the first check is due now (then every sloIntervalMs); otherwise at the end of the soak.
      return (await move('soaking-requested', { release_at: now, soak_until: decision.until, next_check_at: deps.slo ? now : decision.until, slo_failures: 0, slo_error: null, slo_healthy_at: null }, decision.message))
        ? 'progressed'
        : 'skipped';
    case 'complete': {
      const release = await getRelease(trx, ring.desiredReleaseId);
      const changed = ring.activeReleaseId !== ring.desiredReleaseId;
      const moved = await move(
        decision.to,
        {
          active_release_id: ring.desiredReleaseId,
          previous_release_id: changed ? ring.activeReleaseId : ring.previousReleaseId,
          release_at: now,
          soak_until: null,
          rolling_back: 0,
          force_requested_by: null,
          status_message: `on ${describeRelease(release)}`,
          next_check_at: NO_DEADLINE,
        },
        `${decision.message}: ring ${ring.name} is on ${describeRelease(release)}`,
      );
      if (moved) await maybeEndRollout(trx, ring.rolloutId, now);
      return moved ? 'progressed' : 'skipped';
    }
    case 'fail': {
      const moved = await move(decision.to, { failure_reason: decision.reason, soak_until: null, rolling_back: 0, force_requested_by: null, next_check_at: NO_DEADLINE }, `ring ${ring.name} failed: ${decision.reason}`, { reason: decision.reason });
      if (!moved) return 'skipped';
      // The queues' heads are woken after this (applyRingDecision), so after the rings the cascade failed too.
      await cascadeFailure(deps, trx, ring, decision.reason, now);
      return 'progressed';
    }
    case 'delete': {
      const moved = await move('deleted', { delete_at: now, next_check_at: NO_DEADLINE }, decision.message);
      if (!moved) return 'skipped';
      await deleteGroupsOfRing(trx, ring.id);
      return 'progressed';
    }
    default:
      return 'skipped';
  }
}

/**
 * A failed ring stops its release: rings of the same rollout that have not started are failed with the
 * reason (the original failed every pending ring in the system, creations and deletions included), and its
 * own groups that never started go back to stable untouched.
 */
async function cascadeFailure(deps: EngineDeps, db: Kysely<Database>, ring: Ring, reason: string, now: number): Promise<void> {
  await stopUnstartedGroups(db, ring.id, `not started: ring ${ring.name} failed`);
  if (!ring.rolloutId) return;
  const why = `not started: ring ${ring.name} failed (${reason})`;
  for (const held of await ringsOfRollout(db, ring.rolloutId, RING_STATES_RELEASE_PENDING, ring.id)) {
    const moved = await transitionRing(db, { id: held.id, from: held.state, to: 'release-failed', changes: { failure_reason: why, status_message: why, next_check_at: NO_DEADLINE } });
    if (moved) {
      await recordEvent(db, { kind: 'ring.state', actor: SUPERVISOR_ACTOR, ringId: held.id, rolloutId: held.rolloutId, oldState: held.state, newState: 'release-failed', message: `ring ${held.name} ${why}`, data: { ringName: held.name, reason: why } }, { now, sinks: deps.sinks });
    }
  }
  await maybeEndRollout(db, ring.rolloutId, now);
}

async function maybeEndRollout(db: Kysely<Database>, rolloutId: string | null, now: number): Promise<void> {
  if (rolloutId && !(await rolloutHasMovingRing(db, rolloutId))) await endRollout(db, rolloutId, now);
}
