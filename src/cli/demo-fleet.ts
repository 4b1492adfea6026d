import type { Operations } from '../service/operations.js';
import type { Caller } from '../service/access-policy.js';
import type { RingWithGroups } from '../model/ring.js';
import { RING_STATES_RELEASE_IN_PROGRESS, RING_STATES_RELEASE_PENDING, ringStateIn } from '../model/ring-states.js';

export const DEMO_IMAGE = 'mattermost/mattermost-enterprise-edition';
export const DEMO_FIRST_VERSION = '10.5.0';

export interface DemoRing {
  name: string;
  priority: number;
  /** Seconds. */
  soakTime: number;
  approvalRequired: boolean;
  groups: Array<{ name: string; provisionerGroupId: string; soakTime: number }>;
}

/** 3 rings × 2 groups, short soaks; production waits for an approval. Group ids are fixed so a rerun finds them. */
export const DEMO_FLEET: readonly DemoRing[] = [
  {
    name: 'canary',
    priority: 1,
    soakTime: 15,
    approvalRequired: false,
    groups: [
      { name: 'canary-internal', provisionerGroupId: 'demo0canary0internal000001', soakTime: 5 },
      { name: 'canary-community', provisionerGroupId: 'demo0canary0community00002', soakTime: 5 },
    ],
  },
  {
    name: 'early-adopters',
    priority: 2,
    soakTime: 20,
    approvalRequired: false,
    groups: [
      { name: 'early-eu', provisionerGroupId: 'demo0early0eu0000000000003', soakTime: 5 },
      { name: 'early-us', provisionerGroupId: 'demo0early0us0000000000004', soakTime: 5 },
    ],
  },
  {
    name: 'production',
    priority: 3,
    soakTime: 30,
    approvalRequired: true,
    groups: [
      { name: 'production-eu', provisionerGroupId: 'demo0production0eu00000005', soakTime: 5 },
      { name: 'production-us', provisionerGroupId: 'demo0production0us00000006', soakTime: 5 },
    ],
  },
];

export interface SeededFleet {
  rings: RingWithGroups[];
  /** Rings and groups created now (0 when the fleet was already there). */
  created: { rings: number; groups: number };
}

/**
 * Make sure the demo fleet exists: rings found by name are kept (with any group they already have), missing
 * rings and groups are created. Running it twice creates nothing the second time.
 */
export async function seedDemoFleet(operations: Operations, caller: Caller): Promise<SeededFleet> {
  const created = { rings: 0, groups: 0 };
  const existing = await operations.invoke('listRings', { page: 0, perPage: -1, includeDeleted: false }, caller);
  const rings: RingWithGroups[] = [];
  for (const spec of DEMO_FLEET) {
    let ring = existing.find((r) => r.name === spec.name);
    if (!ring) {
      const [first] = spec.groups;
      ring = await operations.invoke(
        'createRing',
        {
          name: spec.name,
          priority: spec.priority,
          soakTime: spec.soakTime,
          approvalRequired: spec.approvalRequired,
          image: DEMO_IMAGE,
          version: DEMO_FIRST_VERSION,
          ...(first ? { installationGroup: { name: first.name, soakTime: first.soakTime, provisionerGroupId: first.provisionerGroupId } } : {}),
        },
        caller,
      );
      created.rings++;
      if (first) created.groups++;
    }
    const has = ring.installationGroups;
    for (const group of spec.groups) {
      if (has.some((g) => g.name === group.name || g.provisionerGroupId === group.provisionerGroupId)) continue;
      await operations.invoke('registerGroup', { ringId: ring.id, name: group.name, soakTime: group.soakTime, provisionerGroupId: group.provisionerGroupId }, caller);
      created.groups++;
    }
    rings.push(await operations.invoke('getRing', { ringId: ring.id }, caller));
  }
  return { rings, created };
}

/** True while some ring still moves for a release or a rollback (a rerun carries on with it). */
export function releaseUnderWay(rings: readonly RingWithGroups[]): boolean {
  return rings.some((ring) => ringStateIn(ring.state, RING_STATES_RELEASE_PENDING) || ringStateIn(ring.state, RING_STATES_RELEASE_IN_PROGRESS));
}

/** The version after `version`: 10.5.0 → 10.5.1 (anything else → the first version). */
export function nextDemoVersion(version: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return match ? `${match[1]}.${match[2]}.${Number(match[3]) + 1}` : DEMO_FIRST_VERSION;
}
