import type { StatusPageData } from '../../service/status-page-reads.js';
import { clockTime, dateTime, formatDuration } from '../format-time.js';
import { stateTone } from '../state-tone.js';
import { RingList } from './ring-list.js';
import { RolloutTimeline } from './rollout-timeline.js';
import { RecentRollouts } from './recent-rollouts.js';

const OUTCOME_TONE = { 'in progress': 'moving', succeeded: 'done', failed: 'failed', cancelled: 'waiting', 'rolled back': 'waiting' } as const;

/**
 * The part of the page that live updates replace: the rollout, its rings, its timeline, the recent rollouts.
 * `data-last-event-id` tells the live script where the event stream carries on.
 */
export function StatusBody({ data, scope }: { data: StatusPageData; scope: 'all' | 'rollout' }) {
  const rollout = data.rollout?.rollout;
  const active = rollout?.outcome === 'in progress' || data.rings.some((ring) => stateTone(ring.state) === 'moving');
  return (
    <div id="live-body" data-last-event-id={String(data.latestEventId)} data-active={active ? 'true' : 'false'}>
      {rollout ? (
        <section class="rollout" aria-labelledby="rollout-title">
          <h1 id="rollout-title">
            {rollout.kind === 'rollback' ? 'Rollback to ' : 'Release of '}
            {rollout.release}
          </h1>
          <p class="meta">
            <span class={`badge tone-${OUTCOME_TONE[rollout.outcome]}`} data-outcome={rollout.outcome}>
              {rollout.outcome}
            </span>{' '}
            started by <strong>{rollout.requestedBy}</strong> ({rollout.source}) at {dateTime(rollout.createAt)} · {rollout.outcome === 'in progress' ? 'running for' : 'took'} {formatDuration(rollout.durationMs)}
            {scope === 'all' && (
              <>
                {' '}
                · <a href={`/rollouts/${rollout.id}`}>link to this rollout</a>
              </>
            )}
          </p>
          {rollout.reason && <p class="reason">“{rollout.reason}”</p>}
        </section>
      ) : (
        <section class="rollout">
          <h1>No rollout yet</h1>
          <p>
            Start one with <code>elrond ring release --all-rings --image … --version …</code>; it appears here as it runs.
          </p>
        </section>
      )}
      <section aria-labelledby="rings-title">
        <h2 id="rings-title">{scope === 'rollout' ? 'Rings in this rollout' : 'Rings'}</h2>
        <RingList rings={data.rings} now={data.now} />
      </section>
      {data.rollout && (
        <section aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Timeline</h2>
          <RolloutTimeline data={data.rollout} now={data.now} />
        </section>
      )}
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent rollouts</h2>
        <RecentRollouts rollouts={data.recent} current={rollout?.id ?? null} />
      </section>
      <p class="as-of">
        as of <time dateTime={new Date(data.now).toISOString()}>{clockTime(data.now)}</time>
      </p>
    </div>
  );
}
