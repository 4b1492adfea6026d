import { timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of a presented secret with the expected one. */
export function secretsMatch(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}
