import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
/** The layers that reach the database only through named store functions (src/store/*.ts). */
const LAYERS = ['service', 'chat', 'engine', 'http'];
const RAW_QUERY = /\.(selectFrom|updateTable|insertInto|deleteFrom)\(/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the store is the one way to the database', () => {
  it('service/, chat/, engine/ and http/ hold no raw Kysely query', () => {
    const raw = LAYERS.flatMap((layer) => sources(path.join(SRC, layer)))
      .flatMap((file) => readFileSync(file, 'utf8').split('\n').map((line, i) => ({ where: `${path.relative(SRC, file)}:${i + 1}`, line })))
      .filter(({ line }) => RAW_QUERY.test(line))
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    // A query written here is a query nobody else can find or reuse: name it in src/store/ instead.
    expect(raw).toEqual([]);
  });
});
