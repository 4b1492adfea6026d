import { count, listOf, type Word, type Words } from './words.js';
import { formatDuration } from './durations.js';
import { RING_STATES_FAILED, RING_STATES_RELEASE_IN_PROGRESS, isRingState, ringStateIn } from './ring-states.js';

/**
 * What a release thread says, as milestones in words: one when the rollout is requested; per ring, started, each
 * group rolled, soaking, done; one when it is over; and the exceptional ones (a failure, an approval awaited or
 * given, a Force, a retry, a pause, a cancel, a freeze) each with who and why. Everything else an event records
 * (state names, progress, retries of a provisioner call) stays in the history. Pure: the chat thread and the
 * status page both word events with these functions.
 */

/** The parts of a recorded event a milestone reads. */
export interface MilestoneEvent {
  kind: string;
  at: number;
  actor: string;
  source: string;
  ringId: string | null;
  oldState: string | null;
  newState: string | null;
  data: Readonly<Record<string, unknown>>;
}

export interface ReleaseLabel {
  image: string;
  version: string;
}

/** What a milestone says beyond its event; the caller reads it from the store. */
export interface MilestoneContext {
  rollout: {
    kind: 'release' | 'rollback';
    requestedBy: string;
    /** Started from chat: `requestedBy` is a Mattermost username that may be mentioned. */
    fromChat: boolean;
  };
  /** The release the event's ring moves to; for a rollout's own events, the rollout's. */
  release: ReleaseLabel;
  /** The release the ring was on when it started, for "10.5.0 → 10.6.0". */
  from?: ReleaseLabel | undefined;
  ringName?: string | undefined;
  /** How many groups the ring rolls. */
  groups?: number | undefined;
  /** When the ring's current release started, for "done after 12m". */
  ringStartedAt?: number | undefined;
  /** The end of the soak a ring starts. */
  soakUntil?: number | null | undefined;
  /** Who forced the ring during this release. */
  forcedBy?: string | undefined;
  /** How long the ring's release should take (the plan's math). */
  ringEtaMs?: number | undefined;
}

export type MilestoneKind =
  | 'requested'
  | 'rollback-requested'
  | 'ring-started'
  | 'group-rolled'
  | 'soaking'
  | 'ring-done'
  | 'finished'
  | 'failed'
  | 'approval-needed'
  | 'approved'
  | 'forced'
  | 'retried'
  | 'paused'
  | 'resumed'
  | 'cancelled'
  | 'frozen'
  | 'unfrozen'
  | 'freeze-overridden';

/** The milestones every release has; the budget `2 + R × (G + 3)` counts these. The rest are exceptional. */
export const ROUTINE_MILESTONES: ReadonlySet<MilestoneKind> = new Set(['requested', 'ring-started', 'group-rolled', 'soaking', 'ring-done', 'finished']);

export interface Milestone {
  kind: MilestoneKind;
  /** The ring it is about; null for the rollout as a whole. */
  ringId: string | null;
  words: Words;
  /** The rings it names, when it is about several (an approval awaited). */
  rings?: ReadonlyArray<{ id: string; name: string }>;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function ringsOf(data: Readonly<Record<string, unknown>>): Array<{ id: string; name: string }> {
  const list = Array.isArray(data.rings) ? data.rings : [];
  return list.flatMap((r) => (r && typeof r === 'object' && typeof (r as { name?: unknown }).name === 'string' ? [{ id: String((r as { id?: unknown }).id ?? ''), name: (r as { name: string }).name }] : []));
}

const names = (rings: ReadonlyArray<{ name: string }>): Words => listOf(rings.map((r) => [{ name: r.name }]));

/** A release as short as it can be said: the version alone when the image does not change. */
export function releaseLabel(to: ReleaseLabel, from?: ReleaseLabel): Word {
  return { code: from && from.image === to.image ? to.version : `${to.image}:${to.version}` };
}

/** Who did something, and from where when it was not chat: "alice", "ci (from the CLI)". */
function actorOf(event: MilestoneEvent): Words {
  const via = event.source === 'cli' ? ' (from the CLI)' : event.source === 'api' ? ' (over the API)' : '';
  return [{ person: event.actor }, via];
}

const starter = (ctx: MilestoneContext): Word => ({ person: ctx.rollout.requestedBy, notify: ctx.rollout.fromChat });
const reason = (text: string | undefined): Words => (text ? [': ', { text }] : []);
const took = (from: number | undefined, to: number): string => (from === undefined ? '' : ` after ${formatDuration(to - from)}`);

function requested(event: MilestoneEvent, ctx: MilestoneContext): Milestone {
  const rings = ringsOf(event.data);
  const force = event.data.force === true;
  const etaAt = num(event.data.etaAt);
  const order = force ? names(rings) : rings.flatMap((r, i): Word[] => (i === 0 ? [{ name: r.name }] : [' → ', { name: r.name }]));
  const words: Word[] = ['🚀 ', ...actorOf(event), ' started the release of ', releaseLabel(ctx.release), force ? ' (forced: all at once, no soak)' : '', ` to ${count(rings.length, 'ring')}: `, ...order];
  if (etaAt !== undefined) words.push('. The plan says done about ', { time: etaAt }, ` (in ${formatDuration(etaAt - event.at)})`);
  const why = str(event.data.reason);
  if (why) words.push(' — ', { text: why });
  words.push('.');
  return { kind: 'requested', ringId: null, words };
}

function ringMilestone(event: MilestoneEvent, ctx: MilestoneContext): Milestone | undefined {
  const ringName = ctx.ringName ?? str(event.data.ringName) ?? 'a ring';
  const ring: Word = { name: ringName };
  const at = (kind: MilestoneKind, words: Words): Milestone => ({ kind, ringId: event.ringId, words });
  const rollback = ctx.rollout.kind === 'rollback';
  const { oldState: from, newState: to } = event;
  if (!to || !isRingState(to)) return undefined;
  const wasMoving = from !== null && isRingState(from) && ringStateIn(from, RING_STATES_RELEASE_IN_PROGRESS);
  const byPerson = event.source !== 'supervisor';
  if (byPerson) {
    // A request (release, rollback, pause, cancel) is told once for the rollout; a retry is a ring's own.
    if (to === 'release-pending' && from !== null && isRingState(from) && ringStateIn(from, RING_STATES_FAILED)) return at('retried', ['🔁 ', ...actorOf(event), ' retried ', ring, '.']);
    return undefined;
  }
  if (to === 'release-requested' && (from === 'release-pending' || from === 'release-paused')) {
    const words: Word[] = ['▶️ ', ring, ' started: '];
    if (ctx.from) words.push({ code: ctx.from.image === ctx.release.image ? ctx.from.version : `${ctx.from.image}:${ctx.from.version}` }, ' → ');
    words.push(releaseLabel(ctx.release, ctx.from));
    if (ctx.groups !== undefined) words.push(`, ${count(ctx.groups, 'group')}`);
    if (ctx.ringEtaMs !== undefined) words.push(`, about ${formatDuration(ctx.ringEtaMs)}`);
    words.push('.');
    return at('ring-started', words);
  }
  if (to === 'release-rollback-requested' && from === to) return at('ring-started', ['↩️ ', ring, ' started rolling back to ', releaseLabel(ctx.release, ctx.from), '.']);
  if (to === 'soaking-requested' && wasMoving) {
    const until = ctx.soakUntil ?? undefined;
    return at('soaking', until === undefined ? ['🧪 ', ring, ' is soaking.'] : ['🧪 ', ring, ' is soaking until ', { time: until }, ` (${formatDuration(until - event.at)}).`]);
  }
  if (to === 'stable' && wasMoving) {
    const forced: Words = ctx.forcedBy ? [' (forced by ', { person: ctx.forcedBy }, ')'] : [];
    return at('ring-done', ['🏁 ', ring, ' is on ', releaseLabel(ctx.release, ctx.from), took(ctx.ringStartedAt, event.at), ...forced, '.']);
  }
  if (to === 'release-rollback-complete' && wasMoving) return at('ring-done', ['↩️ ', ring, ' is back on ', releaseLabel(ctx.release, ctx.from), took(ctx.ringStartedAt, event.at), '.']);
  // A ring failed while it moved; rings of its rollout that never started fail with it, and are not news.
  if (ringStateIn(to, RING_STATES_FAILED) && wasMoving) {
    const next = to === 'release-rollback-failed' || rollback ? 'see `/elrond why`, then roll back again' : 'Retry or Rollback on the card';
    return at('failed', ['❌ ', ring, ' failed', ...reason(str(event.data.reason)), '. ', starter(ctx), `, next: ${next}.`]);
  }
  return undefined;
}

function groupRolled(event: MilestoneEvent, ctx: MilestoneContext): Milestone | undefined {
  if (event.oldState !== 'release-requested' || (event.newState !== 'stable' && event.newState !== 'release-soaking-requested')) return undefined;
  const group = str(event.data.groupName) ?? 'a group';
  const installations = event.data.installations as { updated?: unknown; total?: unknown } | undefined;
  const updated = num(installations?.updated);
  const total = num(installations?.total);
  const startedAt = num(event.data.rolloutStartedAt);
  const soakMs = num(event.data.soakMs) ?? 0;
  const words: Word[] = [ctx.rollout.kind === 'rollback' ? '↩️ ' : '✅ ', { name: ctx.ringName ?? str(event.data.ringName) ?? 'a ring' }, ': ', { code: group }, ctx.rollout.kind === 'rollback' ? ' is back on ' : ' is on ', releaseLabel(ctx.release, ctx.from)];
  if (updated !== undefined && total !== undefined) words.push(` — ${updated}/${total} installations`);
  if (startedAt !== undefined) words.push(`${updated !== undefined ? '' : ' —'} in ${formatDuration(event.at - startedAt)}`);
  if (soakMs > 0) words.push(`; soaking ${formatDuration(soakMs)}`);
  words.push('.');
  return { kind: 'group-rolled', ringId: event.ringId, words };
}

/** The milestone an event of a rollout is, or undefined when its thread says nothing about it. */
export function milestoneOf(event: MilestoneEvent, ctx: MilestoneContext): Milestone | undefined {
  const ring: Word = { name: ctx.ringName ?? str(event.data.ringName) ?? 'a ring' };
  const rings = names(ringsOf(event.data));
  switch (event.kind) {
    case 'release.requested':
      return requested(event, ctx);
    case 'release.rollback':
      return { kind: 'rollback-requested', ringId: null, words: ['↩️ ', ...actorOf(event), ' asked to roll back ', ...rings, ' to their previous release', ...reason(str(event.data.reason)), '.'] };
    case 'ring.state':
      return ringMilestone(event, ctx);
    case 'group.state':
      return groupRolled(event, ctx);
    case 'ring.approved':
      return { kind: 'approved', ringId: event.ringId, words: ['👍 ', ...actorOf(event), ' approved ', ring, '.'] };
    case 'ring.forced': {
      const state = str(event.data.state);
      const effect = state === 'soaking-requested' ? ' (its soak ends now)' : state === 'release-pending' || state === 'release-paused' ? ' (it starts without waiting its turn)' : ' (its remaining soaks are skipped)';
      return { kind: 'forced', ringId: event.ringId, words: ['⏩ ', ...actorOf(event), ' forced ', ring, ...reason(str(event.data.reason)), effect, '.'] };
    }
    case 'release.paused':
      return { kind: 'paused', ringId: null, words: ['⏸️ ', ...actorOf(event), ' paused the release: ', ...rings, ' wait until it is resumed.'] };
    case 'release.resumed':
      return { kind: 'resumed', ringId: null, words: ['▶️ ', ...actorOf(event), ' resumed the release: ', ...rings, ' may start again.'] };
    case 'release.cancelled':
      return { kind: 'cancelled', ringId: null, words: ['🛑 ', ...actorOf(event), ' cancelled the release: ', ...rings, ' will not start.'] };
    case 'freeze.overridden':
      return { kind: 'freeze-overridden', ringId: null, words: ['⚠️ ', ...actorOf(event), ' started this release through a freeze', ...reason(str(event.data.reason)), '.'] };
    default:
      return undefined;
  }
}

/** Rings waiting for an approver: who may approve is mentioned (they are who can move it on). */
export function approvalNeeded(rings: ReadonlyArray<{ id: string; name: string }>, approvers: readonly string[]): Milestone {
  const who: Words = approvers.length ? [' from ', ...listOf(approvers.map((a) => [{ person: a, notify: true }]))] : [' from an approver'];
  return { kind: 'approval-needed', ringId: rings.length === 1 ? rings[0]!.id : null, rings, words: ['✋ ', ...names(rings), rings.length === 1 ? ' needs' : ' need', ' approval', ...who, ' before starting: Approve on the card.'] };
}

/** How a rollout ended. */
export interface RolloutOutcome {
  kind: 'release' | 'rollback';
  release: ReleaseLabel;
  requestedBy: string;
  fromChat: boolean;
  startedAt: number;
  endedAt: number;
  done: ReadonlyArray<{ name: string }>;
  failed: ReadonlyArray<{ name: string }>;
  /** Rings of the rollout that never started (held back by a failure). */
  notStarted: ReadonlyArray<{ name: string }>;
}

/**
 * The rollout is over: the person who started it is mentioned once, when it went through (a failure already
 * mentioned them).
 */
export function rolloutFinished(outcome: RolloutOutcome): Milestone {
  const took = formatDuration(outcome.endedAt - outcome.startedAt);
  if (outcome.kind === 'rollback') {
    const words: Word[] = ['↩️ The rollback is over after ', took, ': '];
    if (outcome.done.length) words.push(...names(outcome.done), outcome.done.length === 1 ? ' is' : ' are', ' back on their previous release');
    if (outcome.failed.length) words.push(outcome.done.length ? '; ' : '', ...names(outcome.failed), ' failed to roll back');
    words.push('.');
    return { kind: 'finished', ringId: null, words };
  }
  const version = releaseLabel(outcome.release);
  if (outcome.failed.length === 0 && outcome.notStarted.length === 0) {
    const who: Words = outcome.fromChat ? [{ person: outcome.requestedBy, notify: true }, ', the release of '] : ['The release of '];
    const by: Words = outcome.fromChat ? [] : [' (started by ', { person: outcome.requestedBy }, ')'];
    return { kind: 'finished', ringId: null, words: ['🎉 ', ...who, version, ...by, ` is done: ${count(outcome.done.length, 'ring')} in ${took}.`] };
  }
  const words: Word[] = ['🏁 The release of ', version, ` stopped after ${took}: ${count(outcome.done.length, 'ring')} on it`];
  if (outcome.failed.length) words.push('; ', ...names(outcome.failed), ' failed');
  if (outcome.notStarted.length) words.push('; ', ...names(outcome.notStarted), ' did not start');
  words.push('.');
  return { kind: 'finished', ringId: null, words };
}

/** A freeze that holds rings of a rollout, now or later. */
export function frozen(freeze: { by: string; reason: string; start: number; end: number }, rings: ReadonlyArray<{ id: string; name: string }>, at: number): Milestone {
  const words: Word[] =
    freeze.start <= at
      ? ['🧊 ', { person: freeze.by }, ' froze releases until ', { time: freeze.end }, ': ', { text: freeze.reason }, '. ', ...names(rings), ' hold until then.']
      : ['🧊 ', { person: freeze.by }, ' scheduled a freeze from ', { time: freeze.start }, ' to ', { time: freeze.end }, ': ', { text: freeze.reason }, '. ', ...names(rings), ' hold then.'];
  return { kind: 'frozen', ringId: null, words };
}

export function unfrozen(freeze: { by: string; reason: string }): Milestone {
  return { kind: 'unfrozen', ringId: null, words: ['🌤️ ', { person: freeze.by }, ' lifted the freeze (', { text: freeze.reason }, '): releases may go on.'] };
}

/** A direct message to an approver: what waits for them, and for whom. */
export function approvalRequest(rings: ReadonlyArray<{ name: string }>, release: ReleaseLabel, requestedBy: string): Words {
  return ['✋ ', ...names(rings), rings.length === 1 ? ' needs' : ' need', ' your approval before starting: the release of ', releaseLabel(release), ' started by ', { person: requestedBy }, '.'];
}
