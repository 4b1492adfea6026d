/**
 * The original Go Elrond's supervisor loop, simulated in virtual time (elrond-behaviour.md §2), so a
 * benchmark can put the same release side by side with what the original would have needed:
 *
 * - one Scheduler: a run, then `--poll` (30 s) measured from the END of that run, then the next run;
 * - each run = RingSupervisor.Do then InstallationGroupSupervisor.Do, each over every object with pending
 *   work (listed at the start of its Do), one at a time, ONE state transition per object per run;
 * - a ring soaking and not done sleeps 30 s holding the loop (`soakRing`);
 * - a group's rollout blocks the loop: status polled right after the PUT, then every 60 s until done
 *   (`waitForGroupRelease`);
 * - exactly one installation group rolls or soaks at a time in the whole system (force included);
 * - without force a ring waits while any ring is mid-release or a ring with a lower priority number has
 *   pending work; force skips those two gates and both soaks.
 * API handlers poke the scheduler, so the first run starts at t = 0. Time spent in code and I/O is taken
 * as zero, which flatters the original.
 */

export interface SimGroup {
  soakSeconds: number;
  /** How long the provisioner takes to roll the group after the PUT. */
  rolloutSeconds: number;
}

export interface SimRing {
  priority: number;
  soakSeconds: number;
  groups: SimGroup[];
}

export interface SimOptions {
  force: boolean;
  pollSeconds?: number;
  statusPollSeconds?: number;
  soakSleepSeconds?: number;
  /** Bound on runs simulated. */
  maxRuns?: number;
}

export interface SimResult {
  /** From the release request to the last ring stable, seconds. */
  totalSeconds: number;
  runs: number;
  /** Per ring (input order): when it left release-pending and when it became stable, seconds. */
  ringStart: number[];
  ringStable: number[];
  /** Per ring with a soak: how late the soak ended after its deadline, seconds. */
  soakLateness: number[];
}

type RingState = 'release-pending' | 'release-requested' | 'release-in-progress' | 'soaking-requested' | 'stable';
type GroupState = 'stable' | 'release-pending' | 'release-requested' | 'release-soaking-requested';

const RING_PENDING_WORK: readonly RingState[] = ['release-pending', 'release-requested', 'release-in-progress', 'soaking-requested'];
const RING_IN_PROGRESS: readonly RingState[] = ['release-requested', 'release-in-progress', 'soaking-requested'];
const GROUP_PENDING_WORK: readonly GroupState[] = ['release-pending', 'release-requested', 'release-soaking-requested'];
const GROUP_IN_PROGRESS: readonly GroupState[] = ['release-requested', 'release-soaking-requested'];

/** Simulate one release of every ring (all rings start in release-pending at t = 0). */
export function simulateOriginal(input: readonly SimRing[], options: SimOptions): SimResult {
  const poll = options.pollSeconds ?? 30;
  const statusPoll = options.statusPollSeconds ?? 60;
  const soakSleep = options.soakSleepSeconds ?? 30;
  const maxRuns = options.maxRuns ?? 1_000_000;
  const rings = input.map((r, index) => ({ index, priority: r.priority, soak: r.soakSeconds, state: 'release-pending' as RingState, releaseAt: 0 }));
  const groups = input.flatMap((r, ringIndex) => r.groups.map((g) => ({ ring: ringIndex, soak: g.soakSeconds, rollout: g.rolloutSeconds, state: 'stable' as GroupState, releaseAt: 0 })));
  const ringStart = rings.map(() => Number.NaN);
  const ringStable = rings.map(() => Number.NaN);
  const soakLateness: number[] = [];
  const elapsed = (now: number, since: number) => Math.floor(now - since); // Go: integer seconds
  let t = 0;
  for (let run = 1; run <= maxRuns; run++) {
    // RingSupervisor.Do: rings with pending work, by CreateAt.
    for (const ring of rings.filter((r) => RING_PENDING_WORK.includes(r.state))) {
      const mine = groups.filter((g) => g.ring === ring.index);
      switch (ring.state) {
        case 'release-pending': {
          if (!options.force) {
            if (rings.some((o) => o !== ring && RING_IN_PROGRESS.includes(o.state))) break;
            if (rings.some((o) => o !== ring && RING_PENDING_WORK.includes(o.state) && o.priority < ring.priority)) break;
          }
          for (const g of mine) g.state = 'release-pending';
          ring.state = 'release-requested';
          ringStart[ring.index] = t;
          break;
        }
        case 'release-requested':
          ring.state = mine.some((g) => GROUP_PENDING_WORK.includes(g.state)) ? 'release-in-progress' : 'soaking-requested';
          break;
        case 'release-in-progress':
          if (mine.some((g) => GROUP_PENDING_WORK.includes(g.state))) break;
          if (options.force) {
            ring.state = 'stable';
            ringStable[ring.index] = t;
          } else {
            ring.state = 'soaking-requested';
            ring.releaseAt = t;
          }
          break;
        case 'soaking-requested':
          if (elapsed(t, ring.releaseAt) < ring.soak) {
            t += soakSleep; // time.Sleep(30 * time.Second) holding the lock and the loop
            break;
          }
          ring.state = 'stable';
          ringStable[ring.index] = t;
          soakLateness.push(t - (ring.releaseAt + ring.soak));
          break;
        default:
          break;
      }
    }
    // InstallationGroupSupervisor.Do: groups with pending work, in database order.
    for (const group of groups.filter((g) => GROUP_PENDING_WORK.includes(g.state))) {
      const ring = rings[group.ring]!;
      switch (group.state) {
        case 'release-pending':
          if (ring.state !== 'release-requested' && ring.state !== 'release-in-progress') break;
          if (groups.some((o) => o !== group && GROUP_IN_PROGRESS.includes(o.state))) break;
          group.state = 'release-requested';
          break;
        case 'release-requested': {
          // GET, PUT, then waitForGroupRelease: status right away, then every 60 s until done.
          const putAt = t;
          while (t - putAt < group.rollout) t += statusPoll;
          group.releaseAt = t;
          group.state = options.force ? 'stable' : 'release-soaking-requested';
          break;
        }
        case 'release-soaking-requested':
          if (elapsed(t, group.releaseAt) >= group.soak) group.state = 'stable';
          break;
        default:
          break;
      }
    }
    if (rings.every((r) => r.state === 'stable')) {
      return { totalSeconds: Math.max(...ringStable), runs: run, ringStart, ringStable, soakLateness };
    }
    t += poll;
  }
  throw new Error(`simulation did not finish within ${maxRuns} runs`);
}
