import { describe, it, expect } from 'vitest';
import { dialogTitle, interventionDialog } from '../src/chat/intervention-dialog.js';
import { dialogProblems } from './fakes/mattermost/dialog-validation.js';

describe('Force and Rollback dialogs', () => {
  it('name the ring and the release, and stay valid for Mattermost (title at most 24 bytes) whatever the ring is called', () => {
    const rollout = { release: 'mattermost/mattermost-enterprise-edition:v10.5.1', rings: ['canary', 'production-eu-west-1-large-tenants'] };
    for (const ringName of ['canary', 'production-eu-west-1-large-tenants', 'ürün-çalışma-ortamı-öncelikli']) {
      const force = interventionDialog('force', { ringName, rollout }, 'state');
      expect(dialogProblems(force)).toEqual([]);
      expect(Buffer.byteLength(String(force.title))).toBeLessThanOrEqual(24);
      expect(force.introduction_text).toContain(`**${ringName}**`);
      expect(force.introduction_text).toContain(rollout.release);
    }
    expect(dialogTitle('Force production-eu-west-1-large-tenants')).toBe('Force production-eu-w…');
    const rollback = interventionDialog('rollback', { ringName: '', rollout }, 'state');
    expect(dialogProblems(rollback)).toEqual([]);
    expect(rollback.introduction_text).toMatch(/the release of mattermost\/mattermost-enterprise-edition:v10\.5\.1 \(its rings: canary, production-eu-west-1-large-tenants\)/);
  });
});
