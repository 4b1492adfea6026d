import { describe, it, expect, afterEach } from 'vitest';
import pino from 'pino';
import { FakeMattermost } from './fakes/fake-mattermost.js';
import { createMattermostApi } from '../src/chat/mattermost-client.js';
import { ChatRoles } from '../src/chat/chat-roles.js';
import { TEST_DIALECTS, tempDatabase, type TempDatabase } from './helpers/temp-database.js';

/** Issue 13 item 4: the names in --admins/--releasers/--approvers become Mattermost user ids, and stay with the person. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(kind: 'sqlite' | 'postgres') {
  const mm = new FakeMattermost({ now: () => Date.UTC(2026, 10, 25, 12) });
  const url = await mm.start();
  cleanups.push(() => mm.stop());
  const bot = mm.addBot({ username: 'elrond-bot' });
  const database: TempDatabase = await tempDatabase(kind);
  cleanups.push(() => database.cleanup());
  const api = createMattermostApi({ url, token: bot.token });
  /** A replica starting with these flags: its roles, and what it logged. */
  const start = async (names: { admins: string[]; releasers: string[]; approvers: string[] }) => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const roles = new ChatRoles({ api, db: database.store.db, log, names });
    await roles.start();
    cleanups.push(async () => roles.stop());
    return { roles, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
  };
  return { mm, start };
}

describe.each(TEST_DIALECTS)('chat roles by user id (%s)', (kind) => {
  it('resolves names at start; a name nobody has is a warning and grants nothing', async () => {
    const { mm, start } = await setup(kind);
    const alice = mm.addUser({ username: 'alice' }).id;
    const dave = mm.addUser({ username: 'dave' }).id;
    const { roles, warnings } = await start({ admins: ['@Alice'], releasers: ['dave'], approvers: ['nobody'] });
    expect([...roles.current().admins]).toEqual([alice]);
    expect([...roles.current().releasers]).toEqual([dave]);
    expect([...roles.current().approvers]).toEqual([]);
    expect(warnings()).toEqual(['@nobody is listed in --approvers but no Mattermost user has that name: it grants nothing']);
  });

  it('a renamed user keeps the role; a newcomer taking the name does not get it, even after a restart', async () => {
    const { mm, start } = await setup(kind);
    const bob = mm.addUser({ username: 'bob' }).id;
    const names = { admins: [], releasers: [], approvers: ['bob'] };
    const first = await start(names);
    expect([...first.roles.current().approvers]).toEqual([bob]);
    mm.renameUser(bob, 'robert');
    const newcomer = mm.addUser({ username: 'bob' }).id;
    await first.roles.refresh();
    expect([...first.roles.current().approvers]).toEqual([bob]);
    expect(first.warnings().some((w) => /@bob now names another Mattermost user/.test(w))).toBe(true);
    // Another replica, or this one restarted: the first user the name resolved to is in the database.
    const restarted = await start(names);
    expect([...restarted.roles.current().approvers]).toEqual([bob]);
    expect(restarted.roles.current().approvers.has(newcomer)).toBe(false);
    // Dropping the name for one start hands it over.
    await start({ admins: [], releasers: [], approvers: [] });
    const handedOver = await start(names);
    expect([...handedOver.roles.current().approvers]).toEqual([newcomer]);
  });
});
