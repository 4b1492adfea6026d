import type { Kysely } from 'kysely';
import type { Database, EventRow, OutboxRow } from '../store/schema.js';
import type { EventSink, OutboxItem } from '../store/event-log.js';
import type { Deliverer } from '../engine/outbox-worker.js';
import { findRelease } from '../store/releases.js';
import { findRollout } from '../store/rollouts.js';
import { getSetting, setSettingIfAbsent } from '../store/system.js';
import { safeRequest } from './safe-http.js';

interface AnnotationOp {
  op: 'start' | 'end';
  /** Identifies the region: a group's rollout of a release, or a ring's release. */
  key: string;
  time: number;
  text: string;
  tags: string[];
}

const RING_END_STATES = ['stable', 'release-failed', 'soaking-failed', 'release-rollback-complete', 'release-rollback-failed'];
const GROUP_END_STATES = ['stable', 'release-failed', 'soaking-failed'];

function dataOf(event: EventRow): Record<string, unknown> {
  return event.data ? (JSON.parse(event.data) as Record<string, unknown>) : {};
}

/**
 * A region annotation per group rollout and per ring release, in every Grafana org (one token each): POST when
 * it starts, PATCH timeEnd when it ends. Delivered from the outbox, so Grafana being down never fails a release.
 */
export function grafanaSink(tokenCount: number): EventSink {
  return {
    name: 'grafana',
    async plan(db: Kysely<Database>, event: EventRow): Promise<OutboxItem[]> {
      if (tokenCount === 0) return [];
      const data = dataOf(event);
      let op: AnnotationOp | undefined;
      if (event.kind === 'group.state' && event.installation_group_id) {
        const releaseId = String(data.releaseId ?? '');
        const release = await findRelease(db, releaseId);
        // Per rollout too: a retried release of the same release is a new rollout with its own region.
        const key = `group:${event.installation_group_id}:${event.rollout_id ?? ''}:${releaseId}`;
        const tags = ['elrond', `ring:${String(data.ringName ?? '')}`, `installation-group:${String(data.provisionerGroupId ?? '')}`, `image:${release?.image ?? ''}`, `version:${release?.version ?? ''}`, `release:${releaseId}`];
        if (event.new_state === 'release-requested') op = { op: 'start', key, time: event.at, tags, text: `Rollout of ${release?.image}:${release?.version} to installation group ${String(data.groupName)} (ring ${String(data.ringName)})` };
        else if (GROUP_END_STATES.includes(event.new_state ?? '')) op = { op: 'end', key, time: event.at, tags, text: `Rollout to installation group ${String(data.groupName)}: ${event.new_state}` };
      } else if (event.kind === 'ring.state' && event.ring_id && event.rollout_id) {
        const starts = event.new_state === 'release-requested' || (event.new_state === 'release-rollback-requested' && event.old_state === event.new_state);
        if (starts || RING_END_STATES.includes(event.new_state ?? '')) {
          const rollout = await findRollout(db, event.rollout_id);
          const release = rollout ? await findRelease(db, rollout.releaseId) : undefined;
          const key = `ring:${event.ring_id}:${event.rollout_id}`;
          const tags = ['elrond', `ring:${String(data.ringName ?? '')}`, `image:${release?.image ?? ''}`, `version:${release?.version ?? ''}`, `release:${release?.id ?? ''}`];
          const verb = rollout?.kind === 'rollback' ? 'Rollback' : 'Release';
          op = starts
            ? { op: 'start', key, time: event.at, tags, text: `${verb} of ${release?.image}:${release?.version} to ring ${String(data.ringName)}` }
            : { op: 'end', key, time: event.at, tags, text: `${verb} to ring ${String(data.ringName)}: ${event.new_state}` };
        }
      }
      if (!op) return [];
      const annotation = op;
      return Array.from({ length: tokenCount }, (_, index) => ({ sink: 'grafana', target: String(index), orderingKey: `grafana:${index}:${annotation.key}`, payload: annotation }));
    },
  };
}

/** Grafana's answers are a few hundred bytes (`{"message":"Annotation added","id":1}`); more is not read. */
const GRAFANA_MAX_RESPONSE_BYTES = 64 * 1024;

function annotationId(body: string): number | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Posts and patches annotations; the id Grafana gave each region is kept in the system table. Each request has
 * an absolute deadline (`timeoutMs`, default 10 s) and a capped answer, and redirects are not followed
 * ({@link safeRequest}); Grafana is the operator's own, so internal addresses are allowed.
 */
export function grafanaDeliverer(db: Kysely<Database>, options: { url: string; tokens: readonly string[]; timeoutMs?: number }): Deliverer {
  const base = options.url.replace(/\/+$/, '');
  return {
    sink: 'grafana',
    async deliver(row: OutboxRow, attempt): Promise<void> {
      const index = Number(row.target);
      const token = options.tokens[index];
      if (token === undefined) return; // fewer tokens configured than when this was queued
      const op = JSON.parse(row.payload) as AnnotationOp;
      const idKey = `grafana:${index}:${op.key}`;
      const send = (method: 'POST' | 'PATCH', path: string, body: unknown) =>
        safeRequest({
          url: `${base}${path}`,
          method,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
          deadlineMs: options.timeoutMs ?? 10_000,
          maxResponseBytes: GRAFANA_MAX_RESPONSE_BYTES,
          publicOnly: false,
          signal: attempt.signal,
        });
      if (op.op === 'start') {
        if (await getSetting(db, idKey)) return; // already created (a retry after a crash)
        const response = await send('POST', '/api/annotations', { time: op.time, text: op.text, tags: op.tags });
        const id = annotationId(response.body);
        if (response.status !== 200 || id === undefined) throw new Error(`Grafana answered ${response.status} to creating an annotation`);
        await setSettingIfAbsent(db, idKey, String(id));
        return;
      }
      const id = await getSetting(db, idKey);
      if (!id) return; // the region never started (e.g. Grafana was configured mid-release)
      const response = await send('PATCH', `/api/annotations/${id}`, { timeEnd: op.time, text: op.text });
      if (response.status !== 200) throw new Error(`Grafana answered ${response.status} to closing annotation ${id}`);
    },
  };
}
