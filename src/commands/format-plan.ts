import type { ReleasePlan } from './elrond-api.js';
import { formatDuration } from '../model/durations.js';

const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + 'Z';

export const PLAN_TABLE_HEADERS = ['#', 'RING', 'CURRENT → TARGET', 'GROUPS (rollout estimate + soak)', 'RING SOAK', 'APPROVAL', 'FREEZES IN THE WAY', 'START', 'END'];

/** The rows of a plan, in release order; the same for the terminal and for chat. */
export function planRows(plan: ReleasePlan): string[][] {
  return plan.rings.map((ring, index) => [
    String(index + 1),
    `${ring.name} (p${ring.priority})${ring.blocked ? ` ⚠ ${ring.blocked}` : ''}`,
    `${ring.current} → ${ring.target}`,
    ring.groups.length
      ? ring.groups.map((g) => `${g.name}: ${formatDuration(g.rolloutEstimateMs)}${g.estimateFrom === 'default' ? '*' : ''} + ${formatDuration(g.soakSeconds * 1000)}`).join('; ')
      : '(no groups)',
    formatDuration(ring.soakSeconds * 1000),
    ring.approvalRequired ? `waits for ${plan.approvers.length ? plan.approvers.map((a) => `@${a}`).join(', ') : 'an approver'}` : '',
    ring.freezes.map((f) => `${at(f.start)}–${at(f.end)} ${f.reason} (by ${f.by})`).join('; '),
    at(ring.startEta),
    at(ring.endEta),
  ]);
}

/** Lines around the table: what is released, the env diff (secrets redacted), the ETA, the assumptions. */
export function planNotes(plan: ReleasePlan): string[] {
  const notes = [`Plan: ${plan.release.image}:${plan.release.version}${plan.release.force ? ' (forced: rings in parallel, no soak)' : ''} — nothing has been changed.`];
  const env = plan.rings[0]?.env;
  if (env) {
    const parts = [
      ...Object.entries(env.added).map(([k, v]) => `+${k}=${v}`),
      ...Object.entries(env.changed).map(([k, v]) => `~${k}: ${v.from} → ${v.to}`),
      ...env.deleted.map((k) => `-${k}`),
    ];
    if (parts.length) notes.push(`Env: ${parts.join(', ')}`);
  }
  if (plan.unchanged.length) notes.push(`Already on this release (untouched): ${plan.unchanged.join(', ')}`);
  notes.push(plan.rings.length ? `Estimated end: ${at(plan.endEta)}` : 'No ring would change.');
  if (plan.rings.some((r) => r.groups.some((g) => g.estimateFrom === 'default'))) {
    notes.push(`* no rollout history for that group: ${formatDuration(plan.defaultRolloutEstimateMs)} assumed.`);
  }
  return notes;
}
