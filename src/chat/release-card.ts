import type { CardRing, CardSnapshot } from './card-snapshot.js';
import { signAction } from './action-signature.js';
import { describeRelease } from '../model/release-target.js';
import { displayEnvValue, isDeletion } from '../model/env-vars.js';
import { describeRingSoak } from '../model/slo-gate.js';
import { RING_STATES_FAILED, RING_STATES_RELEASE_PENDING, ringStateIn } from '../model/ring-states.js';
import type { Ring } from '../model/ring.js';

export interface CardOptions {
  /** Where Mattermost sends button clicks: `<public-url>/mattermost/action`. */
  actionUrl: string;
  secret: string;
  /** The card's post id (absent on first creation: buttons are added by the first edit). */
  postId?: string;
  grafanaDashboardUrl?: string;
  /** `--public-url`: the card links to the rollout's status page under it. */
  pageUrl?: string;
  /** The provisioner is the built-in simulator: the footer says so. */
  simulated?: boolean;
  approvers: readonly string[];
  /** How long buttons stay valid after the card was drawn. */
  buttonTtlMs?: number;
}

export interface CardButton {
  /** Names what it acts on (action, plus the ring's id for ring buttons; letters and digits only): Mattermost resolves a click by id in the post as stored at click time, so a redraw must never give an old id to a new target. */
  id: string;
  name: string;
  style: 'default' | 'primary' | 'success' | 'good' | 'warning' | 'danger';
  action: 'approve' | 'force' | 'pause' | 'resume' | 'cancel' | 'retry' | 'rollback';
  ring: string;
}

export interface CardPost {
  message: string;
  props: { attachments: Array<Record<string, unknown>>; elrond_rollout: string };
}

const ICON: Record<string, string> = {
  stable: '✅',
  'release-rollback-complete': '↩️',
  'release-pending': '⏳',
  'release-paused': '⏸️',
  'release-requested': '🚀',
  'release-in-progress': '🚀',
  'soaking-requested': '🧪',
  'release-rollback-requested': '↩️',
};

export function progressBar(done: number, total: number, width = 10): string {
  if (total === 0) return '';
  const filled = Math.round((done / total) * width);
  return `\`${'█'.repeat(filled)}${'░'.repeat(width - filled)}\` ${done}/${total} groups`;
}

function ringLine(entry: CardRing, snapshot: CardSnapshot, approvers: readonly string[]): string {
  const { ring, groups } = entry;
  const icon = ringStateIn(ring.state, RING_STATES_FAILED) ? '❌' : (ICON[ring.state] ?? '•');
  const target = describeRelease(entry.target);
  const current = describeRelease(entry.active);
  const versions = current === target ? `on ${target}` : `${current} → ${target}`;
  const mine = groups.filter((g) => g.releaseId === entry.target.id);
  const done = entry.onThisRollout ? mine.filter((g) => g.state === 'stable').length : 0;
  const parts = [`${icon} **${ring.state}** · ${versions}`];
  if (groups.length > 0) parts.push(progressBar(ring.activeReleaseId === entry.target.id && !ringStateIn(ring.state, RING_STATES_FAILED) && ring.state !== 'release-rollback-requested' ? groups.length : done, groups.length));
  if (ring.state === 'soaking-requested' && ring.soakUntil) parts.push(describeRingSoak(ring, snapshot.now, { healthy: false }));
  else if (ring.failureReason && ringStateIn(ring.state, RING_STATES_FAILED)) parts.push(`reason: ${ring.failureReason}`);
  else if (ring.statusMessage && !['stable'].includes(ring.state)) parts.push(ring.statusMessage);
  if (ring.approvalRequired && ringStateIn(ring.state, RING_STATES_RELEASE_PENDING)) {
    parts.push(ring.approvedBy ? `approved by @${ring.approvedBy}` : `needs approval${approvers.length ? ` from ${approvers.map((a) => `@${a}`).join(', ')}` : ''}`);
  }
  if (ring.forceRequestedBy) parts.push(`forced by @${ring.forceRequestedBy}`);
  // Only a cancel clears a ring's rollout; any other departure is to a newer release or a rollback.
  if (!entry.onThisRollout) parts.push(ring.rolloutId ? '_(moved on to another release)_' : '_(release cancelled)_');
  return parts.join(' · ');
}

/** Approve buttons on one card at most (the next rings in line); later ones appear as these are approved. */
const MAX_APPROVE_BUTTONS = 5;

/** One line counting the rings not drawn: "✅ 120 stable · ⏳ 360 release-pending". */
function hiddenSummary(hidden: readonly CardRing[]): string {
  const counts = new Map<string, number>();
  for (const { ring } of hidden) counts.set(ring.state, (counts.get(ring.state) ?? 0) + 1);
  const parts = [...counts].map(([state, count]) => `${ringStateIn(state as Ring['state'], RING_STATES_FAILED) ? '❌' : (ICON[state] ?? '•')} ${count} ${state}`);
  return `${parts.join(' · ')} — \`/elrond status\` lists every ring`;
}

/** Which buttons apply now, derived from the rings' states. */
export function cardButtons(snapshot: CardSnapshot): CardButton[] {
  const rings = snapshot.rings.filter((e) => e.onThisRollout).map((e) => e.ring);
  const buttons: CardButton[] = [];
  const pending = rings.filter((r) => r.state === 'release-pending');
  for (const ring of pending.filter((r) => r.approvalRequired && !r.approvedBy).slice(0, MAX_APPROVE_BUTTONS)) {
    buttons.push({ id: `approve${ring.id}`, name: `Approve ${ring.name}`, style: 'success', action: 'approve', ring: ring.id });
  }
  const current: Ring | undefined = rings.find((r) => r.state === 'soaking-requested') ?? pending[0];
  if (current && !current.forceRequestedBy) buttons.push({ id: `force${current.id}`, name: `Force ${current.name}`, style: 'warning', action: 'force', ring: current.id });
  if (pending.length > 0) buttons.push({ id: 'pause', name: 'Pause', style: 'default', action: 'pause', ring: '' });
  if (rings.some((r) => r.state === 'release-paused')) buttons.push({ id: 'resume', name: 'Resume', style: 'primary', action: 'resume', ring: '' });
  if (rings.some((r) => ringStateIn(r.state, RING_STATES_RELEASE_PENDING))) buttons.push({ id: 'cancel', name: 'Cancel', style: 'danger', action: 'cancel', ring: '' });
  const failed = rings.find((r) => r.state === 'release-failed' || r.state === 'soaking-failed');
  if (failed) buttons.push({ id: `retry${failed.id}`, name: `Retry ${failed.name}`, style: 'primary', action: 'retry', ring: failed.id });
  const released = rings.some((r) => r.previousReleaseId && r.activeReleaseId === snapshot.release.id && r.state === 'stable');
  if (snapshot.rollout.kind === 'release' && (released || failed)) buttons.push({ id: 'rollback', name: 'Rollback', style: 'danger', action: 'rollback', ring: '' });
  return buttons;
}

function overallColor(snapshot: CardSnapshot): string {
  const states = snapshot.rings.filter((e) => e.onThisRollout).map((e) => e.ring.state);
  if (states.some((s) => ringStateIn(s, RING_STATES_FAILED))) return 'danger';
  if (states.some((s) => s === 'release-paused')) return 'warning';
  if (states.length > 0 && states.every((s) => s === 'stable' || s === 'release-rollback-complete')) return 'good';
  return '#1E88E5';
}

function grafanaLink(snapshot: CardSnapshot, dashboard: string): string {
  const from = snapshot.rollout.createAt - 5 * 60_000;
  const to = snapshot.rollout.endAt ? String(snapshot.rollout.endAt + 5 * 60_000) : 'now';
  const url = new URL(dashboard);
  url.searchParams.set('from', String(from));
  url.searchParams.set('to', to);
  return url.toString();
}

/**
 * The release card: rings in release order with state, a progress bar of their groups, active → target
 * version, soak countdown, who started it, a Grafana link, and the buttons that apply now (each signed).
 */
export function buildReleaseCard(snapshot: CardSnapshot, options: CardOptions): CardPost {
  const { rollout, release } = snapshot;
  const verb = rollout.kind === 'rollback' ? 'Rollback to' : 'Release of';
  const title = `${verb} ${describeRelease(release)}${release.force ? ' (forced)' : ''}`;
  const lines = [`Started by @${rollout.requestedBy} from ${rollout.source}${rollout.reason ? ` — ${rollout.reason}` : ''}`];
  const envParts = Object.entries(release.envVariables ?? {}).map(([name, entry]) => (isDeletion(entry) ? `delete \`${name}\`` : `\`${name}=${displayEnvValue(name, entry)}\``));
  if (envParts.length) lines.push(`Env: ${envParts.join(', ')}`);
  if (options.grafanaDashboardUrl) lines.push(`[Grafana](${grafanaLink(snapshot, options.grafanaDashboardUrl)})`);
  if (options.pageUrl) lines.push(`[Rollout page](${options.pageUrl.replace(/\/+$/, '')}/rollouts/${rollout.id})`);
  if (rollout.endAt) lines.push(`Finished ${new Date(rollout.endAt).toISOString()}`);
  const exp = snapshot.now + (options.buttonTtlMs ?? 24 * 3600_000);
  const hidden = snapshot.rings.filter((e) => !e.shown);
  const actions = options.postId
    ? cardButtons(snapshot).map((button) => ({
        id: button.id,
        type: 'button',
        name: button.name,
        style: button.style,
        integration: { url: options.actionUrl, context: signAction(options.secret, { action: button.action, rollout: rollout.id, ring: button.ring, post: options.postId!, exp }) },
      }))
    : [];
  return {
    message: '',
    props: {
      elrond_rollout: rollout.id,
      attachments: [
        {
          fallback: title,
          color: overallColor(snapshot),
          title,
          text: lines.join('\n'),
          fields: [
            ...snapshot.rings.filter((e) => e.shown).map((entry) => ({ title: `${entry.ring.name} (priority ${entry.ring.priority})`, value: ringLine(entry, snapshot, options.approvers), short: false })),
            ...(hidden.length > 0 ? [{ title: `${hidden.length} more ring${hidden.length === 1 ? '' : 's'}`, value: hiddenSummary(hidden), short: false }] : []),
          ],
          footer: `Elrond · rollout ${rollout.id}${options.simulated ? ' · simulated provisioner' : ''}`,
          actions,
        },
      ],
    },
  };
}
