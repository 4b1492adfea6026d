import type { ElrondApi, ReleaseJson, RingJson } from './elrond-api.js';
import type { CommandOutput } from './spec.js';
import { inertTerminalLine } from '../model/inert-text.js';

/** The original `ring list --table` headers, exactly. */
export const RING_TABLE_HEADERS = [
  'ID',
  'STATE',
  'NAME',
  'PRIORITY',
  'INSTALLATION GROUPS',
  'SOAK TIME',
  'REMAINING SOAK TIME',
  'ACTIVERELEASE',
  'DESIREDRELEASE',
  'FORCE',
  'RELEASE AT',
];

function groupLines(ring: RingJson): string {
  return (ring.installationGroups ?? [])
    // One line per group, whatever a name holds: its own newlines are shown as \n.
    .map((g) => inertTerminalLine(`Name: ${g.name}, State: ${g.state}, Soaking: ${g.soakTime}, Provisioner Group: ${g.provisionerGroupID}, ReleaseAt: ${g.releaseAt}`))
    .join('\n');
}

const imageVersion = (release: ReleaseJson | undefined) => (release && (release.Image || release.Version) ? `${release.Image}:${release.Version}` : '');

/**
 * `ring list --table`: one row per ring, releases shown `image:version` (fetched with getRelease, each
 * release once), installation groups one per line in their cell.
 */
export async function formatRingTable(api: ElrondApi, rings: RingJson[]): Promise<CommandOutput> {
  const ids = [...new Set(rings.flatMap((ring) => [ring.ActiveReleaseID, ring.DesiredReleaseID]).filter(Boolean))];
  const releases = new Map<string, ReleaseJson>();
  for (const id of ids) releases.set(id, await api.getRelease(id));
  const rows = rings.map((ring) => {
    const desired = releases.get(ring.DesiredReleaseID);
    return [
      ring.ID,
      ring.State,
      ring.Name,
      String(ring.Priority),
      groupLines(ring),
      String(ring.SoakTime),
      String(ring.soakRemainingSeconds ?? 0),
      imageVersion(releases.get(ring.ActiveReleaseID)),
      imageVersion(desired),
      String(desired?.Force ?? false),
      String(ring.ReleaseAt),
    ];
  });
  return { kind: 'table', headers: RING_TABLE_HEADERS, rows, json: rings };
}
