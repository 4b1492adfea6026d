import { z } from 'zod';
import { badRequest } from '../model/errors.js';

/**
 * How a request field is spelled in messages where that differs from its name here: as the original's JSON (and
 * so the README and the Go client) spells it.
 */
const FIELD_NAMES: Record<string, string> = {
  provisionerGroupId: 'provisionerGroupID',
  envVariables: 'EnvVariables',
  ownerId: 'OwnerID',
  url: 'URL',
};

/** Parse with zod and turn the first problem into a 400 that names the field and the fix. */
export function parseInput<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, input: unknown, hints: Readonly<Record<string, string>> = {}): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  let issue = result.error.issues[0]!;
  // `x.optional().or(z.literal(''))` fails as "Invalid input": report why the main branch failed instead.
  while (issue.code === 'invalid_union') {
    const branches = issue.unionErrors.map((error) => error.issues[0]).filter((i): i is z.ZodIssue => i !== undefined);
    const next = branches.find((i) => i.code !== 'invalid_literal') ?? branches[0];
    if (!next) break;
    issue = next;
  }
  const key = issue.path.join('.') || 'body';
  const field = issue.path.map((part) => (Object.hasOwn(FIELD_NAMES, part) ? FIELD_NAMES[part]! : String(part))).join('.') || 'body';
  const hint = hints[key] ? ` (${hints[key]})` : '';
  const missing = issue.code === 'invalid_type' && issue.received === 'undefined' && issue.message === 'Required';
  throw badRequest(`${field}: ${missing ? 'is required' : issue.message}${hint}`);
}

const text = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`);
export const nonEmpty = (max = 256) => text(max).min(1, 'must not be empty');

/** Seconds; the original's soak times are seconds too. Up to 30 days. */
export const soakSeconds = z
  .number({ invalid_type_error: 'must be a number of seconds' })
  .int('must be a whole number of seconds')
  .min(0, 'must not be negative')
  .max(30 * 24 * 3600, 'must be at most 30 days (2592000 seconds)');

/** Any whole number but 0, negative included (the original's rule: "Priority cannot be zero"). */
export const priority = z
  .number({ invalid_type_error: 'must be a number' })
  .int('must be a whole number')
  .min(-1_000_000, 'must be at least -1000000')
  .max(1_000_000, 'must be at most 1000000')
  .refine((value) => value !== 0, 'must not be 0: lower numbers release first, e.g. 1 for the first ring (negative numbers go before it)');

/** A docker image name: registry/repo[:port] path, no tag. */
export const image = nonEmpty(256).regex(/^[a-z0-9][a-z0-9._/:-]*$/, 'must be a docker image name like mattermost/mattermost-enterprise-edition');
/** A docker tag. */
export const version = nonEmpty(128).regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a docker tag like 10.5.1');
export const name = nonEmpty(128);

const WHY_A_RING_NEEDS_A_NAME = 'a ring needs a name (the Go Elrond accepted none): chat commands, release cards and "why" show rings by it; e.g. "name": "canary"';
/** A new ring's name: required, and the refusal says why. */
export const ringName = z
  .string({ required_error: `is required: ${WHY_A_RING_NEEDS_A_NAME}`, invalid_type_error: 'must be a string' })
  .trim()
  .min(1, `must not be empty: ${WHY_A_RING_NEEDS_A_NAME}`)
  .max(128, 'must be at most 128 characters');
export const provisionerGroupId = nonEmpty(64).regex(/^[A-Za-z0-9]+$/, 'must be a provisioner group id (letters and digits)');
export const reason = text(500);

export const HINTS = {
  priority: 'e.g. "priority": 1',
  image: 'e.g. "image": "mattermost/mattermost-enterprise-edition"',
  version: 'e.g. "version": "10.5.1"',
};

/** The id of a stored object (ring, group, release, webhook, freeze, rollout); an unknown one is a 404 from the store. */
export const objectId = z.string().max(256);

/** page (from 0), per page (a negative number: every item), deleted ones too or not. */
export const Paging = z.object({
  page: z.number().int().min(0, 'must not be negative'),
  perPage: z.number().int(),
  includeDeleted: z.boolean(),
});
