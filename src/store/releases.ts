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

export async function findRelease(db: Kysely<Database>, id: string): Promise<Release | undefined> {
  const row = await db.selectFrom('releases').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? releaseRowToRelease(row) : undefined;
}

export async function getRelease(db: Kysely<Database>, id: string): Promise<Release> {
  const release = await findRelease(db, id);
  if (!release) throw notFound(`release ${id} not found: "elrond ring get --ring RING" shows a ring's release ids`);
  return release;
}

export async function releasesById(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, Release>> {
  const unique = [...new Set(ids)];
  const map = new Map<string, Release>();
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db.selectFrom('releases').selectAll().where('id', 'in', unique.slice(i, i + 500)).execute();
    for (const row of rows) map.set(row.id, releaseRowToRelease(row));
  }
  return map;
}
