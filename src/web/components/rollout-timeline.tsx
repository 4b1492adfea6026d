import { layoutTimeline, type TimelineLayout } from '../timeline-layout.js';
import { BAR_LABELS, MARKER_KINDS, MARKER_LABELS } from '../timeline-labels.js';
import type { RolloutTimelineData } from '../../service/status-page-reads.js';

const MAX_LABEL = 22;
const shorten = (label: string) => (label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label);

function TimelineSvg({ layout }: { layout: TimelineLayout }) {
  const chartRight = layout.width - 24;
  return (
    <svg class="timeline" viewBox={`0 0 ${layout.width} ${layout.height}`} width={layout.width} height={layout.height} role="img" aria-labelledby="timeline-title">
      <title id="timeline-title">Rollout timeline: one row per ring and group, bars for rollout and soak</title>
      {layout.rows.map((row, index) => (
        <g class={`row row-${row.kind}${index % 2 ? ' odd' : ''}`} data-row={row.key}>
          <rect class="row-bg" x={0} y={row.y} width={chartRight} height={row.height} />
          <text class="row-label" x={row.kind === 'ring' ? 8 : 22} y={row.y + row.height / 2} dy="0.35em">
            {shorten(row.label)}
            {row.label.length > MAX_LABEL && <title>{row.label}</title>}
          </text>
        </g>
      ))}
      {layout.ticks.map((tick) => (
        <g class="tick">
          <line x1={tick.x} x2={tick.x} y1={layout.axisY + 4} y2={layout.height - 4} />
          <text x={tick.x} y={layout.axisY} text-anchor="middle">
            {tick.label}
          </text>
        </g>
      ))}
      {layout.bars.map((bar) => (
        <rect class={`bar bar-${bar.phase} bar-${bar.status}${bar.rollback ? ' bar-rollback' : ''}`} data-row={bar.row} data-phase={bar.phase} data-status={bar.status} x={bar.x} y={bar.y} width={bar.width} height={bar.height} rx={3}>
          <title>{bar.title}</title>
        </rect>
      ))}
      {layout.markers.map((marker) => (
        <g class={`marker marker-${marker.kind}`} data-marker={marker.kind} data-row={marker.row} transform={`translate(${marker.x} ${marker.y})`}>
          <circle r={8} />
          <text text-anchor="middle" dy="0.35em">
            {MARKER_LABELS[marker.kind].glyph}
          </text>
          <title>{marker.title}</title>
        </g>
      ))}
      {layout.now && (
        <g class="now" data-now="">
          <line x1={layout.now.x} x2={layout.now.x} y1={layout.now.y1} y2={layout.now.y2} />
          <text x={layout.now.x} y={layout.now.y2} dy="-2" dx="-4" text-anchor="end">
            now
          </text>
        </g>
      )}
    </svg>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="timeline legend">
      <li>
        <span class="swatch bar-rollout" /> {BAR_LABELS.rollout}
      </li>
      <li>
        <span class="swatch bar-soak" /> {BAR_LABELS.soak}
      </li>
      <li>
        <span class="swatch bar-failed" /> failed
      </li>
      {MARKER_KINDS.map((kind) => (
        <li>
          <span class={`glyph marker-${kind}`}>{MARKER_LABELS[kind].glyph}</span> {MARKER_LABELS[kind].legend}
        </li>
      ))}
    </ul>
  );
}

/** The rollout timeline, drawn from the events table by the pure layout function. */
export function RolloutTimeline({ data, now }: { data: RolloutTimelineData; now: number }) {
  const running = data.rollout.outcome === 'in progress';
  const layout = layoutTimeline({ rings: data.rings, events: data.events, start: data.rollout.createAt, end: running ? null : data.rollout.endAt, now });
  return (
    <figure class="timeline-figure">
      <div class="timeline-scroll" tabIndex={0}>
        <TimelineSvg layout={layout} />
      </div>
      <figcaption>
        <Legend />
      </figcaption>
    </figure>
  );
}
