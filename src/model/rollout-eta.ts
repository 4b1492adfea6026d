/** Used when a group has never rolled out before: the plan and the card say so. */
export const DEFAULT_ROLLOUT_ESTIMATE_MS = 5 * 60_000;

/** What one group of a ring costs: its rollout (estimated from its last ones) and its soak. */
export interface GroupEstimate {
  rolloutMs: number;
  soakSeconds: number;
}

/**
 * How long a ring's release takes from its start: each group's rollout and soak in turn, then the ring's soak
 * (groups roll one after another, as with the default --max-parallel-groups 1). The plan's ETAs and the card's
 * per-ring ETAs are both this sum.
 */
export function ringReleaseMs(groups: readonly GroupEstimate[], ringSoakSeconds: number): number {
  return groups.reduce((total, g) => total + g.rolloutMs + g.soakSeconds * 1000, 0) + ringSoakSeconds * 1000;
}

/** Where one group of a ring that is releasing stands. */
export type GroupStanding =
  | { kind: 'done' }
  | { kind: 'rolling'; startedAt: number }
  | { kind: 'soaking'; until: number }
  | { kind: 'waiting' };

/**
 * How long a ring that is releasing still needs, by the same sum as {@link ringReleaseMs}: a rolling group its
 * estimate minus what it has taken (never below zero), a soaking one what is left of its soak, a waiting one all
 * of it; a ring already soaking only what is left of its own soak.
 */
export function ringRemainingMs(groups: ReadonlyArray<GroupEstimate & { standing: GroupStanding }>, ring: { soakSeconds: number; soakUntil: number | null }, now: number): number {
  if (ring.soakUntil !== null) return Math.max(0, ring.soakUntil - now);
  let total = ring.soakSeconds * 1000;
  for (const group of groups) {
    const soak = group.soakSeconds * 1000;
    switch (group.standing.kind) {
      case 'done':
        break;
      case 'rolling':
        total += Math.max(0, group.rolloutMs - (now - group.standing.startedAt)) + soak;
        break;
      case 'soaking':
        total += Math.max(0, group.standing.until - now);
        break;
      case 'waiting':
        total += group.rolloutMs + soak;
        break;
    }
  }
  return total;
}
