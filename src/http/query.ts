import { badRequest } from '../model/errors.js';

type Query = Record<string, unknown>;

function single(query: Query, key: string): string | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`query parameter ${key} must be given once, as a plain value`);
  if (value.includes('\0')) throw badRequest(`query parameter ${key} contains a NUL character (%00): remove it`);
  return value;
}

/** Go's strconv.ParseBool, which the original used for include_deleted. */
export function parseBool(query: Query, key: string, fallback: boolean): boolean {
  const raw = single(query, key);
  if (raw === undefined || raw === '') return fallback;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw badRequest(`query parameter ${key}="${raw}" is not a boolean: use true or false`);
}

export function parseInteger(query: Query, key: string, fallback: number, min: number, max = 1_000_000): number {
  const raw = single(query, key);
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d{1,9}$/.test(raw)) throw badRequest(`query parameter ${key}="${raw}" is not a whole number`);
  const value = Number(raw);
  if (value < min || value > max) throw badRequest(`query parameter ${key}=${value} is out of range: use ${min} to ${max}`);
  return value;
}

/** The most a page holds; a larger per_page gets this many. */
export const MAX_PER_PAGE = 10_000;

/**
 * per_page as the original accepted it (Go's strconv.Atoi, so any whole number), clamped: -1 (or any negative
 * number) is every item, more than MAX_PER_PAGE is MAX_PER_PAGE. Only a value that is not a number is refused.
 */
function parsePerPage(query: Query): number {
  const raw = single(query, 'per_page');
  if (raw === undefined || raw === '') return 100;
  if (!/^[-+]?\d+$/.test(raw)) throw badRequest(`query parameter per_page="${raw}" is not a whole number: use e.g. 100, or -1 for all`);
  const value = Number(raw) || 0; // "-0" is 0
  return value < 0 ? -1 : Math.min(value, MAX_PER_PAGE);
}

/** page (default 0), per_page (default 100, -1 = all), include_deleted (default false). */
export function parsePaging(query: Query) {
  return {
    page: parseInteger(query, 'page', 0, 0),
    perPage: parsePerPage(query),
    includeDeleted: parseBool(query, 'include_deleted', false),
  };
}

export function optionalString(query: Query, key: string): string | undefined {
  const value = single(query, key);
  return value === '' ? undefined : value;
}
