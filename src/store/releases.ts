import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { flag, releaseRowToRelease } from './rows.js';
import type { Release } from '../model/ring.js';
import { canonicalEnv } from '../model/env-vars.js';
import type { ReleaseSpec } from '../model/release-target.js';
import { newId } from '../model/ids.js';
import { notFound } from '../model/errors.js';

/**
 * The release with exactly these four fields, created if new. A unique index makes this safe when two
 * requests race (the original deduplicated in code only).
 */
export async function getOrCreateRelease(db: Kysely<Database>, spec: ReleaseSpec, now: number): Promise<Release> {
  const env = canonicalEnv(spec.envVariables);
  const identity = { image: spec.image, version: spec.version, force: flag(spec.force), env_key: env ?? '' };
  const find = () =>
    db
      .selectFrom('releases')
      .selectAll()
      .where('image', '=', identity.image)
      .where('version', '=', identity.version)
      .where('force', '=', identity.force)
      .where('env_key', '=', identity.env_key)
      .executeTakeFirst();
  const existing = await find();
  if (existing) return releaseRowToRelease(existing);
  await db
    .insertInto('releases')
    .values({ id: newId(), ...identity, env_variables: env, create_at: now })
    .onConflict((oc) => oc.columns(['image', 'version', 'force', 'env_key']).doNothing())
    .execute();
  return releaseRowToRelease((await find())!);
}

/**
 * Releases are never changed nor deleted once written, so what was read once is kept (frozen: callers share it):
 * a step reads its release two or three times (bench/, urgent). Bounded; ids are random, so a row read from a
 * transaction that rolled back can only sit here unused.
 */
const known = new Map<string, Release>();
const KNOWN_LIMIT = 1_000;

function remember(release: Release): Release {
  if (known.size >= KNOWN_LIMIT) known.delete(known.keys().next().value!);
  if (release.envVariables) for (const value of Object.values(release.envVariables)) Object.freeze(value);
  Object.freeze(release.envVariables);
  known.set(release.id, Object.freeze(release));
  return release;
}

export async function findRelease(db: Kysely<Database>, id: string): Promise<Release | undefined> {
  const cached = known.get(id);
  if (cached) return cached;
  const row = await db.selectFrom('releases').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? remember(releaseRowToRelease(row)) : undefined;
}

export async function getRelease(db: Kysely<Database>, id: string): Promise<Release> {
  const release = await findRelease(db, id);
  if (!release) throw notFound(`release ${id} not found: "elrond ring get --ring RING" shows a ring's release ids`);
  return release;
}

export async function releasesById(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, Release>> {
  const map = new Map<string, Release>();
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const cached = known.get(id);
    if (cached) map.set(id, cached);
    else missing.push(id);
  }
  for (let i = 0; i < missing.length; i += 500) {
    const rows = await db.selectFrom('releases').selectAll().where('id', 'in', missing.slice(i, i + 500)).execute();
    for (const row of rows) map.set(row.id, remember(releaseRowToRelease(row)));
  }
  return map;
}
