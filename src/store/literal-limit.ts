import { sql, type RawBuilder } from 'kysely';

/**
 * `LIMIT n` written into the statement instead of bound as a parameter. SQLite plans `ORDER BY … LIMIT ?` without
 * knowing the limit and sorts every candidate row on each run; with the number in the SQL it keeps only the first
 * n: one ring's "first ring ahead of it" (`… ORDER BY priority, create_seq LIMIT 1`) took ~44 µs bound and ~6 µs
 * literal over 10 rings (bench/, urgent: every ring step reads it). Only a non-negative safe integer is written;
 * anything else is a bug in the caller, never user text reaching SQL.
 */
export function literalLimit(n: number): RawBuilder<number> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a LIMIT must be a non-negative integer, not ${String(n)}`);
  return sql.lit(n);
}
