import { randomBytes } from 'node:crypto';

/** The original's base32 alphabet (model/id.go): no 0, l, v, 2 to avoid look-alikes. */
const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** Length of every Elrond id; routes only match ids of exactly this shape. */
export const ID_LENGTH = 26;
export const ID_PATTERN = /^[A-Za-z0-9]{26}$/;

/**
 * A new 26-character id, as the original made them: 128 random bits in base32, truncated.
 *
 * @example newId() // 'k3s8x1q9f7bqjx4d5m6n7p8r9t'
 */
export function newId(): string {
  const bytes = randomBytes(17);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < ID_LENGTH) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}
