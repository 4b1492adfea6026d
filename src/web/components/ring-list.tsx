import type { PageGroup, PageRing } from '../../service/status-page-reads.js';
import { clockTime, formatDuration } from '../format-time.js';
import { stateTone } from '../state-tone.js';

function installations(groups: readonly PageGroup[]): { updated: number; total: number } | null {
  const counted = groups.filter((g) => g.installationsTotal !== null);
  if (counted.length === 0) return null;
  return { updated: counted.reduce((n, g) => n + (g.installationsUpdated ?? 0), 0), total: counted.reduce((n, g) => n + (g.installationsTotal ?? 0), 0) };
}

function GroupLine({ group, now }: { group: PageGroup; now: number }) {
  const counts = group.installationsTotal !== null ? `${group.installationsUpdated ?? 0}/${group.installationsTotal} installations` : '';
  return (
    <li class={`group tone-${stateTone(group.state)}`} data-group={group.id}>
      <span class="group-name">{group.name}</span> <span class="state">{group.state}</span>
      {counts && <span class="counts"> · {counts}</span>}
      {group.soakUntil !== null && <span class="soak"> · soak {formatDuration(group.soakUntil - now)} left</span>}
      {group.failureReason && <span class="reason"> · {group.failureReason}</span>}
    </li>
  );
}

function RingItem({ ring, now }: { ring: PageRing; now: number }) {
  const counts = installations(ring.groups);
  const versions = ring.activeVersion === ring.desiredVersion ? `on ${ring.activeVersion}` : `${ring.activeVersion} → ${ring.desiredVersion}`;
  const waitingForApproval = ring.approvalRequired && (ring.state === 'release-pending' || ring.state === 'release-paused');
  return (
    <li class={`ring tone-${stateTone(ring.state)}`} data-ring={ring.id} data-state={ring.state}>
      <div class="ring-head">
        <span class="ring-name">{ring.name}</span>
        <span class="priority">priority {ring.priority}</span>
        <span class="state badge">{ring.state}</span>
      </div>
      <div class="versions">{versions}</div>
      {ring.groups.length > 0 && (
        <div class="progress">
          {counts ? <progress max={counts.total || 1} value={counts.updated} aria-label={`installations of ${ring.name} updated`} /> : null}
          <span>
            {counts ? `${counts.updated}/${counts.total} installations · ` : ''}
            {ring.groupsDone}/{ring.groups.length} groups done
          </span>
        </div>
      )}
      {ring.soakUntil !== null && (
        <div class="soak">
          soak: <strong>{formatDuration(ring.soakUntil - now)} left</strong> (until {clockTime(ring.soakUntil)})
        </div>
      )}
      {waitingForApproval && <div class="approval">{ring.approvedBy ? `approved by ${ring.approvedBy}` : 'needs approval'}</div>}
      {ring.forceRequestedBy && <div class="forced">forced by {ring.forceRequestedBy}</div>}
      {ring.holds.length > 0 ? (
        <ul class="holds" aria-label={`what holds ${ring.name}`}>
          {ring.holds.map((hold) => (
            <li>{hold}</li>
          ))}
        </ul>
      ) : (
        ring.doing && stateTone(ring.state) !== 'done' && <p class="doing">{ring.doing}</p>
      )}
      {ring.startedBy && (
        <p class="started">
          started by <strong>{ring.startedBy.name}</strong> ({ring.startedBy.source})
        </p>
      )}
      {ring.groups.length > 0 && (
        <ul class="groups">
          {ring.groups.map((group) => (
            <GroupLine group={group} now={now} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** Every ring in release order: state, versions, installation progress, soak countdown, what holds it, who started it. */
export function RingList({ rings, now }: { rings: readonly PageRing[]; now: number }) {
  if (rings.length === 0) {
    return (
      <p class="empty">
        No rings yet. Create one with <code>elrond ring create --name canary --priority 1</code>, or run <code>elrond demo</code>.
      </p>
    );
  }
  return (
    <ol class="rings">
      {rings.map((ring) => (
        <RingItem ring={ring} now={now} />
      ))}
    </ol>
  );
}
