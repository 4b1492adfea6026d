/**
 * `resource.Quantity` as the provisioner's Go code decodes and re-encodes it (k8s.io/apimachinery v0.33.1,
 * the version in mattermost-cloud's go.mod, `pkg/api/resource/quantity.go`): the JSON that comes back for a
 * `resourceFieldRef.divisor` is the quantity's canonical string, not what was sent ("1000m" → "1").
 */
import { HttpStatusError } from './types.js';

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exp]) => [exp, suffix]));
const BINARY_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([suffix, exp]) => [exp / 10, suffix]));
const MAX_INT64 = 2n ** 63n - 1n;
const NANO = 10n ** 9n;

function formatWrong(text: string): never {
  throw new HttpStatusError(400, `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(text)}`);
}

/** `suffixHandler.interpret`: a decimal SI, binary SI or `e<exp>` suffix. */
function interpretSuffix(suffix: string, text: string): { base: 10 | 2; exponent: number; format: Format } {
  if (Object.hasOwn(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix]!, format: 'DecimalSI' };
  if (Object.hasOwn(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: BINARY_SUFFIXES[suffix]!, format: 'BinarySI' };
  if (/^[eE][+-]?\d+$/.test(suffix)) return { base: 10, exponent: Number(suffix.slice(1)), format: 'DecimalExponent' };
  throw new HttpStatusError(400, `unable to parse quantity's suffix: ${JSON.stringify(text)}`);
}

/** Removes every factor `base` from `value`: `removeInt64Factors` / `removeBigIntFactors`. */
function removeFactors(value: bigint, base: bigint): { amount: bigint; times: number } {
  let amount = value;
  let times = 0;
  while (amount !== 0n && amount % base === 0n) {
    amount /= base;
    times++;
  }
  return { amount, times };
}

/** `AsCanonicalBytes` for a value of `nanos` × 10⁻⁹: mantissa with an exponent that is a multiple of 3. */
function canonicalDecimal(nanos: bigint): { number: string; exponent: number } {
  const { amount, times } = removeFactors(nanos, 10n);
  let mantissa = amount;
  let exponent = times - 9;
  while (exponent % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  return { number: mantissa.toString(), exponent };
}

/**
 * `ParseQuantity` then `MarshalJSON`: the string Go writes back for `text`. A string Go already holds in
 * canonical form is kept as sent (the `s` cache of ParseQuantity's fast path), anything else is
 * canonicalized (`CanonicalizeBytes`). Throws a 400 where ParseQuantity fails, as the decode does.
 */
export function reencodeQuantity(text: string): string {
  if (text === '') formatWrong(text);
  if (text === '0') return '0';
  // parseQuantityString: sign, numerator (leading zeros stripped), optional denominator, suffix.
  const match = /^([+-]?)0*(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[-+]?\d*)$/.exec(text);
  if (!match) formatWrong(text);
  const [, sign = '', rawNum = '', denom = '', suffix = ''] = match;
  const num = rawNum === '' ? '0' : rawNum;
  const { base, exponent, format: parsedFormat } = interpretSuffix(suffix, text);
  const negative = sign === '-';
  const shifted = num + denom;

  // The fast path keeps the caller's string when it is already canonical.
  if (parsedFormat === 'BinarySI') {
    const precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    if (denom === '' && precision >= 0) {
      const value = BigInt(num);
      if (value * 2n ** BigInt(exponent) <= MAX_INT64 && exponent % 10 === 0 && (value & 7n) !== 0n) return text;
    }
  } else {
    const precision = 18 - shifted.length;
    const scale = exponent - denom.length;
    if (precision >= 0 && scale >= -9 && BigInt(shifted) <= MAX_INT64) {
      if (scale % 3 === 0 && !shifted.endsWith('000') && !shifted.startsWith('0')) return text;
    }
  }

  // Exact value as a fraction, then rounded away from zero to nano precision (inf.RoundUp).
  let numerator = BigInt(shifted) * NANO;
  let denominator = 10n ** BigInt(denom.length);
  if (base === 10) {
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  } else {
    numerator *= 2n ** BigInt(exponent);
  }
  let nanos = numerator / denominator;
  if (numerator % denominator !== 0n) nanos += 1n;
  if (nanos === 0n) return '0';
  if (negative) nanos = -nanos;

  let format = parsedFormat;
  // ParseQuantity turns a binary quantity below 1 into a decimal one; CanonicalizeBytes writes BinarySI only
  // for whole numbers of magnitude 1024 or more (the first rule is contained in the second).
  if (format === 'BinarySI' && ((nanos > -1024n * NANO && nanos < 1024n * NANO) || nanos % NANO !== 0n)) format = 'DecimalSI';

  if (format === 'BinarySI') {
    const { amount, times } = removeFactors(nanos / NANO, 1024n);
    // No binary suffix for 2^0 (or past Ei): Go writes the bare number.
    return `${amount}${BINARY_BY_EXPONENT.get(times) ?? ''}`;
  }
  const { number, exponent: exp } = canonicalDecimal(nanos);
  if (format === 'DecimalExponent') return exp === 0 ? number : `${number}e${exp}`;
  // An exponent with no SI suffix (past E) gets none: Go's constructBytes fails and its result is ignored.
  return `${number}${DECIMAL_BY_EXPONENT.get(exp) ?? ''}`;
}
