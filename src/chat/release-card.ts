import type { CardRing, CardSnapshot } from './card-snapshot.js';
import { cardButtonContext, type CardAction } from './action-signature.js';
import { describeRelease } from '../model/release-target.js';
import { displayEnvValue, isDeletion } from '../model/env-vars.js';
import { RING_STATES_RELEASE_PENDING, ringStateIn } from '../model/ring-states.js';
import type { Release, Ring } from '../model/ring.js';
import { formatDuration } from '../model/durations.js';
import { installationCounts } from '../model/group-decision.js';
import { describeSloCheck } from '../model/slo-gate.js';
import { DEFAULT_ROLLOUT_ESTIMATE_MS, ringReleaseMs, ringRemainingMs, type GroupEstimate, type GroupStanding } from '../model/rollout-eta.js';
import { STANDING_DOT, STANDING_WORDS, STANDING_WORDS_MANY, ringStanding, type Standing } from '../model/ring-standing.js';
import { listOf, type Word, type Words } from '../model/words.js';
import { releaseLabel } from '../model/milestones.js';
import { renderWords } from './render-words.js';
import { chatCode, chatLabel, chatText } from './chat-text.js';

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
  /** --max-parallel-groups: the ETAs schedule a ring's groups as the engine does. */
  maxParallelGroups: number;
  /** How long buttons stay valid after the card was drawn. */
  buttonTtlMs?: number;
}

export interface CardButton {
  /** Names what it acts on (action, plus the ring's id for ring buttons; letters and digits only): Mattermost resolves a click by id in the post as stored at click time, so a redraw must never give an old id to a new target. */
  id: string;
  name: string;
  style: 'default' | 'primary' | 'success' | 'good' | 'warning' | 'danger';
  action: CardAction;
  ring: string;
}

export interface CardPost {
  message: string;
  props: { attachments: Array<Record<string, unknown>>; elrond_rollout: string };
}

const BAR_WIDTH = 10;

/** `▓▓▓▓░░░░░░`: how much of something is done, in code so it lines up. */
export function progressBar(done: number, total: number): string {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * BAR_WIDTH) : 0;
  return `\`${'▓'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}\``;
}

/** A ring line is this long at most (Mattermost shows a field's value in full, however long). */
const MAX_RING_LINE = 600;

interface RingFacts {
  entry: CardRing;
  standing: Standing;
  /** Installations on the release / counted, when every group's count is known. */
  installations: { updated: number; total: number } | null;
  groupsDone: number;
  groupsTotal: number;
  /** Groups as the ETA math sees them. */
  estimates: Array<GroupEstimate & { standing: GroupStanding }>;
  /** Expected start (a ring still waiting) and end, from the plan's math. */
  eta: { start?: number; end: number } | null;
}

const MOVING: ReadonlySet<Standing> = new Set(['starting', 'rolling', 'soaking', 'rolling-back']);
const WAITING: ReadonlySet<Standing> = new Set(['queued', 'awaiting-approval', 'paused', 'frozen']);

function groupFacts(entry: CardRing, snapshot: CardSnapshot, skipSoaks: boolean): Pick<RingFacts, 'installations' | 'groupsDone' | 'groupsTotal' | 'estimates'> {
  let updated = 0;
  let total = 0;
  let known = entry.groups.length > 0;
  const estimates: RingFacts['estimates'] = [];
  for (const group of entry.groups) {
    const onTarget = entry.onThisRollout && group.releaseId === entry.target.id;
    const counts = group.lastStatus ? installationCounts(group.lastStatus) : null;
    if (!counts) known = false;
    total += counts?.total ?? 0;
    if (onTarget && (group.state === 'stable' || group.state === 'release-soaking-requested')) updated += counts?.total ?? 0;
    // The counts are this rollout's once the group rolls (before, they are its previous rollout's).
    else if (onTarget && group.phase === 'rolling') updated += counts?.updated ?? 0;
    else if (onTarget && (group.state === 'release-failed' || group.state === 'soaking-failed')) updated += counts?.updated ?? 0;
    const standing: GroupStanding = !onTarget
      ? { kind: 'waiting' }
      : group.state === 'stable'
        ? { kind: 'done' }
        : group.state === 'release-soaking-requested'
          ? { kind: 'soaking', until: group.soakUntil ?? snapshot.now }
          : group.state === 'release-requested'
            ? { kind: 'rolling', startedAt: group.rolloutStartedAt ?? snapshot.now }
            : { kind: 'waiting' };
    estimates.push({ rolloutMs: snapshot.estimates.get(group.id) ?? DEFAULT_ROLLOUT_ESTIMATE_MS, soakSeconds: skipSoaks ? 0 : group.soakTime, standing });
  }
  const groupsDone = entry.onThisRollout ? entry.groups.filter((g) => g.releaseId === entry.target.id && g.state === 'stable').length : 0;
  return { installations: known ? { updated, total } : null, groupsDone, groupsTotal: entry.groups.length, estimates };
}

/**
 * Each ring's standing, progress and ETA. ETAs use the plan's math: a moving ring ends when its remaining groups
 * and soak are done; the rings waiting after it start in turn (all at once for a forced release).
 */
function ringFacts(snapshot: CardSnapshot, maxParallelGroups: number): RingFacts[] {
  let cursor = snapshot.now;
  return snapshot.rings.map((entry) => {
    const standing = ringStanding(entry.ring, { onThisRollout: entry.onThisRollout, frozen: entry.freeze !== null });
    const skipSoaks = snapshot.release.force || Boolean(entry.ring.forceRequestedBy) || entry.ring.rollingBack;
    const facts = groupFacts(entry, snapshot, skipSoaks);
    const ringSoak = skipSoaks ? 0 : entry.ring.soakTime;
    let eta: RingFacts['eta'] = null;
    if (entry.shown && MOVING.has(standing)) {
      const end = snapshot.now + ringRemainingMs(facts.estimates, { soakSeconds: ringSoak, soakUntil: entry.ring.state === 'soaking-requested' ? entry.ring.soakUntil : null }, snapshot.now, maxParallelGroups);
      eta = { end };
      cursor = Math.max(cursor, end);
    } else if (entry.shown && WAITING.has(standing)) {
      const start = Math.max(snapshot.release.force ? snapshot.now : cursor, entry.freeze?.until ?? 0);
      const end = start + ringReleaseMs(facts.estimates, ringSoak, maxParallelGroups);
      eta = { start, end };
      if (!snapshot.release.force) cursor = end;
    }
    return { entry, standing, ...facts, eta };
  });
}

function versions(entry: CardRing, header: Release): Words {
  const target = releaseLabel(entry.target, header);
  if (!entry.active || entry.active.id === entry.target.id) return [target];
  return [releaseLabel(entry.active, header), ' → ', target];
}

function progress(facts: RingFacts): string {
  if (facts.groupsTotal === 0) return 'no groups';
  const groups = `${facts.groupsDone}/${facts.groupsTotal} groups`;
  if (!facts.installations || facts.installations.total === 0) return `${progressBar(facts.groupsDone, facts.groupsTotal)} ${groups}`;
  return `${progressBar(facts.installations.updated, facts.installations.total)} ${facts.installations.updated}/${facts.installations.total} · ${groups}`;
}

function timing(facts: RingFacts, now: number): Words {
  const { entry, eta } = facts;
  if (MOVING.has(facts.standing) && entry.startedAt !== null && eta) return [`${formatDuration(now - entry.startedAt)} in, ~${formatDuration(eta.end - now)} left`];
  if (WAITING.has(facts.standing) && eta?.start !== undefined) return ['starts ~', { time: eta.start }, ', done ~', { time: eta.end }];
  if ((facts.standing === 'done' || facts.standing === 'rolled-back') && entry.startedAt !== null && entry.endedAt !== null) return [`took ${formatDuration(entry.endedAt - entry.startedAt)}`];
  return [];
}

/** One ring of the card, in words: where it stands, its versions, its progress by installations, its times. */
function ringLine(facts: RingFacts, snapshot: CardSnapshot, approvers: readonly string[]): string {
  const { entry, standing } = facts;
  const { ring } = entry;
  const parts: Words[] = [];
  const head: Word[] = [`${STANDING_DOT[standing]} `];
  switch (standing) {
    case 'awaiting-approval':
      head.push('needs approval', ...(approvers.length ? [' from ', ...listOf(approvers.map((a) => [{ person: a }]))] : []));
      break;
    case 'frozen':
      head.push('frozen until ', { time: entry.freeze!.until }, ' (', { text: entry.freeze!.reason }, ', by ', { person: entry.freeze!.by }, ')');
      break;
    case 'soaking':
      head.push(...(ring.soakUntil ? ['soaking until ', { time: ring.soakUntil }, ` (${formatDuration(ring.soakUntil - snapshot.now)} left)`] : ['soaking']));
      break;
    case 'done':
      head.push('on ', releaseLabel(entry.target, snapshot.release));
      break;
    case 'failed':
      head.push('failed', ...(ring.failureReason ? [': ', { text: ring.failureReason }] : []));
      break;
    case 'rolling-back':
      head.push('rolling back to ', releaseLabel(entry.target, snapshot.release));
      break;
    case 'rolled-back':
      head.push('back on ', releaseLabel(entry.target, snapshot.release));
      break;
    case 'left':
      // Only a cancel clears a ring's rollout; any other departure is to a newer release or a rollback.
      head.push(ring.rolloutId ? '_moved on to another release_' : '_release cancelled_');
      break;
    default:
      head.push(STANDING_WORDS[standing]);
  }
  parts.push(head);
  if (standing !== 'left') {
    if (standing !== 'done' && standing !== 'rolled-back' && standing !== 'rolling-back') parts.push(versions(entry, snapshot.release));
    if (ring.approvedBy && ringStateIn(ring.state, RING_STATES_RELEASE_PENDING)) parts.push(['approved by ', { person: ring.approvedBy }]);
    if (!WAITING.has(standing)) parts.push([progress(facts)]);
    if (MOVING.has(standing)) {
      // What holds a rolling group, from the parts it recorded: a provisioner that fails, installations stuck, MaxRolling 0.
      for (const group of entry.groups.filter((g) => g.state === 'release-requested')) {
        const facts = snapshot.groupFacts.get(group.id);
        if (group.attempts > 0) parts.push([{ code: group.name }, `: the provisioner failed, retry ${group.attempts}`]);
        else if (facts?.stuck) parts.push([{ code: group.name }, ': stuck in update-failed: ', { text: facts.stuck.join(', ') }]);
        if (group.attempts === 0 && facts?.block) parts.push([{ text: facts.block }]);
      }
    }
    if (standing === 'soaking' && ring.sloFailures > 0) parts.push([{ text: describeSloCheck(ring) }]);
    if (ring.forceRequestedBy) parts.push(['forced by ', { person: ring.forceRequestedBy }]);
    const when = timing(facts, snapshot.now);
    if (when.length) parts.push(when);
  }
  const line = renderWords(parts.flatMap((part, i) => (i === 0 ? part : [' · ', ...part])), { mentions: false, now: snapshot.now });
  return [...line].length <= MAX_RING_LINE ? line : `${[...line].slice(0, MAX_RING_LINE - 1).join('')}…`;
}

/** Approve buttons on one card at most (the next rings in line); later ones appear as these are approved. */
const MAX_APPROVE_BUTTONS = 5;

/** One line counting the rings not drawn: "🟢 30 done · ⚪ 20 waiting their turn". */
function hiddenSummary(hidden: readonly RingFacts[]): string {
  const counts = new Map<Standing, number>();
  for (const { standing } of hidden) counts.set(standing, (counts.get(standing) ?? 0) + 1);
  const parts = [...counts].map(([standing, n]) => `${STANDING_DOT[standing]} ${n} ${n === 1 ? STANDING_WORDS[standing] : STANDING_WORDS_MANY[standing]}`);
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

/** Red when a ring failed; blue while one moves; yellow when the rollout waits on a person or a freeze; green when done. */
function overallColor(facts: readonly RingFacts[]): string {
  const mine = facts.filter((f) => f.standing !== 'left').map((f) => f.standing);
  if (mine.includes('failed')) return 'danger';
  if (mine.some((s) => MOVING.has(s))) return '#1E88E5';
  if (mine.some((s) => s === 'awaiting-approval' || s === 'paused' || s === 'frozen')) return 'warning';
  if (mine.length > 0 && mine.every((s) => s === 'done' || s === 'rolled-back')) return 'good';
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

const SOURCE_WORDS: Record<string, string> = { chat: 'from chat', cli: 'from the CLI', api: 'over the API', supervisor: 'by Elrond' };

/** "who forced/approved what": "canary (alice), production (bob)". */
const byWhom = (list: ReadonlyArray<{ ring: string; by: string }>): Words => listOf(list.map((x) => [{ name: x.ring }, ' (', { person: x.by }, ')']));

/** The line under the header: how far the rollout is, or how it ended (took, forced rings, approvals with who). */
function summaryLine(snapshot: CardSnapshot, facts: readonly RingFacts[]): Words {
  const mine = facts.filter((f) => f.standing !== 'left');
  const done = mine.filter((f) => f.standing === 'done' || f.standing === 'rolled-back').length;
  const extras: Words[] = [];
  if (snapshot.forced.length) extras.push(['forced: ', ...byWhom(snapshot.forced)]);
  if (snapshot.approved.length) extras.push(['approved: ', ...byWhom(snapshot.approved)]);
  const tail = extras.flatMap((part) => [' · ', ...part]);
  const { rollout, now } = snapshot;
  if (rollout.endAt !== null) {
    const took = formatDuration(rollout.endAt - rollout.createAt);
    const failed = mine.filter((f) => f.standing === 'failed');
    if (failed.length === 0) return [`✅ **Done in ${took}**: ${done} of ${mine.length} ring${mine.length === 1 ? '' : 's'}`, ...tail];
    return [`❌ **Stopped after ${took}**: ${done} of ${mine.length} done, `, ...listOf(failed.map((f) => [{ name: f.entry.ring.name }])), ' failed', ...tail];
  }
  const words: Word[] = [`${done} of ${mine.length} ring${mine.length === 1 ? '' : 's'} done`];
  const hidden = facts.some((f) => !f.entry.shown);
  const ends = mine.map((f) => f.eta?.end).filter((end): end is number => end !== undefined);
  if (!hidden && ends.length > 0) {
    const end = Math.max(...ends);
    words.push(' · done about ', { time: end }, ` (in ${formatDuration(end - now)})`);
  }
  return [...words, ...tail];
}

/**
 * The release card, compact: the image once in the header, then a line per ring in release order (a coloured dot
 * for where it stands, versions alone when the image does not change, progress by installations with groups done,
 * elapsed and ETA), a summary line, and the buttons that apply now (each signed). Beyond 20 rings the rest are
 * counted in one line. Everything someone typed (names, reasons) is inert: the card never notifies anyone.
 */
export function buildReleaseCard(snapshot: CardSnapshot, options: CardOptions): CardPost {
  const { rollout, release, now } = snapshot;
  const verb = rollout.kind === 'rollback' ? 'Rollback to' : 'Release of';
  // Titles are Markdown in the web app too: inert like the rest (an image name is ours to check, not to trust).
  const title = chatText(`${verb} ${describeRelease(release)}${release.force ? ' (forced)' : ''}`, 200);
  const facts = ringFacts(snapshot, options.maxParallelGroups);
  const started: Words = ['Started by ', { person: rollout.requestedBy }, ` ${SOURCE_WORDS[rollout.source] ?? `from ${rollout.source}`} at `, { time: rollout.createAt }, ...(rollout.reason ? [' — ', { text: rollout.reason }] : [])];
  const lines = [renderWords(started, { mentions: false, now })];
  const envParts = Object.entries(release.envVariables ?? {}).map(([name, entry]) => (isDeletion(entry) ? `delete \`${chatCode(name, 80)}\`` : `\`${chatCode(`${name}=${displayEnvValue(name, entry)}`, 200)}\``));
  if (envParts.length) lines.push(`Env: ${envParts.join(', ')}`);
  if (options.grafanaDashboardUrl) lines.push(`[Grafana](${grafanaLink(snapshot, options.grafanaDashboardUrl)})`);
  if (options.pageUrl) lines.push(`[Rollout page](${options.pageUrl.replace(/\/+$/, '')}/rollouts/${rollout.id})`);
  lines.push(renderWords(summaryLine(snapshot, facts), { mentions: false, now }));
  const hidden = facts.filter((f) => !f.entry.shown);
  const actions = options.postId
    ? cardButtons(snapshot).map((button) => ({
        id: button.id,
        type: 'button',
        name: chatLabel(button.name, 40),
        style: button.style,
        integration: { url: options.actionUrl, context: cardButtonContext(options.secret, button, { rollout: rollout.id, post: options.postId! }, now, options.buttonTtlMs ?? 24 * 3600_000) },
      }))
    : [];
  return {
    message: '',
    props: {
      elrond_rollout: rollout.id,
      attachments: [
        {
          fallback: title,
          color: overallColor(facts),
          title,
          text: lines.join('\n'),
          fields: [
            ...facts.filter((f) => f.entry.shown).map((f) => ({ title: chatText(f.entry.ring.name, 60), value: ringLine(f, snapshot, options.approvers), short: false })),
            ...(hidden.length > 0 ? [{ title: `${hidden.length} more ring${hidden.length === 1 ? '' : 's'}`, value: hiddenSummary(hidden), short: false }] : []),
          ],
          footer: `Elrond · rollout ${rollout.id}${options.simulated ? ' · simulated provisioner' : ''}`,
          actions,
        },
      ],
    },
  };
}


