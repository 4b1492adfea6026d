import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND_REFRESH_INTERVAL_MS, CommandTokens, TOKEN_RECHECK_MS } from '../src/chat/command-tokens.js';
import { tempDatabase, type TempDatabase } from './helpers/temp-database.js';

let temp: TempDatabase | undefined;
afterEach(async () => {
  await temp?.cleanup();
  temp = undefined;
});

describe('slash-command tokens shared by replicas', () => {
  it('a token another replica replaced stops working here within the recheck interval', async () => {
    temp = await tempDatabase('sqlite');
    let now = 1_000_000;
    const registering = new CommandTokens(temp.store.db, [], () => now);
    const other = new CommandTokens(temp.store.db, [], () => now);
    await registering.remember('team', 'old-token');
    expect(await other.verify('team', 'old-token')).toBe(true);
    expect(await other.verify('other-team', 'old-token')).toBe(false);

    await registering.remember('team', 'new-token'); // /elrond regenerated through the first replica
    expect(await other.verify('team', 'new-token')).toBe(true);
    expect(await other.verify('team', 'old-token')).toBe(false);

    // Even a replica that cached the old token and never saw a mismatch drops it once the interval is over.
    await registering.remember('team', 'newer-token');
    now += TOKEN_RECHECK_MS;
    expect(await registering.verify('team', 'newer-token')).toBe(true);
    const cachedOld = new CommandTokens(temp.store.db, [], () => now);
    await cachedOld.remember('team', 'newer-token');
    await registering.remember('team', 'newest-token');
    expect(await cachedOld.verify('team', 'newer-token')).toBe(true); // still inside the interval
    now += TOKEN_RECHECK_MS;
    expect(await cachedOld.verify('team', 'newer-token')).toBe(false);
    expect(await cachedOld.verify('team', 'newest-token')).toBe(true);
  });

  it('a token that matches nothing re-reads the team\'s command from Mattermost, at most every 30 s per team, and keeps the answer for every replica', async () => {
    temp = await tempDatabase('sqlite');
    let now = 1_000_000;
    const asked: string[] = [];
    let current = 'regenerated-token';
    const tokens = new CommandTokens(temp.store.db, [], () => now);
    tokens.useRefresher(async (teamId) => {
      asked.push(teamId);
      return current;
    });
    await tokens.remember('team', 'old-token');
    // A team Elrond never registered in is not asked about.
    expect(await tokens.verify('stranger', 'whatever')).toBe(false);
    expect(asked).toEqual([]);

    expect(await tokens.verify('team', 'regenerated-token')).toBe(true);
    expect(asked).toEqual(['team']);
    const otherReplica = new CommandTokens(temp.store.db, [], () => now);
    expect(await otherReplica.verify('team', 'regenerated-token')).toBe(true);
    expect(await tokens.verify('team', 'old-token')).toBe(false);

    // Wrong tokens within 30 s: no more questions, in flight or not.
    await Promise.all([tokens.verify('team', 'wrong-1'), tokens.verify('team', 'wrong-2'), tokens.verify('team', 'wrong-3')]);
    expect(asked).toEqual(['team']);
    current = 'newest-token';
    now += COMMAND_REFRESH_INTERVAL_MS;
    expect(await tokens.verify('team', 'newest-token')).toBe(true);
    expect(asked).toEqual(['team', 'team']);
  });
});
