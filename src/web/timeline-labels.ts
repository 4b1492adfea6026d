/**
 * The words the rollout timeline puts on its markers, in one place: the legend, the marker glyphs and the
 * tooltips all read them from here, so the narration's milestone wording can replace them in one edit.
 */
export const MARKER_KINDS = ['approval', 'force', 'freeze', 'failure', 'retry', 'rollback'] as const;
export type MarkerKind = (typeof MARKER_KINDS)[number];

/** Legend text and the one-character glyph drawn inside each marker. */
export const MARKER_LABELS: Readonly<Record<MarkerKind, { legend: string; glyph: string }>> = {
  approval: { legend: 'approved', glyph: '✓' },
  force: { legend: 'forced', glyph: '»' },
  freeze: { legend: 'freeze', glyph: '❄' },
  failure: { legend: 'failed', glyph: '✕' },
  retry: { legend: 'retried', glyph: '↻' },
  rollback: { legend: 'rollback asked', glyph: '↩' },
};

export const BAR_LABELS = { rollout: 'rollout', soak: 'soak' } as const;

/** What a marker's tooltip says: who did it and, when there is one, why. */
export function markerTitle(kind: MarkerKind, detail: { actor: string; reason?: string | undefined; subject: string }): string {
  const why = detail.reason ? `: ${detail.reason}` : '';
  switch (kind) {
    case 'approval':
      return `${detail.subject} approved by ${detail.actor}`;
    case 'force':
      return `${detail.subject} forced by ${detail.actor}${why}`;
    case 'freeze':
      return `freeze by ${detail.actor}${why}`;
    case 'failure':
      return `${detail.subject} failed${why}`;
    case 'retry':
      return `${detail.subject} retried${why}`;
    case 'rollback':
      return `rollback of ${detail.subject} asked by ${detail.actor}${why}`;
  }
}
