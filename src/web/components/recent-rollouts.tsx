import type { RolloutSummary } from '../../service/status-page-reads.js';
import { dateTime, formatDuration } from '../format-time.js';

const OUTCOME_TONE: Record<RolloutSummary['outcome'], string> = {
  'in progress': 'moving',
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'waiting',
  'rolled back': 'waiting',
};

/** The newest rollouts with who started them, when, how long they took and how they ended. */
export function RecentRollouts({ rollouts, current }: { rollouts: readonly RolloutSummary[]; current: string | null }) {
  if (rollouts.length === 0) return <p class="empty">No rollouts yet.</p>;
  return (
    <div class="table-scroll">
      <table class="recent">
        <thead>
          <tr>
            <th scope="col">Rollout</th>
            <th scope="col">Started by</th>
            <th scope="col">When</th>
            <th scope="col">Duration</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {rollouts.map((rollout) => (
            <tr class={rollout.id === current ? 'current' : ''} data-rollout={rollout.id}>
              <td>
                <a href={`/rollouts/${rollout.id}`}>
                  {rollout.kind === 'rollback' ? 'Rollback to ' : 'Release of '}
                  {rollout.release}
                </a>
                {rollout.reason && <div class="reason">{rollout.reason}</div>}
              </td>
              <td>
                {rollout.requestedBy} ({rollout.source})
              </td>
              <td>{dateTime(rollout.createAt)}</td>
              <td>{formatDuration(rollout.durationMs)}</td>
              <td>
                <span class={`badge tone-${OUTCOME_TONE[rollout.outcome]}`}>{rollout.outcome}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
