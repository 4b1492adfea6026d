import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { SERVER_SETTINGS, envVarName } from '../src/config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Running more than one replica'), readme.indexOf('## Development'));

describe('README: running more than one replica', () => {
  it('exists, before Development, and names only real flags and variables', () => {
    expect(section.length).toBeGreaterThan(500);
    const flags = new Set(SERVER_SETTINGS.map((s) => s.flag));
    for (const flag of ['lease-duration', 'poll', 'db-pool-size']) expect(section).toContain(`\`--${flag}\``);
    for (const [, flag] of section.matchAll(/`--([a-z-]+)/g)) expect(flags, `--${flag}`).toContain(flag);
    const variables = new Set(SERVER_SETTINGS.map((s) => envVarName(s.flag)));
    for (const [variable] of section.matchAll(/ELROND_[A-Z_]+/g)) expect(variables, variable).toContain(variable);
  });

  it('has a 3-replica Deployment probing /healthz, with its secrets from a Secret', () => {
    const yaml = section.slice(section.indexOf('```yaml'), section.indexOf('```', section.indexOf('```yaml') + 3));
    expect(yaml).toMatch(/kind: Deployment/);
    expect(yaml).toMatch(/replicas: 3/);
    expect(yaml).toMatch(/livenessProbe:\s+httpGet: \{ path: \/healthz/);
    expect(yaml).toMatch(/readinessProbe:\s+httpGet: \{ path: \/healthz/);
    expect(yaml).toMatch(/secretRef: \{ name: elrond \}/);
    // Every secret setting in the sample comes from the Secret, never from a plain env value.
    const secretSettings = SERVER_SETTINGS.filter((s) => s.secret).map((s) => envVarName(s.flag));
    const plain = [...yaml.matchAll(/name: (ELROND_[A-Z_]+), value:/g)].map((m) => m[1]);
    for (const variable of plain) expect(secretSettings, variable).not.toContain(variable);
    expect(yaml).toMatch(/ELROND_DATABASE: postgres:\/\//);
  });
});
