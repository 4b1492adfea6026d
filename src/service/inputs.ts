import { z } from 'zod';
import { badRequest } from '../model/errors.js';

/**
 * Request bodies arrive with keys in any case (the original's Go decoder is case-insensitive), so keys are
 * lower-cased before validation. Env maps keep their keys: variable names are case-sensitive.
 */
export function lowerKeys(input: unknown, keepNested: readonly string[] = ['envvariables']): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw badRequest('the request body must be a JSON object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    const lower = key.toLowerCase();
    out[lower] =
      value && typeof value === 'object' && !Array.isArray(value) && !keepNested.includes(lower) ? lowerKeys(value, keepNested) : value;
  }
  return out;
}

/** Parse with zod and turn the first problem into a 400 that names the field and the fix. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, hints: Record<string, string> = {}): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  const hint = hints[field] ? ` (${hints[field]})` : '';
  throw badRequest(`${field}: ${issue.message}${hint}`);
}

const text = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`);
export const nonEmpty = (max = 256) => text(max).min(1, 'must not be empty');

/** Seconds; the original's soak times are seconds too. Up to 30 days. */
export const soakSeconds = z
  .number({ invalid_type_error: 'must be a number of seconds' })
  .int('must be a whole number of seconds')
  .min(0, 'must not be negative')
  .max(30 * 24 * 3600, 'must be at most 30 days (2592000 seconds)');

export const priority = z
  .number({ invalid_type_error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be 1 or more (lower numbers release first)')
  .max(1_000_000, 'must be at most 1000000');

/** A docker image name: registry/repo[:port] path, no tag. */
export const image = nonEmpty(256).regex(/^[a-z0-9][a-z0-9._/:-]*$/, 'must be a docker image name like mattermost/mattermost-enterprise-edition');
/** A docker tag. */
export const version = nonEmpty(128).regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a docker tag like 10.5.1');
export const name = nonEmpty(128);
export const provisionerGroupId = nonEmpty(64).regex(/^[A-Za-z0-9]+$/, 'must be a provisioner group id (letters and digits)');
export const reason = text(500);

export const HINTS = {
  priority: 'e.g. "priority": 1',
  image: 'e.g. "image": "mattermost/mattermost-enterprise-edition"',
  version: 'e.g. "version": "10.5.1"',
};
