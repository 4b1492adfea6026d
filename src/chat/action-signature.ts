import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';

const id = z.string().max(200);
const exp = z.number().int().nonnegative();

/** A card button: bound to the card's post and to the rollout the card is about. */
const cardButton = <A extends string>(action: A) => z.object({ action: z.literal(action), rollout: id, post: id, exp });
/** A card button acting on one ring of the rollout. */
const ringButton = <A extends string>(action: A) => cardButton(action).extend({ ring: id });

/** The card actions that only act after a dialog opened for the clicking user (Mattermost proves who it is). */
export const PRIVILEGED_ACTIONS = ['approve', 'force', 'cancel', 'rollback'] as const;
export type PrivilegedAction = (typeof PRIVILEGED_ACTIONS)[number];

/**
 * Every signed value a button or a dialog carries, by its `action`: each with its own fields (no field means two
 * things). The HMAC covers exactly the fields its schema names, over their canonical JSON (Mattermost sends contexts
 * back with keys re-sorted, B.6), so a field added by a client is dropped and a field changed breaks the signature.
 */
export const SIGNED_VALUES = {
  approve: ringButton('approve'),
  force: ringButton('force'),
  retry: ringButton('retry'),
  pause: cardButton('pause'),
  resume: cardButton('resume'),
  cancel: cardButton('cancel'),
  rollback: cardButton('rollback'),
  /** A plan's Start: the hash of the plan it shows (the payload travels beside it) and its ring, if one. */
  'start-plan': z.object({ action: z.literal('start-plan'), plan: id, ring: id, exp }),
  /** The release form's state: the hash of its payload and the user it was opened for. */
  'release-form': z.object({ action: z.literal('release-form'), form: id, user: id, exp }),
  /** A privileged button's dialog: what the click was (its card, rollout, ring), for whom, once (`nonce`). */
  dialog: z.object({ action: z.literal('dialog'), of: z.enum(PRIVILEGED_ACTIONS), rollout: id, ring: id, post: id, user: id, nonce: id, exp }),
} as const;

export type SignedKind = keyof typeof SIGNED_VALUES;
export type SignedValue<K extends SignedKind = SignedKind> = z.infer<(typeof SIGNED_VALUES)[K]>;
export type AnySigned = { [K in SignedKind]: SignedValue<K> }[SignedKind];

function mac(secret: string, value: AnySigned): string {
  return createHmac('sha256', secret).update(canonicalJson(value)).digest('hex');
}

export function signAction<V extends AnySigned>(secret: string, value: V): V & { sig: string } {
  return { ...value, sig: mac(secret, value) };
}

/** `expired` carries a genuine signature that ran out: the card can be redrawn with fresh buttons. */
export type VerifyResult = { ok: true; value: AnySigned } | { ok: false; reason: string; expired?: AnySigned };

/**
 * Check a context (or a dialog state) that came back from Mattermost: a known action with every field its schema
 * names, the HMAC right (constant time), not expired. What it must be bound to (post, user) the caller checks.
 */
export function verifyAction(secret: string, context: unknown, now: number, it = 'this button'): VerifyResult {
  if (!context || typeof context !== 'object') return { ok: false, reason: `${it} has no signature` };
  const raw = context as Record<string, unknown>;
  const schema = typeof raw.action === 'string' && Object.hasOwn(SIGNED_VALUES, raw.action) ? SIGNED_VALUES[raw.action as SignedKind] : undefined;
  const parsed = schema?.safeParse(raw);
  if (!parsed?.success || typeof raw.sig !== 'string') return { ok: false, reason: `${it} is missing parts of its signature` };
  const value = parsed.data as AnySigned;
  // A field the signature does not cover is refused rather than ignored: nothing unsigned rides along (a Start's
  // or a release form's payload is the exception: its hash is signed).
  if (Object.keys(raw).some((key) => key !== 'sig' && !Object.hasOwn(value, key) && !((value.action === 'start-plan' || value.action === 'release-form') && key === 'payload'))) return { ok: false, reason: `${it} carries fields Elrond did not sign` };
  const expected = Buffer.from(mac(secret, value));
  const received = Buffer.from(raw.sig);
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) return { ok: false, reason: `${it}'s signature is not valid` };
  if (value.exp < now) return { ok: false, reason: `${it} has expired`, expired: value };
  return { ok: true, value };
}

export const CARD_ACTION_NAMES = ['approve', 'force', 'retry', 'pause', 'resume', 'cancel', 'rollback'] as const;
export type CardAction = (typeof CARD_ACTION_NAMES)[number];
export type CardValue = SignedValue<CardAction>;
/** A card button's value (bound to a card post and a rollout), not a Start, form or dialog state. */
export const isCardValue = (value: AnySigned): value is CardValue => (CARD_ACTION_NAMES as readonly string[]).includes(value.action);

/** Privileged buttons are good for an hour (then a click redraws the card); the others for `ttlMs` (a day). */
export const PRIVILEGED_BUTTON_TTL_MS = 3600_000;

export const isPrivileged = (action: string): action is PrivilegedAction => (PRIVILEGED_ACTIONS as readonly string[]).includes(action);

/** The signed context of one button on a card: the fields its action takes, bound to the card's post and rollout. */
export function cardButtonContext(secret: string, button: { action: CardAction; ring: string }, card: { rollout: string; post: string }, now: number, ttlMs: number) {
  const exp = now + (isPrivileged(button.action) ? Math.min(ttlMs, PRIVILEGED_BUTTON_TTL_MS) : ttlMs);
  const base = { rollout: card.rollout, post: card.post, exp };
  switch (button.action) {
    case 'approve':
    case 'force':
    case 'retry':
      return signAction(secret, { action: button.action, ring: button.ring, ...base });
    default:
      return signAction(secret, { action: button.action, ...base });
  }
}
