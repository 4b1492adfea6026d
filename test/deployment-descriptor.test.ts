import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { deploymentDescriptor } from '../src/chat/deployment-descriptor.js';
import { SERVER_SETTINGS } from '../src/config.js';

describe('plugin-manifest/elrond.json', () => {
  it('matches the settings the server really has (regenerate it when a flag changes)', () => {
    const committed = JSON.parse(readFileSync(new URL('../plugin-manifest/elrond.json', import.meta.url), 'utf8'));
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(deploymentDescriptor(pkg.version));
    expect(committed.settings_schema.settings.map((s: { flag: string }) => s.flag)).toEqual(SERVER_SETTINGS.map((s) => `--${s.flag}`));
    expect(committed.server).toBeUndefined();
  });
});
