import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a button or dialog is allowed to do, signed so a client cannot forge or replay it after expiry. */
export interface SignedAction {
  action: string;
  rollout: string;
  ring: string;
  /** The card's post id (buttons) or the clicking user's id (dialogs). */
  post: string;
  /** Expiry, ms since epoch. */
  exp: number;
}

function mac(secret: string, value: SignedAction): string {
  return createHmac('sha256', secret).update([value.action, value.rollout, value.ring, value.post, String(value.exp)].join('|')).digest('hex');
}

export function signAction(secret: string, value: SignedAction): SignedAction & { sig: string } {
  return { ...value, sig: mac(secret, value) };
}

/** `expired` carries a genuine signature that ran out: the card can be redrawn with fresh buttons. */
export type VerifyResult = { ok: true; value: SignedAction } | { ok: false; reason: string; expired?: SignedAction };

/**
 * Check a context that came back from Mattermost: every field present, the HMAC right (constant time),
 * not expired, and bound to the post it was clicked on.
 */
export function verifyAction(secret: string, context: unknown, expected: { post?: string; now: number; kind?: 'button' | 'dialog' }): VerifyResult {
  const dialog = expected.kind === 'dialog';
  const it = dialog ? 'this form' : 'this button';
  if (!context || typeof context !== 'object') return { ok: false, reason: `${it} has no signature` };
  const c = context as Record<string, unknown>;
  const value = { action: c.action, rollout: c.rollout, ring: c.ring, post: c.post, exp: c.exp };
  if (typeof value.action !== 'string' || typeof value.rollout !== 'string' || typeof value.ring !== 'string' || typeof value.post !== 'string' || typeof value.exp !== 'number' || typeof c.sig !== 'string') {
    return { ok: false, reason: `${it} is missing parts of its signature` };
  }
  const signed = value as SignedAction;
  const expectedMac = Buffer.from(mac(secret, signed));
  const received = Buffer.from(c.sig);
  if (expectedMac.length !== received.length || !timingSafeEqual(expectedMac, received)) return { ok: false, reason: `${it}'s signature is not valid` };
  if (signed.exp < expected.now) {
    return { ok: false, reason: dialog ? 'this form has expired; click the button on the card again' : 'this button has expired; use the buttons on the latest version of the card', expired: signed };
  }
  if (expected.post !== undefined && signed.post !== expected.post) return { ok: false, reason: dialog ? 'this form was opened for someone else' : 'this button belongs to another post' };
  return { ok: true, value: signed };
}
