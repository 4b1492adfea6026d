import type { OperationName, Operations } from '../service/operations.js';
import type { Caller } from '../service/access-policy.js';
import { SIGNED_VALUES, type CardAction } from './action-signature.js';
import { chatText } from './chat-text.js';

/** What a button's handler gets: the operations, and who clicked (proven, with the roles the policy gives). */
export interface ButtonRun {
  operations: Operations;
  caller: Caller;
  /** The reason typed in the dialog (Force, Rollback); empty for the others. */
  reason: string;
}

/** What a privileged button's dialog shows: the ring and the release it acts on. */
export interface DialogTarget {
  ringName: string;
  release: string;
  rings: string;
}

/** What a button acts on, from its verified signed value (the ring is '' for a button of the whole release). */
export interface ButtonTarget {
  rollout: string;
  ring: string;
}

/**
 * One card button: its signed value (the schema its context must match, action-signature.ts), the operation it
 * runs, what it is bound to besides its card, its dialog when privileged, and its handler. Who may is the
 * operation's guard (src/service/operations.ts): nothing here checks a permission.
 */
export interface ActionSpec<K extends CardAction> {
  value: (typeof SIGNED_VALUES)[K];
  operation: OperationName;
  /**
   * What must still hold when it runs: `ring`, the ring is still on the card's rollout (Approve on a v2 card must
   * not approve v3); `rollout`, a ring is still on it (a Cancel from a finished release must not cancel a newer
   * one); `none`, the rollout id is the operation's own input.
   */
  bound: 'ring' | 'rollout' | 'none';
  /** Privileged: a dialog opened for the clicking user first; `reason` when the dialog asks for one. */
  dialog?: { title(target: DialogTarget): string; intro(target: DialogTarget): string; submit: string; reason: boolean };
  run(run: ButtonRun, target: ButtonTarget): Promise<string>;
}

const bulkDone = (verb: string, moved: ReadonlyArray<{ name: string }>) =>
  moved.length ? `Done: ${verb} applied to ${moved.map((r) => chatText(r.name, 60)).join(', ')}.` : `Nothing to ${verb}: no ring is in a state it applies to.`;

/** Every card button, as a table (the way bolt-js registers one listener per action id). */
export const CARD_ACTIONS = {
  approve: {
    value: SIGNED_VALUES.approve,
    operation: 'approveRing',
    bound: 'ring',
    dialog: { title: (t) => `Approve ${t.ringName}`, intro: (t) => `Approve ring **${t.ringName}** in ${t.release}: it starts releasing.`, submit: 'Approve', reason: false },
    async run({ operations, caller }, value) {
      const result = await operations.invoke('approveRing', { ringId: value.ring }, caller);
      const ring = chatText(result.ring.name, 60);
      return result.already ? `Ring ${ring} was already approved by @${chatText(result.ring.approvedBy ?? '', 60)}.` : `👍 You approved ring ${ring}.`;
    },
  },
  force: {
    value: SIGNED_VALUES.force,
    operation: 'forceRing',
    bound: 'ring',
    dialog: {
      title: (t) => `Force ${t.ringName}`,
      intro: (t) => `Force ring **${t.ringName}** in ${t.release}: skips its remaining gating or soak. Say why: it is recorded.`,
      submit: 'Force',
      reason: true,
    },
    async run({ operations, caller, reason }, value) {
      const { ring } = await operations.invoke('forceRing', { ringId: value.ring, reason }, caller);
      return `⏩ Ring ${chatText(ring.name, 60)} is forced.`;
    },
  },
  retry: {
    value: SIGNED_VALUES.retry,
    operation: 'retryRingRelease',
    bound: 'ring',
    async run({ operations, caller }, value) {
      const retried = await operations.invoke('retryRingRelease', { ringId: value.ring }, caller);
      return `🔁 Ring ${chatText(retried.name, 60)} will retry its release.`;
    },
  },
  pause: {
    value: SIGNED_VALUES.pause,
    operation: 'pauseReleases',
    bound: 'rollout',
    run: async ({ operations, caller }) => bulkDone('pause', await operations.invoke('pauseReleases', {}, caller)),
  },
  resume: {
    value: SIGNED_VALUES.resume,
    operation: 'resumeReleases',
    bound: 'rollout',
    run: async ({ operations, caller }) => bulkDone('resume', await operations.invoke('resumeReleases', {}, caller)),
  },
  cancel: {
    value: SIGNED_VALUES.cancel,
    operation: 'cancelReleases',
    bound: 'rollout',
    dialog: { title: () => 'Cancel the release', intro: (t) => `Cancel ${t.release}: rings that have not started it (${t.rings}) will not.`, submit: 'Cancel release', reason: false },
    run: async ({ operations, caller }) => bulkDone('cancel', await operations.invoke('cancelReleases', {}, caller)),
  },
  rollback: {
    value: SIGNED_VALUES.rollback,
    operation: 'rollbackRollout',
    bound: 'none',
    dialog: {
      title: () => 'Roll back the release',
      intro: (t) => `Roll back ${t.release} (its rings: ${t.rings}): the rings that completed it or failed get their previous release back, without soak. Say why: it is recorded.`,
      submit: 'Roll back',
      reason: true,
    },
    async run({ operations, caller, reason }, value) {
      await operations.invoke('rollbackRollout', { rolloutId: value.rollout, reason }, caller);
      return '↩️ Rollback started.';
    },
  },
} satisfies { [K in CardAction]: ActionSpec<K> };

/** The operation each card button runs, by action (for the authorization matrix and README "Who may do what"). */
export const BUTTON_OPERATIONS = Object.fromEntries(Object.entries(CARD_ACTIONS).map(([action, spec]) => [action, spec.operation])) as { [K in CardAction]: (typeof CARD_ACTIONS)[K]['operation'] };

export const isCardAction = (action: string): action is CardAction => Object.hasOwn(CARD_ACTIONS, action);
