import { z } from 'zod';
import type { Tx } from './deps.js';
import { objectId, reason as reasonText } from './inputs.js';
import { readOperation, writeOperation } from './operation.js';
import type { Actor } from '../model/ring.js';
import type { Freeze } from '../model/freeze.js';
import { freezeWindowAt } from '../model/freeze.js';
import { isValidTimezone, parseCron } from '../model/cron-window.js';
import { formatDuration, parseDuration, parseInstant } from '../model/durations.js';
import { badRequest } from '../model/errors.js';
import { getRing } from '../store/rings.js';
import { deleteFreeze, insertFreeze, liveFreezes } from '../store/freezes.js';

const MAX_RECURRING_DURATION = 7 * 24 * 3600_000;

const CreateFreeze = z.object({
  rings: z.array(z.string().max(64)).max(500).optional(),
  start: z.union([z.string().max(64), z.number()]).optional(),
  end: z.union([z.string().max(64), z.number()]).optional(),
  cron: z.string().max(100).optional(),
  duration: z.union([z.string().max(32), z.number()]).optional(),
  timezone: z.string().max(64).optional(),
  reason: reasonText.min(3, 'must say why (at least 3 characters)'),
});

const FreezeNow = z.object({ reason: reasonText.min(3, 'must say why (at least 3 characters)'), until: z.union([z.string().max(64), z.number()]).optional(), rings: z.array(z.string().max(64)).max(500).optional() });

const asText = (value: string | number) => String(value);

export type FreezeWindow = Freeze & { activeUntil: number | null };

async function save(tx: Tx, actor: Actor, freeze: Omit<Freeze, 'id' | 'author' | 'createAt'>, what: string): Promise<FreezeWindow> {
  for (const ringId of freeze.ringIds) await getRing(tx.db, ringId);
  const saved = await insertFreeze(tx.db, { ...freeze, author: actor.name, createAt: tx.now, source: actor.source });
  await tx.record({ kind: 'freeze.created', actor, message: `${what} by ${actor.name}: ${freeze.reason}`, data: { freezeId: saved.id, reason: freeze.reason } });
  return { ...saved, activeUntil: freezeWindowAt(saved, tx.now)?.end ?? null };
}

export const FREEZE_OPERATIONS = {
  /** A one-off window (start, end) or a recurring one (cron, duration, timezone), global or for chosen rings. */
  createFreeze: writeOperation({
    summary: 'create a freeze window (one-off or recurring)',
    input: CreateFreeze,
    guard: { role: 'admin', verb: 'create freeze windows' },
    async run(tx, input, actor) {
      const now = tx.now;
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
        return save(tx, actor, { ringIds, startAt: null, endAt: null, cron: input.cron, durationMs, timezone, reason: input.reason }, `recurring freeze "${input.cron}" for ${formatDuration(durationMs)} (${timezone}) created`);
      }
      if (input.start === undefined || input.end === undefined) throw badRequest('a freeze needs start and end (one-off) or cron and duration (recurring)');
      const startAt = parseInstant(asText(input.start), 'start', now);
      const endAt = parseInstant(asText(input.end), 'end', now);
      if (endAt <= startAt) throw badRequest('end must be after start');
      return save(tx, actor, { ringIds, startAt, endAt, cron: null, durationMs: null, timezone: 'UTC', reason: input.reason }, `freeze from ${new Date(startAt).toISOString()} to ${new Date(endAt).toISOString()} created`);
    },
  }),

  /** Stop the line: a freeze from now until `until` (default 24 hours). Anyone may pull it. */
  freezeNow: writeOperation({
    summary: 'stop the line: freeze from now (default 24 hours)',
    input: FreezeNow,
    guard: { role: 'viewer', verb: 'freeze' },
    async run(tx, input, actor) {
      const now = tx.now;
      const endAt = input.until !== undefined ? parseInstant(asText(input.until), 'until', now) : now + 24 * 3600_000;
      if (endAt <= now) throw badRequest('until must be in the future');
      return save(tx, actor, { ringIds: input.rings ?? [], startAt: now, endAt, cron: null, durationMs: null, timezone: 'UTC', reason: input.reason }, `stop-the-line freeze until ${new Date(endAt).toISOString()} pulled`);
    },
  }),

  listFreezes: readOperation({
    summary: 'list freeze windows and whether each holds rings now',
    input: z.object({}),
    guard: { role: 'viewer', verb: 'look at freezes' },
    run: async (ctx): Promise<FreezeWindow[]> => (await liveFreezes(ctx.db)).map((freeze) => ({ ...freeze, activeUntil: freezeWindowAt(freeze, ctx.now)?.end ?? null })),
  }),

  deleteFreeze: writeOperation({
    summary: 'lift a freeze window',
    input: z.object({ freezeId: objectId }),
    guard: { role: 'admin', verb: 'lift freeze windows' },
    async run(tx, { freezeId }, actor): Promise<void> {
      const freeze = await deleteFreeze(tx.db, freezeId, tx.now);
      await tx.record({ kind: 'freeze.deleted', actor, message: `freeze ${freezeId} (${freeze.reason}) lifted by ${actor.name}`, data: { freezeId } });
    },
  }),
};
