import type { Ring } from '../model/ring.js';
import { notFound } from '../model/errors.js';

/**
 * The rings a release request names (`rings`, Elrond's addition to an all-rings release), in release order;
 * every ring when it names none. An id that is not a live ring is a 404 naming it.
 */
export function selectRings(all: readonly Ring[], ids: readonly string[] | undefined): Ring[] {
  if (!ids || ids.length === 0) return [...all];
  const wanted = new Set(ids);
  const unknown = [...wanted].filter((id) => !all.some((ring) => ring.id === id));
  if (unknown.length > 0) throw notFound(`no ring with id ${unknown.join(', ')}: list rings with "elrond ring list"`);
  return all.filter((ring) => wanted.has(ring.id));
}

