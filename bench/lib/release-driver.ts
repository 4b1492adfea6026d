/**
 * Drive and measure releases on a running `elrond server`: request a release over the REST API, wait
 * (bounded) until every ring is stable on it, then read what happened, with timestamps, from the events
 * table and the fake provisioner's request log (one clock: the bench and the server share the machine).
 */
import type { FakeProvisioner } from '../../test/fakes/fake-provisioner.js';
import type { DbReader, EventRecord } from './db-reader.js';
import { BENCH_IMAGE, type SeededRing } from './seed.js';
import { callApi as callServerApi, sleep, waitFor } from '../../test/helpers/processes.js';

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

/** One REST call; network errors become status 0 (the server may be down in chaos runs). */
export async function callApi<T = any>(baseUrl: string, method: string, route: string, body?: unknown, timeoutMs = 10_000): Promise<ApiAnswer<T>> {
  return callServerApi<T>(baseUrl, method, route, body, timeoutMs).catch((error: unknown) => ({ status: 0, body: String(error) as T }));
}

/** POST /api/rings/release; returns the time just before the request was sent. */
export async function requestRelease(baseUrl: string, version: string, force: boolean): Promise<{ requestedAt: number }> {
  const requestedAt = Date.now();
  const answer = await callApi(baseUrl, 'POST', '/rings/release', { image: BENCH_IMAGE, version, force });
  if (answer.status !== 202) throw new Error(`release ${version} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return { requestedAt };
}

/** Wait until every ring is stable on `version` and the rollout has ended. */
export async function waitForRelease(reader: DbReader, version: string, timeoutMs: number, everyMs = 5): Promise<string> {
  return waitFor(
    `every ring stable on ${version}`,
    () => {
      if (!reader.allStableOn(version)) return undefined;
      const rollout = reader.latestRollout();
      return rollout && rollout.end_at !== null && reader.releaseVersion(rollout.release_id) === version ? rollout.id : undefined;
    },
    { timeoutMs, everyMs },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; unfinished: ${reader.describeUnfinished()}`);
  });
}

export interface ReleaseTimeline {
  /** From the request to the last ring stable. */
  totalMs: number;
  /** Per ring, in release order: release started (left release-pending) and became stable, ms after the request. */
  ringStartMs: number[];
  ringStableMs: number[];
  /** Ring N stable → ring N+1's first provisioner PUT (non-forced releases). */
  handoffToPutMs: number[];
  /** Ring N stable → ring N+1 leaves release-pending. */
  handoffMs: number[];
  /** Within a ring: group N stable → group N+1's PUT. */
  groupHandoffMs: number[];
  /** Per group: its last installation stable at the provisioner → the group moves on (rollout end noticed). */
  groupNoticeMs: number[];
  /** Every gap between consecutive ring/group state changes of the release. */
  transitionGapsMs: number[];
  events: EventRecord[];
}

/** Build the timeline of one finished rollout. */
export function releaseTimeline(reader: DbReader, rolloutId: string, requestedAt: number, rings: readonly SeededRing[], provisioner: FakeProvisioner, version: string): ReleaseTimeline {
  const events = reader.events(rolloutId);
  const ringEvents = events.filter((e) => e.kind === 'ring.state');
  const first = (ringId: string, state: string) => ringEvents.find((e) => e.ring_id === ringId && e.new_state === state);
  const last = (ringId: string, state: string) => [...ringEvents].reverse().find((e) => e.ring_id === ringId && e.new_state === state);
  const ringStartMs = rings.map((r) => (first(r.id, 'release-requested')?.at ?? Number.NaN) - requestedAt);
  const ringStableMs = rings.map((r) => (last(r.id, 'stable')?.at ?? Number.NaN) - requestedAt);
  const putAt = new Map<string, number>();
  for (const request of provisioner.requests) {
    if (request.route !== 'putGroup' || request.at < requestedAt) continue;
    const body = request.body as { Version?: string } | undefined;
    if (body?.Version !== version) continue;
    const pg = request.path.split('/').pop() ?? '';
    if (!putAt.has(pg)) putAt.set(pg, request.at);
  }
  const handoffToPutMs: number[] = [];
  const handoffMs: number[] = [];
  const groupHandoffMs: number[] = [];
  const groupStable = new Map(events.filter((e) => e.kind === 'group.state' && e.new_state === 'stable').map((e) => [e.installation_group_id, e.at]));
  for (let i = 0; i < rings.length; i++) {
    const ring = rings[i]!;
    if (i > 0) {
      const previousStable = ringStableMs[i - 1]! + requestedAt;
      handoffMs.push(ringStartMs[i]! + requestedAt - previousStable);
      const firstPut = putAt.get(ring.groups[0]?.provisionerGroupId ?? '');
      if (firstPut !== undefined) handoffToPutMs.push(firstPut - previousStable);
    }
    for (let g = 1; g < ring.groups.length; g++) {
      const stable = groupStable.get(ring.groups[g - 1]!.id);
      const put = putAt.get(ring.groups[g]!.provisionerGroupId);
      if (stable !== undefined && put !== undefined) groupHandoffMs.push(put - stable);
    }
  }
  // From a group's last installation turning stable at the provisioner to Elrond moving the group on.
  const groupNoticeMs: number[] = [];
  for (const group of rings.flatMap((r) => r.groups)) {
    const members = new Set(provisioner.installations(group.provisionerGroupId).map((i) => i.ID));
    const settled = provisioner.stateChanges.filter((c) => members.has(c.installationId) && c.newState === 'stable' && c.at >= requestedAt).map((c) => c.at);
    const moved = events.find((e) => e.kind === 'group.state' && e.installation_group_id === group.id && e.old_state === 'release-requested');
    if (settled.length > 0 && moved) groupNoticeMs.push(moved.at - Math.max(...settled));
  }
  const changes = events.filter((e) => (e.kind === 'ring.state' || e.kind === 'group.state') && e.at >= requestedAt);
  const transitionGapsMs = changes.slice(1).map((e, i) => e.at - changes[i]!.at);
  return { totalMs: Math.max(...ringStableMs), ringStartMs, ringStableMs, handoffToPutMs, handoffMs, groupHandoffMs, groupNoticeMs, transitionGapsMs, events };
}

/** Wait until the server answers /healthz (bounded). */
export async function waitHealthy(baseUrl: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    `${baseUrl}/healthz`,
    async () => {
      try {
        return (await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
      } catch {
        return false;
      }
    },
    { timeoutMs, everyMs: 50 },
  );
  await sleep(0);
}
