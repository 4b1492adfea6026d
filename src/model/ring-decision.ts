import type { InstallationGroup, Release, Ring } from './ring.js';
import type { RingState } from './ring-states.js';
import { IG_STATES_ACTIVE, IG_STATES_FAILED, igStateIn } from './installation-group-states.js';
import { describeGate, freezeGate, releaseGate, rollbackGate, type Gate } from './gates.js';
import type { ActiveFreeze } from './freeze.js';
import { formatDuration } from './durations.js';

export interface RingView {
  ring: Ring;
  /** The ring's groups, in rollout order (by name). */
  groups: readonly InstallationGroup[];
  /** The ring's desired release. */
  release: Release;
  /** Every live ring, for the gates. */
  rings: readonly Ring[];
  now: number;
  maxParallelGroups: number;
  /** Who may approve, for the "waiting for approval" message. */
  approvers?: readonly string[];
  /** A freeze holding this ring now (after any override of its rollout), or null. */
  freeze?: ActiveFreeze | null;
}

/** What the supervisor does next for a ring. Pure: the engine applies it. */
export type RingDecision =
  | { kind: 'wait'; until: number | null; message: string; gate?: Gate }
  /** Move the ring's groups onto the desired release and the ring to `to`. */
  | { kind: 'start'; to: RingState; message: string }
  | { kind: 'start-groups'; groupIds: string[]; message: string }
  | { kind: 'soak'; until: number; message: string }
  /** Soaking with an SLO query configured and a check due: run it; `until` is the soak's end. */
  | { kind: 'check-slo'; until: number; message: string }
  /** The release is done on this ring: active := desired. */
  | { kind: 'complete'; to: 'stable' | 'release-rollback-complete'; message: string }
  | { kind: 'fail'; to: 'release-failed' | 'release-rollback-failed' | 'soaking-failed'; reason: string }
  | { kind: 'transition'; to: RingState; message: string }
  | { kind: 'delete'; message: string };

export function describeSoak(until: number, now: number): string {
  return `soaking until ${new Date(until).toISOString()} (${formatDuration(until - now)} left)`;
}

/** The groups of this ring that belong to the desired release. */
function groupsOnRelease(view: RingView) {
  const mine = view.groups.filter((g) => g.releaseId === view.release.id);
  return {
    failed: mine.filter((g) => igStateIn(g.state, IG_STATES_FAILED)),
    active: mine.filter((g) => igStateIn(g.state, IG_STATES_ACTIVE)),
    pending: mine.filter((g) => g.state === 'release-pending'),
    done: mine.filter((g) => g.state === 'stable'),
    total: view.groups.length,
  };
}

function rollGroups(view: RingView, rollback: boolean): RingDecision {
  const { failed, active, pending, done, total } = groupsOnRelease(view);
  if (failed[0]) {
    const reason = `group ${failed[0].name} failed: ${failed[0].failureReason ?? failed[0].state}`;
    return { kind: 'fail', to: rollback ? 'release-rollback-failed' : 'release-failed', reason };
  }
  const free = Math.max(0, view.maxParallelGroups - active.length);
  if (pending.length > 0 && free > 0 && view.freeze && !rollback) {
    // During a freeze no new group starts; the ones already rolling finish, then the ring holds.
    const gate = freezeGate(view.freeze);
    return { kind: 'wait', until: view.freeze.until, message: `${describeGate(gate)}; ${done.length} of ${total} groups done`, gate };
  }
  if (pending.length > 0 && free > 0) {
    const next = pending.slice(0, free);
    return { kind: 'start-groups', groupIds: next.map((g) => g.id), message: `rolling group ${next.map((g) => g.name).join(', ')} (${done.length + active.length + 1} of ${total})` };
  }
  if (done.length === total) {
    if (rollback) return { kind: 'complete', to: 'release-rollback-complete', message: 'rollback complete' };
    if (view.release.force || view.ring.forceRequestedBy || view.ring.soakTime === 0) return { kind: 'complete', to: 'stable', message: 'release complete' };
    const until = view.now + view.ring.soakTime * 1000;
    return { kind: 'soak', until, message: describeSoak(until, view.now) };
  }
  const current = active.map((g) => `${g.name}: ${g.statusMessage || g.state}`).join('; ');
  return { kind: 'wait', until: null, message: `${done.length} of ${total} groups done${current ? `; ${current}` : ''}` };
}

/**
 * Whether {@link decideRing} looks at other rings (`view.rings`) for this ring: only a release or rollback waiting
 * to start has gates naming other rings. A ring mid-release needs no read of the others (bench/, urgent: with
 * nine rings rolling, reading them cost each step of the tenth ~0.3 ms).
 */
export function gatedByOtherRings(ring: Pick<Ring, 'state' | 'rollingBack'>): boolean {
  return ring.state === 'release-pending' || ring.state === 'release-paused' || (ring.state === 'release-rollback-requested' && !ring.rollingBack);
}

/**
 * The next step for a ring, from its stored state and `now`. Every wait says what it waits for.
 *
 * @example decideRing({ ring, groups, release, rings, now, maxParallelGroups: 1 }, { slo: false })
 */
export function decideRing(view: RingView, options: { slo: boolean }): RingDecision {
  const { ring } = view;
  switch (ring.state) {
    case 'creation-requested':
      return { kind: 'transition', to: 'stable', message: `ring ${ring.name} created` };
    case 'deletion-requested':
      return { kind: 'delete', message: `ring ${ring.name} deleted` };
    case 'release-pending':
    case 'release-paused': {
      const gate = releaseGate(ring, view.release, view.rings, view.approvers, view.freeze ?? null);
      if (gate) return { kind: 'wait', until: gate.kind === 'freeze' ? gate.until : null, message: describeGate(gate), gate };
      const busy = view.groups.find((g) => igStateIn(g.state, IG_STATES_ACTIVE) && g.releaseId !== view.release.id);
      if (busy) {
        const wait: Gate = { kind: 'group-still-rolling', group: busy.name };
        return { kind: 'wait', until: null, message: describeGate(wait), gate: wait };
      }
      return { kind: 'start', to: 'release-requested', message: `release started${view.release.force ? ' (forced: no ring gating, no soak)' : ''}` };
    }
    case 'release-requested':
      if (view.groups.length > 0) return { kind: 'transition', to: 'release-in-progress', message: `rolling ${view.groups.length} group(s)` };
      return rollGroups(view, false);
    case 'release-in-progress':
      return rollGroups(view, false);
    case 'soaking-requested': {
      const until = ring.soakUntil ?? view.now;
      if (ring.forceRequestedBy) return { kind: 'complete', to: 'stable', message: `soak ended early by ${ring.forceRequestedBy} (Force); release complete` };
      if (!options.slo) {
        if (view.now >= until) return { kind: 'complete', to: 'stable', message: 'soak finished; release complete' };
        return { kind: 'wait', until, message: describeSoak(until, view.now) };
      }
      // With an SLO gate only a healthy check at or after the soak's end completes the ring (the engine runs the
      // check and completes it then). Between checks the ring waits as stored: its next check is a retry
      // backoff or the check interval, never earlier.
      if (view.now < ring.nextCheckAt) return { kind: 'wait', until: ring.nextCheckAt, message: ring.statusMessage };
      return { kind: 'check-slo', until, message: describeSoak(until, view.now) };
    }
    case 'release-rollback-requested': {
      if (!ring.rollingBack) {
        const gate = rollbackGate(ring, view.rings);
        if (gate) return { kind: 'wait', until: null, message: describeGate(gate), gate };
        const busy = view.groups.find((g) => igStateIn(g.state, IG_STATES_ACTIVE) && g.releaseId !== view.release.id);
        if (busy) {
          const wait: Gate = { kind: 'group-still-rolling', group: busy.name };
          return { kind: 'wait', until: null, message: describeGate(wait), gate: wait };
        }
        return { kind: 'start', to: 'release-rollback-requested', message: 'rollback started (no soak)' };
      }
      return rollGroups(view, true);
    }
    default:
      return { kind: 'wait', until: null, message: ring.statusMessage };
  }
}
