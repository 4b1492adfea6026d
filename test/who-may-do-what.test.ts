import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { whoMayDoWhat } from './helpers/who-may-do-what.js';

const README = new URL('../README.md', import.meta.url);
const START = '<!-- who-may-do-what: generated from src/service/operations.ts by test/who-may-do-what.test.ts -->';
const END = '<!-- /who-may-do-what -->';

/**
 * README "Who may do what" is the operation table: each operation, its REST routes, commands and buttons, and the
 * role (and rule) its guard names. Run with ELROND_UPDATE_README=1 to rewrite the section from the table.
 */
describe('README "Who may do what"', () => {
  it('is the operation table', () => {
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, 'README has the generated section markers').toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const expected = `${START}\n${whoMayDoWhat()}\n${END}`;
    if (process.env.ELROND_UPDATE_README === '1') writeFileSync(README, readme.slice(0, start) + expected + readme.slice(end + END.length));
    else expect(readme.slice(start, end + END.length), 'README differs from the table: run ELROND_UPDATE_README=1 npx vitest run test/who-may-do-what.test.ts').toBe(expected);
  });
});
