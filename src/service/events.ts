import { z } from 'zod';
import { objectId } from './inputs.js';
import { readOperation } from './operation.js';
import { listEvents } from '../store/event-log.js';
import type { EventRow } from '../store/schema.js';

const EventQuery = z.object({
  limit: z.number().int().min(1, 'must be 1 or more').max(10_000, 'must be at most 10000'),
  ringId: objectId.optional(),
  /** Milliseconds since the epoch. */
  since: z.number().optional(),
});

export const EVENT_OPERATIONS = {
  listEvents: readOperation({
    summary: 'what happened, newest first: who did what, from where, old → new state',
    input: EventQuery,
    guard: { role: 'viewer', verb: 'read the history' },
    run: (ctx, query): Promise<EventRow[]> => listEvents(ctx.db, query),
  }),
};
