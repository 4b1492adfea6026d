import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { SERVER_SETTINGS } from '../src/config.js';
import { COMMANDS } from '../src/commands/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('starts with the two quick-start commands (the demo), then says how to run it for real', () => {
    const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Run it for real'));
    expect(quick).toContain('npm install && npx elrond demo');
    expect(quick).toContain('npm test');
    expect(quick).toContain('http://127.0.0.1:3018');
    const real = readme.slice(readme.indexOf('## Run it for real'), readme.indexOf('## Words'));
    expect(real).toContain('npm start');
  });
  it('documents every server flag', () => {
    for (const setting of SERVER_SETTINGS) expect(readme, `--${setting.flag}`).toContain(`\`--${setting.flag}\``);
  });
  it('shows an example of every command', () => {
    for (const command of COMMANDS) expect(readme, command.path.join(' ')).toContain(`elrond ${command.path.join(' ')}`);
  });
  it('sets Mattermost up as the server behaves: membership (not post:all) for edits, Site URL, untrusted connections for buttons too', () => {
    const setup = readme.slice(readme.indexOf('### Mattermost (chat-ops)'), readme.indexOf('### Grafana'));
    // post:all grants create_post only (model/role.go): a bot relying on it could never edit its cards.
    expect(setup).not.toMatch(/post:all[^.]*(instead|alternative|or give)/i);
    expect(setup).toMatch(/edit_post[^.]*membership/);
    expect(setup).toMatch(/Site URL/);
    expect(setup).toMatch(/AllowedUntrustedInternalConnections[\s\S]*button clicks and dialog submissions/);
  });
  it('lists every deliberate difference from the Go Elrond', () => {
    const differences = readme.slice(readme.indexOf('## Differences from the Go Elrond'), readme.indexOf('## Running more than one replica'));
    for (const topic of ['--soak-time 0', 'SLO gate', 'rollbacks', 'Force', 'server start', 'authentication']) expect(differences, topic).toContain(topic);
  });
});
