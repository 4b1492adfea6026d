import type { Release, Ring } from './ring.js';
import type { ActiveFreeze } from './freeze.js';
import { RING_STATES_RELEASE_IN_PROGRESS, RING_STATES_RELEASE_PENDING, ringStateIn } from './ring-states.js';

/** Anything that holds a ring back, in words a person can act on. */
export type Gate =
  | { kind: 'ring-in-progress'; ring: Pick<Ring, 'id' | 'name' | 'state'> }
  | { kind: 'earlier-ring-pending'; ring: Pick<Ring, 'id' | 'name' | 'state' | 'priority'> }
  | { kind: 'later-ring-rolling-back'; ring: Pick<Ring, 'id' | 'name' | 'priority'> }
  | { kind: 'paused' }
  | { kind: 'approval'; approvers: readonly string[] }
  | { kind: 'freeze'; until: number; reason: string; by: string }
  | { kind: 'group-still-rolling'; group: string };

export function describeGate(gate: Gate): string {
  switch (gate.kind) {
    case 'ring-in-progress':
      return `waiting for ring ${gate.ring.name} to finish its release (${gate.ring.state})`;
    case 'earlier-ring-pending':
      return `waiting for ring ${gate.ring.name} (priority ${gate.ring.priority}) to release first (${gate.ring.state})`;
    case 'later-ring-rolling-back':
      return `waiting for ring ${gate.ring.name} (priority ${gate.ring.priority}) to roll back first`;
    case 'paused':
      return 'paused: resume with "elrond ring release --resume"';
    case 'approval':
      return `waiting for approval${gate.approvers.length ? ` from ${gate.approvers.map((a) => `@${a}`).join(', ')}` : ''} (Approve on the release card)`;
    case 'freeze':
      return `frozen until ${new Date(gate.until).toISOString()}, reason: ${gate.reason}, by ${gate.by}`;
    case 'group-still-rolling':
      return `waiting for group ${gate.group} to finish its previous rollout`;
  }
}

const before = (a: Ring, b: Ring) => a.priority < b.priority || (a.priority === b.priority && a.createSeq < b.createSeq);

/**
 * Everything holding a ring in release-pending back, first the one to act on; empty when it may start.
 * A forced release skips the ordering gates (not approval); an admin's Force on the ring skips them all.
 * Otherwise a ring starts only when no other ring is mid-release and no ring ahead of it in release order
 * (lower priority number, ties by creation) still has a release waiting, paused included.
 */
export function releaseGates(
  ring: Ring,
  release: Pick<Release, 'force'>,
  rings: readonly Ring[],
  approvers: readonly string[] = [],
  freeze: ActiveFreeze | null = null,
): Gate[] {
  if (ring.state === 'release-paused') return [{ kind: 'paused' }];
  // A freeze holds even a forced ring: only an admin's --override-freeze (already applied to `freeze`) lifts it.
  const gates: Gate[] = freeze ? [freezeGate(freeze)] : [];
  if (ring.forceRequestedBy) return gates;
  if (ring.approvalRequired && !ring.approvedBy) gates.push({ kind: 'approval', approvers });
  if (release.force) return gates;
  const busy = rings.find((other) => other.id !== ring.id && ringStateIn(other.state, RING_STATES_RELEASE_IN_PROGRESS));
  if (busy) gates.push({ kind: 'ring-in-progress', ring: busy });
  const earlier = rings.find((other) => other.id !== ring.id && before(other, ring) && ringStateIn(other.state, RING_STATES_RELEASE_PENDING));
  if (earlier) gates.push({ kind: 'earlier-ring-pending', ring: earlier });
  return gates;
}

/** The first gate holding the ring back, or null. */
export function releaseGate(ring: Ring, release: Pick<Release, 'force'>, rings: readonly Ring[], approvers: readonly string[] = [], freeze: ActiveFreeze | null = null): Gate | null {
  return releaseGates(ring, release, rings, approvers, freeze)[0] ?? null;
}

export function freezeGate(active: ActiveFreeze): Gate {
  return { kind: 'freeze', until: active.until, reason: active.freeze.reason, by: active.freeze.author };
}

/** Rollbacks go in reverse release order: a ring waits while a ring after it is still rolling back. */
export function rollbackGate(ring: Ring, rings: readonly Ring[]): Gate | null {
  for (const other of rings) {
    if (other.id !== ring.id && before(ring, other) && other.state === 'release-rollback-requested') {
      return { kind: 'later-ring-rolling-back', ring: other };
    }
  }
  return null;
}
