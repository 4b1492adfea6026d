import { describe, it, expect } from 'vitest';
import { decideRing, type RingView } from '../src/model/ring-decision.js';
import { releaseGates } from '../src/model/gates.js';
import { sloRetryDelayMs } from '../src/model/slo-gate.js';
import { envChangesApply, envPatch, mergeEnv, parseEnvVariableFlag, diffEnv, displayEnvValue, canonicalEnv } from '../src/model/env-vars.js';
import { quantityNanos, sameValueFrom } from '../src/model/env-var-source.js';
import { describeRolloutBlock } from '../src/model/group-decision.js';
import { RING_REQUEST_TRANSITIONS, canRequestRingState, type RingState } from '../src/model/ring-states.js';
import { parseDatabaseUrl } from '../src/store/connect.js';
import { newId, isId } from '../src/model/ids.js';
import type { InstallationGroup, Release, Ring } from '../src/model/ring.js';

const NOW = Date.UTC(2026, 10, 25, 12);
const release = (force = false): Release => ({ id: 'rel2', image: 'img', version: 'v2', envVariables: null, force, createAt: 0 });

function ring(partial: Partial<Ring>): Ring {
  return {
    id: 'r1', name: 'ring-1', state: 'stable', priority: 1, createSeq: 1, soakTime: 60, provisioner: 'elrond', activeReleaseId: 'rel1', desiredReleaseId: 'rel2',
    previousReleaseId: null, rolloutId: 'ro', releaseAt: 0, createAt: 0, deleteAt: 0, apiSecurityLock: false, rollingBack: false, soakUntil: null, nextCheckAt: 0,
    statusMessage: '', failureReason: null, lockedBy: null, lockedAt: 0, lockedUntil: 0, approvalRequired: false, approvedBy: null, approvedAt: null, forceRequestedBy: null,
    sloFailures: 0, sloError: null, sloHealthyAt: null,
    ...partial,
  };
}

function group(partial: Partial<InstallationGroup>): InstallationGroup {
  return {
    id: 'g1', name: 'g1', state: 'stable', soakTime: 0, provisionerGroupId: 'p1', releaseAt: 0, createAt: 0, releaseId: 'rel2', phase: null, rolloutStartedAt: null, soakUntil: null,
    nextCheckAt: 0, attempts: 0, statusMessage: '', failureReason: null, lastStatus: null, lockedBy: null, lockedAt: 0, lockedUntil: 0,
    ...partial,
  };
}

const view = (r: Ring, extra: Partial<RingView> = {}): RingView => ({ ring: r, groups: [], release: release(), rings: [r], now: NOW, maxParallelGroups: 1, ...extra });

describe('decideRing: one step per state (table)', () => {
  const cases: Array<[string, RingView, string, string?]> = [
    ['creation completes', view(ring({ state: 'creation-requested' })), 'transition', 'stable'],
    ['deletion completes', view(ring({ state: 'deletion-requested' })), 'delete'],
    ['pending starts when nothing is ahead', view(ring({ state: 'release-pending' })), 'start', 'release-requested'],
    ['pending waits for a ring mid-release', view(ring({ state: 'release-pending', id: 'r2', priority: 2 }), { rings: [ring({ state: 'release-pending', id: 'r2', priority: 2 }), ring({ state: 'soaking-requested' })] }), 'wait'],
    ['pending waits for an earlier pending ring', view(ring({ state: 'release-pending', id: 'r2', priority: 2 }), { rings: [ring({ state: 'release-pending' }), ring({ state: 'release-pending', id: 'r2', priority: 2 })] }), 'wait'],
    ['equal priority: the older ring goes first', view(ring({ state: 'release-pending', id: 'r2', createSeq: 2 }), { rings: [ring({ state: 'release-pending' }), ring({ state: 'release-pending', id: 'r2', createSeq: 2 })] }), 'wait'],
    ['forced release skips ordering', view(ring({ state: 'release-pending', id: 'r2', priority: 2 }), { release: release(true), rings: [ring({ state: 'soaking-requested' }), ring({ state: 'release-pending', id: 'r2', priority: 2 })] }), 'start'],
    ['paused ring waits', view(ring({ state: 'release-paused' })), 'wait'],
    ['approval required and not given', view(ring({ state: 'release-pending', approvalRequired: true })), 'wait'],
    ['in progress: start the next group', view(ring({ state: 'release-in-progress' }), { groups: [group({ state: 'release-pending' })] }), 'start-groups'],
    ['in progress: a group rolling, wait', view(ring({ state: 'release-in-progress' }), { groups: [group({ state: 'release-requested' }), group({ id: 'g2', state: 'release-pending' })] }), 'wait'],
    ['in progress: two slots with max 2', view(ring({ state: 'release-in-progress' }), { maxParallelGroups: 2, groups: [group({ state: 'release-pending' }), group({ id: 'g2', state: 'release-pending' })] }), 'start-groups'],
    ['in progress: a failed group fails the ring', view(ring({ state: 'release-in-progress' }), { groups: [group({ state: 'release-failed', failureReason: 'x' })] }), 'fail', 'release-failed'],
    ['in progress: all done, soak', view(ring({ state: 'release-in-progress' }), { groups: [group({})] }), 'soak'],
    ['in progress: all done, forced: complete', view(ring({ state: 'release-in-progress' }), { groups: [group({})], release: release(true) }), 'complete', 'stable'],
    ['soaking before the deadline waits', view(ring({ state: 'soaking-requested', soakUntil: NOW + 1 })), 'wait'],
    ['soaking at the deadline completes', view(ring({ state: 'soaking-requested', soakUntil: NOW })), 'complete', 'stable'],
    ['soaking, forced by an admin: complete', view(ring({ state: 'soaking-requested', soakUntil: NOW + 9999, forceRequestedBy: 'alice' })), 'complete', 'stable'],
    ['rollback waits for a later ring rolling back', view(ring({ state: 'release-rollback-requested' }), { rings: [ring({ state: 'release-rollback-requested' }), ring({ id: 'r2', priority: 2, state: 'release-rollback-requested' })] }), 'wait'],
    ['rollback rolled: complete', view(ring({ state: 'release-rollback-requested', rollingBack: true }), { groups: [group({})] }), 'complete', 'release-rollback-complete'],
  ];
  for (const [name, input, kind, to] of cases) {
    it(name, () => {
      const decision = decideRing(input, { slo: false });
      expect(decision.kind).toBe(kind);
      if (to) expect((decision as { to?: string }).to).toBe(to);
      if (decision.kind === 'wait') expect(decision.message.length).toBeGreaterThan(5);
    });
  }

  it('a freeze holds a pending ring even when forced, and names who and why', () => {
    const freeze = { freeze: { id: 'f', ringIds: [], startAt: NOW, endAt: NOW + 1000, cron: null, durationMs: null, timezone: 'UTC', reason: 'holidays', author: 'dana', createAt: 0 }, until: NOW + 1000 };
    const gates = releaseGates(ring({ state: 'release-pending' }), release(true), [], [], freeze);
    expect(gates.map((g) => g.kind)).toEqual(['freeze']);
    const decision = decideRing(view(ring({ state: 'release-pending' }), { freeze }), { slo: false });
    expect(decision).toMatchObject({ kind: 'wait', until: NOW + 1000 });
  });
});

describe('decideRing with an SLO gate', () => {
  const soaking = (partial: Partial<Ring>) => view(ring({ state: 'soaking-requested', soakUntil: NOW, statusMessage: 'soaking; SLO check failed once', ...partial }));

  it('at or past the soak end, never completes by itself: the SLO is checked first', () => {
    expect(decideRing(soaking({ nextCheckAt: NOW }), { slo: true })).toMatchObject({ kind: 'check-slo', until: NOW });
    expect(decideRing(soaking({ nextCheckAt: NOW - 3600_000, soakUntil: NOW - 7200_000 }), { slo: true }).kind).toBe('check-slo');
  });

  it('between checks (a retry backoff), waits as stored, even past the soak end', () => {
    expect(decideRing(soaking({ nextCheckAt: NOW + 5000, soakUntil: NOW - 1 }), { slo: true })).toEqual({ kind: 'wait', until: NOW + 5000, message: 'soaking; SLO check failed once' });
  });

  it('Force still ends the soak at once', () => {
    expect(decideRing(soaking({ nextCheckAt: NOW + 5000, forceRequestedBy: 'alice' }), { slo: true })).toMatchObject({ kind: 'complete', to: 'stable' });
  });

  it('retries back off from 5 s, doubling, to 5 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(sloRetryDelayMs)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });
});

describe('request transitions', () => {
  it('follow the original table plus rollback and rollback-complete as a resting state', () => {
    expect(canRequestRingState('stable', 'release-pending')).toBe(true);
    expect(canRequestRingState('release-in-progress', 'release-pending')).toBe(false);
    expect(canRequestRingState('release-rollback-complete', 'release-pending')).toBe(true);
    expect(canRequestRingState('release-failed', 'release-rollback-requested')).toBe(true);
    for (const [to, froms] of Object.entries(RING_REQUEST_TRANSITIONS)) for (const from of froms) expect(canRequestRingState(from as RingState, to as keyof typeof RING_REQUEST_TRANSITIONS)).toBe(true);
  });
});

describe('env variables', () => {
  it('split flags on the first colon; NAME: deletes', () => {
    expect(parseEnvVariableFlag('MM_URL:https://x:8065')).toEqual(['MM_URL', { value: 'https://x:8065' }]);
    expect(parseEnvVariableFlag('MM_OLD:')).toEqual(['MM_OLD', { value: '' }]);
    expect(() => parseEnvVariableFlag('NOCOLON')).toThrow(/NAME:VALUE/);
    expect(() => parseEnvVariableFlag(':x')).toThrow(/NAME:VALUE/);
  });
  it('merge like the provisioner: add, replace, delete, keep the rest; valueFrom compared', () => {
    const group = { A: { value: '1' }, B: { value: '2' }, S: { valueFrom: { secretKeyRef: { name: 's', key: 'k' } } } };
    expect(mergeEnv(group, { A: { value: '9' }, B: { value: '' }, C: { value: '3' } })).toEqual({ A: { value: '9' }, S: group.S, C: { value: '3' } });
    expect(envChangesApply(group, { A: { value: '1' } })).toBe(false);
    expect(envChangesApply(group, { S: { valueFrom: { secretKeyRef: { name: 's', key: 'other' } } } })).toBe(true);
    expect(envChangesApply(group, { Z: { value: '' } })).toBe(false);
    expect(canonicalEnv({ B: { value: '1' }, A: { value: '2' } })).toBe('{"A":{"value":"2"},"B":{"value":"1"}}');
    expect(canonicalEnv({})).toBeNull();
  });
  it('the PUT patch: only entries that change something, deletions only of names the group has, null when none', () => {
    const group = { A: { value: '1' }, S: { valueFrom: { secretKeyRef: { name: 's', key: 'k' } } } };
    expect(envPatch(null, { GONE: { value: '' }, NEW: { value: 'n' } })).toEqual({ NEW: { value: 'n' } });
    expect(envPatch(null, { GONE: { value: '' } })).toBeNull();
    expect(envPatch({}, { GONE: {} })).toBeNull();
    expect(envPatch(group, { A: { value: '' }, Z: { value: '' } })).toEqual({ A: { value: '' } });
    expect(envPatch(group, { A: { value: '1' }, S: { valueFrom: { secretKeyRef: { key: 'k', name: 's' } } } })).toBeNull();
    expect(envPatch(group, { A: { value: '2' }, S: group.S })).toEqual({ A: { value: '2' } });
    expect(envPatch(group, null)).toBeNull();
    expect(envPatch({ B: {} }, { B: { value: '' } })).toEqual({ B: { value: '' } }); // a blank entry left by someone else
  });
  it('valueFrom compared by meaning: Go field order, defaults, case, quantities; unknown fields still differ', () => {
    const same = (a: unknown, b: unknown) => expect(sameValueFrom(a, b)).toBe(true);
    const differ = (a: unknown, b: unknown) => expect(sameValueFrom(a, b)).toBe(false);
    same({ secretKeyRef: { key: 'k', name: 's' } }, { secretKeyRef: { name: 's', key: 'k' } });
    same({ secretKeyRef: { name: 's', key: 'k', optional: false } }, { secretKeyRef: { name: 's', key: 'k' } });
    same({ SecretKeyRef: { Name: 's', KEY: 'k' } }, { secretKeyRef: { name: 's', key: 'k' } });
    same({ secretKeyRef: { name: 's', key: 'k' }, fieldRef: null }, { secretKeyRef: { name: 's', key: 'k' } });
    same({ resourceFieldRef: { resource: 'limits.memory' } }, { resourceFieldRef: { resource: 'limits.memory', divisor: '0' } });
    same({ resourceFieldRef: { resource: 'limits.memory', divisor: '1' } }, { resourceFieldRef: { resource: 'limits.memory', divisor: '0' } });
    same({ resourceFieldRef: { resource: 'limits.memory', divisor: '1024Ki' } }, { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } });
    same({ resourceFieldRef: { resource: 'limits.cpu', divisor: '1000m' } }, { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } });
    same({ fieldRef: { fieldPath: 'metadata.name' } }, { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
    differ({ secretKeyRef: { name: 's', key: 'k' } }, { secretKeyRef: { name: 's', key: 'k', optional: true } });
    differ({ secretKeyRef: { name: 's', key: 'k' } }, { configMapKeyRef: { name: 's', key: 'k' } });
    differ({ resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } }, { resourceFieldRef: { resource: 'limits.memory', divisor: '1M' } });
    differ({ fileKeyRef: { path: 'p' } }, {});
    differ({ secretKeyRef: { name: 's', key: 'k' } }, undefined);
    expect(quantityNanos('1.5Gi')).toBe(1_610_612_736n * 10n ** 9n);
    expect(quantityNanos('0.1234567891')).toBe(123_456_790n);
    expect(quantityNanos('-500m')).toBe(-500_000_000n);
    expect(quantityNanos('1e-3')).toBe(1_000_000n);
    expect(quantityNanos('1K')).toBeNull();
  });
  it('a group with MaxRolling 0 and installations awaiting update is blocked, with what to do', () => {
    const status = { InstallationsTotal: 2, InstallationsUpdated: 0, InstallationsUpdating: 0, InstallationsHibernating: 0, InstallationsPendingDeletion: 0, InstallationsAwaitingUpdate: 2 };
    expect(describeRolloutBlock({ ID: 'g', MaxRolling: 0 }, status)).toMatch(/MaxRolling 0.*cloud group update --group g --max-rolling 1/);
    expect(describeRolloutBlock({ ID: 'g', MaxRolling: 1 }, status)).toBeNull();
    expect(describeRolloutBlock({ ID: 'g', MaxRolling: 0 }, { ...status, InstallationsUpdated: 2, InstallationsAwaitingUpdate: 0 })).toBeNull();
  });
  it('redact secret-looking values in what people see', () => {
    expect(displayEnvValue('MM_SQLSETTINGS_PASSWORD', { value: 'x' })).toBe('••••••');
    expect(displayEnvValue('MM_FLAG', { value: 'on' })).toBe('on');
    expect(diffEnv({ A: { value: '1' } }, { A: { value: '2' }, B: { value: '' } })).toEqual({ added: {}, changed: { A: { from: { value: '1' }, to: { value: '2' } } }, deleted: [] });
  });
});

describe('ids and database URLs', () => {
  it('ids are 26 characters of the original alphabet', () => {
    for (let i = 0; i < 50; i++) expect(isId(newId())).toBe(true);
    expect(newId()).toMatch(/^[ybndrfg8ejkmcpqxot1uwisza345h769]{26}$/);
  });
  it('parse every documented form and refuse others with the forms to use', () => {
    expect(parseDatabaseUrl('sqlite://elrond.db')).toEqual({ kind: 'sqlite', file: `${process.cwd()}/elrond.db` });
    expect(parseDatabaseUrl('sqlite:///var/lib/elrond/e.db')).toEqual({ kind: 'sqlite', file: '/var/lib/elrond/e.db' });
    expect(parseDatabaseUrl('sqlite://:memory:')).toEqual({ kind: 'sqlite', file: ':memory:' });
    expect(parseDatabaseUrl('postgres://u@h:5432/d')).toEqual({ kind: 'postgres', url: 'postgres://u@h:5432/d' });
    expect(() => parseDatabaseUrl('mysql://u:secret@h/d')).toThrow(/sqlite:\/\/file.db.*postgres:\/\//);
    expect(() => parseDatabaseUrl('mysql://u:secret@h/d')).not.toThrow(/secret/);
  });
});
