/**
 * Seed an Elrond SQLite database directly (migrated schema, rows as the service layer writes them), so a
 * benchmark can start a server on 500 or 5,000 rings without 30,000 API calls first.
 */
import { connect } from '../../src/store/connect.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { getOrCreateRelease } from '../../src/store/releases.js';
import { newId } from '../../src/model/ids.js';
import type { FakeProvisioner } from '../../test/fakes/fake-provisioner.js';
import type { NewInstallationGroupRow, NewRingRow, RingInstallationGroupRow } from '../../src/store/schema.js';

export const BENCH_IMAGE = 'mattermost/mattermost-enterprise-edition';

export interface SeededGroup {
  id: string;
  name: string;
  provisionerGroupId: string;
}

export interface SeededRing {
  id: string;
  name: string;
  priority: number;
  groups: SeededGroup[];
}

export interface SeedSpec {
  rings: number;
  groupsPerRing: number;
  /** Ring soak, seconds. */
  ringSoakSeconds: number;
  /** Each group's soak, seconds. */
  groupSoakSeconds?: number;
  /** The version every ring and group is on (default v1). */
  version?: string;
  /** Provisioner group id of ring r's group g; default a made-up id (for rings that are never released). */
  provisionerGroupId?: (ring: number, group: number) => string;
  prefix?: string;
}

/** Create and migrate `file` (an absolute path) and fill it; returns the rings in priority order. */
export async function seedDatabase(file: string, spec: SeedSpec): Promise<SeededRing[]> {
  const store = connect(`sqlite://${file}`);
  try {
    await migrateToLatest(store.db);
    const now = Date.now();
    const prefix = spec.prefix ?? 'ring';
    const rings: SeededRing[] = [];
    await store.db.transaction().execute(async (trx) => {
      const release = await getOrCreateRelease(trx, { image: BENCH_IMAGE, version: spec.version ?? 'v1', envVariables: null, force: false }, now);
      const ringRows: NewRingRow[] = [];
      const groupRows: NewInstallationGroupRow[] = [];
      const linkRows: RingInstallationGroupRow[] = [];
      for (let r = 0; r < spec.rings; r++) {
        const ring: SeededRing = { id: newId(), name: `${prefix}-${String(r + 1).padStart(5, '0')}`, priority: r + 1, groups: [] };
        ringRows.push({
          id: ring.id,
          name: ring.name,
          state: 'stable',
          priority: ring.priority,
          create_seq: r + 1,
          soak_time: spec.ringSoakSeconds,
          active_release_id: release.id,
          desired_release_id: release.id,
          previous_release_id: null,
          rollout_id: null,
          create_at: now,
          soak_until: null,
          failure_reason: null,
          locked_by: null,
          approved_by: null,
          approved_at: null,
          force_requested_by: null,
          status_message: `on ${BENCH_IMAGE}:${spec.version ?? 'v1'}`,
          next_check_at: 8_640_000_000_000_000,
        });
        for (let g = 0; g < spec.groupsPerRing; g++) {
          const group: SeededGroup = { id: newId(), name: `${ring.name}-ig-${g + 1}`, provisionerGroupId: spec.provisionerGroupId?.(r, g) ?? `pg${ring.id.slice(0, 20)}${g}` };
          ring.groups.push(group);
          groupRows.push({
            id: group.id,
            name: group.name,
            state: 'stable',
            soak_time: spec.groupSoakSeconds ?? 0,
            provisioner_group_id: group.provisionerGroupId,
            create_at: now,
            release_id: null,
            phase: null,
            rollout_started_at: null,
            soak_until: null,
            failure_reason: null,
            last_status: null,
            locked_by: null,
            next_check_at: 8_640_000_000_000_000,
          });
          linkRows.push({ id: newId(), ring_id: ring.id, installation_group_id: group.id });
        }
        rings.push(ring);
      }
      // SQLite allows 32,766 bound variables per statement: insert in batches.
      for (let i = 0; i < ringRows.length; i += 500) await trx.insertInto('rings').values(ringRows.slice(i, i + 500)).execute();
      for (let i = 0; i < groupRows.length; i += 500) await trx.insertInto('installation_groups').values(groupRows.slice(i, i + 500)).execute();
      for (let i = 0; i < linkRows.length; i += 2000) await trx.insertInto('ring_installation_groups').values(linkRows.slice(i, i + 2000)).execute();
    });
    return rings;
  } finally {
    await store.close();
  }
}

/**
 * Provisioner groups on the fake for `rings × groups` (on `version`, MaxRolling 2, `installations` each);
 * returns their ids by [ring][group].
 */
export function createProvisionerGroups(provisioner: FakeProvisioner, rings: number, groups: number, options: { version?: string; installations?: number; prefix?: string } = {}): string[][] {
  const ids: string[][] = [];
  for (let r = 0; r < rings; r++) {
    const row: string[] = [];
    for (let g = 0; g < groups; g++) {
      const group = provisioner.createGroup({ Name: `${options.prefix ?? 'pg'}-${r + 1}-${g + 1}`, Image: BENCH_IMAGE, Version: options.version ?? 'v1', MaxRolling: 2 });
      for (let i = 0; i < (options.installations ?? 2); i++) {
        provisioner.addInstallation({ groupId: group.ID, state: 'stable', groupSequence: group.Sequence, name: `inst-${r + 1}-${g + 1}-${i + 1}` });
      }
      row.push(group.ID);
    }
    ids.push(row);
  }
  return ids;
}
