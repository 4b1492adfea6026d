import { z } from 'zod';
import type { ServiceDeps } from './deps.js';
import { inTransaction } from './deps.js';
import { lowerKeys, parseInput, reason as reasonText } from './inputs.js';
import { authorize, OPEN_POLICY } from './access-policy.js';
import type { Actor } from '../model/ring.js';
import type { Freeze } from '../model/freeze.js';
import { freezeWindowAt } from '../model/freeze.js';
import { isValidTimezone, parseCron } from '../model/cron-window.js';
import { formatDuration, parseDuration, parseInstant } from '../model/durations.js';
import { badRequest } from '../model/errors.js';
import { getRing } from '../store/rings.js';
import { deleteFreeze, insertFreeze, liveFreezes } from '../store/freezes.js';

const MAX_RECURRING_DURATION = 7 * 24 * 3600_000;

const createInput = z.object({
  rings: z.array(z.string().max(64)).max(500).optional(),
  start: z.union([z.string().max(64), z.number()]).optional(),
  end: z.union([z.string().max(64), z.number()]).optional(),
  cron: z.string().max(100).optional(),
  duration: z.union([z.string().max(32), z.number()]).optional(),
  timezone: z.string().max(64).optional(),
  reason: reasonText.min(3, 'must say why (at least 3 characters)'),
});

const nowInput = z.object({ reason: reasonText.min(3, 'must say why (at least 3 characters)'), until: z.union([z.string().max(64), z.number()]).optional(), rings: z.array(z.string().max(64)).max(500).optional() });

const asText = (value: string | number) => String(value);

export function freezeService(deps: ServiceDeps) {
  async function save(actor: Actor, freeze: Omit<Freeze, 'id' | 'author' | 'createAt'>, what: string): Promise<Freeze & { activeUntil: number | null }> {
    const created = await inTransaction(deps, async (tx) => {
      for (const ringId of freeze.ringIds) await getRing(tx.db, ringId);
      const saved = await insertFreeze(tx.db, { ...freeze, author: actor.name, createAt: tx.now, source: actor.source });
      await tx.record({ kind: 'freeze.created', actor, message: `${what} by ${actor.name}: ${freeze.reason}`, data: { freezeId: saved.id, reason: freeze.reason } });
      return saved;
    });
    deps.nudge();
    return { ...created, activeUntil: freezeWindowAt(created, deps.clock.now())?.end ?? null };
  }

  return {
    /** A one-off window (start, end) or a recurring one (cron, duration, timezone), global or for chosen rings. */
    async create(body: unknown, actor: Actor): Promise<Freeze & { activeUntil: number | null }> {
      const input = parseInput(createInput, lowerKeys(body));
      const now = deps.clock.now();
      const ringIds = input.rings ?? [];
      if (input.cron !== undefined) {
        if (input.start !== undefined || input.end !== undefined) throw badRequest('give either cron with duration (recurring) or start and end (one-off), not both');
        try {
          parseCron(input.cron);
        } catch (error) {
          throw badRequest((error as Error).message);
        }
        if (input.duration === undefined) throw badRequest('duration is required with cron, e.g. "duration": "2h"');
        const durationMs = parseDuration(asText(input.duration), 'duration');
        if (durationMs <= 0 || durationMs > MAX_RECURRING_DURATION) throw badRequest('duration must be between 1 minute and 7 days');
        const timezone = input.timezone ?? 'UTC';
        if (!isValidTimezone(timezone)) throw badRequest(`timezone "${timezone}" is not an IANA timezone like Europe/Berlin or America/New_York`);
        return save(actor, { ringIds, startAt: null, endAt: null, cron: input.cron, durationMs, timezone, reason: input.reason }, `recurring freeze "${input.cron}" for ${formatDuration(durationMs)} (${timezone}) created`);
      }
      if (input.start === undefined || input.end === undefined) throw badRequest('a freeze needs start and end (one-off) or cron and duration (recurring)');
      const startAt = parseInstant(asText(input.start), 'start', now);
      const endAt = parseInstant(asText(input.end), 'end', now);
      if (endAt <= startAt) throw badRequest('end must be after start');
      return save(actor, { ringIds, startAt, endAt, cron: null, durationMs: null, timezone: 'UTC', reason: input.reason }, `freeze from ${new Date(startAt).toISOString()} to ${new Date(endAt).toISOString()} created`);
    },

    /** Stop the line: a freeze from now until `until` (default 24 hours). Anyone may pull it. */
    async now(body: unknown, actor: Actor): Promise<Freeze & { activeUntil: number | null }> {
      authorize(deps.policy ?? OPEN_POLICY, actor, 'freeze');
      const input = parseInput(nowInput, lowerKeys(body));
      const now = deps.clock.now();
      const endAt = input.until !== undefined ? parseInstant(asText(input.until), 'until', now) : now + 24 * 3600_000;
      if (endAt <= now) throw badRequest('until must be in the future');
      return save(actor, { ringIds: input.rings ?? [], startAt: now, endAt, cron: null, durationMs: null, timezone: 'UTC', reason: input.reason }, `stop-the-line freeze until ${new Date(endAt).toISOString()} pulled`);
    },

    async list(): Promise<Array<Freeze & { activeUntil: number | null }>> {
      const now = deps.clock.now();
      return (await liveFreezes(deps.store.db)).map((freeze) => ({ ...freeze, activeUntil: freezeWindowAt(freeze, now)?.end ?? null }));
    },

    async delete(id: string, actor: Actor): Promise<void> {
      authorize(deps.policy ?? OPEN_POLICY, actor, 'change');
      await inTransaction(deps, async (tx) => {
        const freeze = await deleteFreeze(tx.db, id, tx.now);
        await tx.record({ kind: 'freeze.deleted', actor, message: `freeze ${id} (${freeze.reason}) lifted by ${actor.name}`, data: { freezeId: id } });
      });
      deps.nudge();
    },
  };
}

export type FreezeService = ReturnType<typeof freezeService>;
