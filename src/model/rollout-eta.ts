/** Used when a group has never rolled out before: the plan and the card say so. */
export const DEFAULT_ROLLOUT_ESTIMATE_MS = 5 * 60_000;

/** What one group of a ring costs: its rollout (estimated from its last ones) and its soak. */
export interface GroupEstimate {
  rolloutMs: number;
  soakSeconds: number;
}

/**
 * When each group of a ring starts and ends, from the ring's start (ms offsets), by the engine's rule
 * (model/ring-decision.ts, rollGroups): groups start in order, at most `maxParallelGroups` rolling or soaking at
 * once, and a group's slot frees when its soak ends. `busyUntil` are groups already rolling or soaking (when each
 * frees its slot): the groups to schedule wait for them as the engine's would.
 */
export function groupSchedule(groups: readonly GroupEstimate[], maxParallelGroups: number, busyUntil: readonly number[] = []): Array<{ start: number; end: number }> {
  const slots = Math.max(1, maxParallelGroups);
  const active = [...busyUntil];
  let at = 0;
  return groups.map((group) => {
    active.sort((a, b) => a - b);
    // More active than slots (the setting was lowered mid-release): wait until enough of them end.
    while (active.length >= slots) at = Math.max(at, active.shift()!);
    const end = at + group.rolloutMs + group.soakSeconds * 1000;
    active.push(end);
    return { start: at, end };
  });
}

/**
 * How long a ring's release takes from its start: its groups as the engine schedules them ({@link groupSchedule},
 * --max-parallel-groups), then the ring's soak. The plan's ETAs ({@link planRollout}) and the card's per-ring ETAs
 * are both this.
 */
export function ringReleaseMs(groups: readonly GroupEstimate[], ringSoakSeconds: number, maxParallelGroups: number): number {
  return Math.max(0, ...groupSchedule(groups, maxParallelGroups).map((g) => g.end)) + ringSoakSeconds * 1000;
}

/** A ring to plan: its groups in rollout order and its soak (0 when the release is forced). */
export interface RingToPlan {
  id: string;
  groups: readonly GroupEstimate[];
  soakSeconds: number;
}

export interface PlannedRingTimes {
  id: string;
  /** When the ring could start but for anything holding it (`holdUntil`). */
  ready: number;
  start: number;
  end: number;
}

/**
 * When each ring of a release starts and ends. Rings go one at a time in release order (a ring starts when the one
 * before it is done, soak included), except a forced release, where every ring starts at once; `holdUntil` moves a
 * ring's start past anything that holds it then (a freeze). Pure: the same rules as the engine.
 *
 * @example planRollout([{ id: 'r1', groups, soakSeconds: 0 }], { now, maxParallelGroups: 3, force: false })
 */
export function planRollout(
  rings: readonly RingToPlan[],
  options: { now: number; maxParallelGroups: number; force: boolean; holdUntil?: (ringId: string, start: number) => number },
): PlannedRingTimes[] {
  let next = options.now;
  return rings.map((ring) => {
    const ready = options.force ? options.now : next;
    const start = options.holdUntil ? options.holdUntil(ring.id, ready) : ready;
    const end = start + ringReleaseMs(ring.groups, ring.soakSeconds, options.maxParallelGroups);
    if (!options.force) next = end;
    return { id: ring.id, ready, start, end };
  });
}

/** Where one group of a ring that is releasing stands. */
export type GroupStanding =
  | { kind: 'done' }
  | { kind: 'rolling'; startedAt: number }
  | { kind: 'soaking'; until: number }
  | { kind: 'waiting' };

/**
 * How long a ring that is releasing still needs, by the engine's schedule ({@link groupSchedule}, as
 * {@link ringReleaseMs}): a rolling group holds its slot for its estimate minus what it has taken (never below
 * zero) plus its soak, a soaking one for what is left of its soak, waiting ones take the slots as they free; a ring
 * already soaking needs only what is left of its own soak.
 */
export function ringRemainingMs(
  groups: ReadonlyArray<GroupEstimate & { standing: GroupStanding }>,
  ring: { soakSeconds: number; soakUntil: number | null },
  now: number,
  maxParallelGroups: number,
): number {
  if (ring.soakUntil !== null) return Math.max(0, ring.soakUntil - now);
  const busy: number[] = [];
  const waiting: GroupEstimate[] = [];
  for (const group of groups) {
    const soak = group.soakSeconds * 1000;
    switch (group.standing.kind) {
      case 'done':
        break;
      case 'rolling':
        busy.push(Math.max(0, group.rolloutMs - (now - group.standing.startedAt)) + soak);
        break;
      case 'soaking':
        busy.push(Math.max(0, group.standing.until - now));
        break;
      case 'waiting':
        waiting.push(group);
        break;
    }
  }
  return Math.max(0, ...busy, ...groupSchedule(waiting, maxParallelGroups, busy).map((g) => g.end)) + ring.soakSeconds * 1000;
}
