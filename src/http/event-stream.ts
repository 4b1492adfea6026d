import type { Request, Response } from 'express';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import { eventsAfter, latestEventId } from '../store/event-log.js';

/** What a stream message says about one event: ids and kind only, never its text (the page fetches that). */
export interface StreamedEvent {
  id: number;
  kind: string;
  ringId: string | null;
  groupId: string | null;
  rolloutId: string | null;
}

export interface EventStreamOptions {
  db: Kysely<Database>;
  log: Logger;
  /** How often the events table is read for new rows while someone listens (ms). */
  pollMs?: number;
  /** Listeners one replica serves at once; more get 503. */
  maxClients?: number;
  /** Bytes queued for one listener before its messages are merged into one (a slow reader). */
  maxBufferedBytes?: number;
  /** A listener that has not taken its queued bytes for this long is disconnected (ms). */
  stallMs?: number;
  /** Comment lines keep proxies from closing an idle stream (ms). */
  heartbeatMs?: number;
}

export interface EventStream {
  /** Serve `GET /api/stream` (Server-Sent Events) to one listener, from `Last-Event-ID` or `?since=`. */
  handle(req: Request, res: Response): Promise<void>;
  /** Read the table now (this process just wrote): listeners here hear of it without waiting for the poll. */
  poke(): void;
  readonly clients: number;
  close(): void;
}

/** Rows read per query; a longer backlog is sent as one "more happened" message. */
const BATCH = 200;
/** Events listed in one message; the rest are counted in `latest`. */
const EVENTS_PER_MESSAGE = 50;

interface Client {
  res: Response;
  /** A change not yet written because the listener is behind: the newest id, merged into one message. */
  owed: number | null;
  /** Since when bytes have been queued beyond the limit. */
  behindSince: number | null;
  /** False until what it missed has been sent: changes meanwhile are owed, so ids only ever go up. */
  ready: boolean;
}

/**
 * Server-Sent Events of the events table, for the status page. Every replica reads the table itself (the one
 * thing all replicas share), so a change made through any replica reaches listeners on every other within one
 * poll; a listener that reconnects with `Last-Event-ID` gets what it missed. Memory stays bounded: at most
 * `maxClients` listeners, and a listener that reads slowly gets its queued changes merged into one message
 * (or is disconnected after `stallMs`) instead of a queue that grows.
 */
export function createEventStream(options: EventStreamOptions): EventStream {
  const pollMs = options.pollMs ?? 1000;
  const maxClients = options.maxClients ?? 100;
  const maxBuffered = options.maxBufferedBytes ?? 64 * 1024;
  const stallMs = options.stallMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const clients = new Set<Client>();
  let cursor: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let reading: Promise<void> | undefined;
  let readAgain = false;
  let closed = false;

  const latestId = () => latestEventId(options.db);
  const after = (from: number, upTo?: number) => eventsAfter(options.db, from, BATCH, upTo);

  function message(latest: number, events: readonly StreamedEvent[], complete: boolean): string {
    const shown = events.slice(-EVENTS_PER_MESSAGE);
    return `id: ${latest}\nevent: change\ndata: ${JSON.stringify({ latest, events: shown, complete: complete && shown.length === events.length })}\n\n`;
  }

  function drop(client: Client): void {
    clients.delete(client);
    if (!client.res.writableEnded) client.res.end();
    if (clients.size === 0) stopTimers();
  }

  function send(client: Client, latest: number, events: readonly StreamedEvent[], complete: boolean): void {
    if (!client.ready) {
      client.owed = Math.max(client.owed ?? 0, latest);
      return;
    }
    if (client.res.writableLength > maxBuffered) {
      // Behind: remember only the newest id; one merged message goes out when it has read what is queued.
      client.owed = latest;
      client.behindSince ??= Date.now();
      return;
    }
    client.res.write(message(latest, events, complete));
  }

  async function readNew(): Promise<void> {
    if (cursor === undefined || clients.size === 0) return;
    for (;;) {
      const rows = await after(cursor);
      if (rows.length === 0) return;
      const events = rows.map(toStreamed);
      cursor = events.at(-1)!.id;
      for (const client of clients) send(client, cursor, events, true);
      if (rows.length < BATCH) return;
    }
  }

  /** One read at a time; a poke during a read makes one more read after it. */
  function read(): void {
    if (closed) return;
    if (reading) {
      readAgain = true;
      return;
    }
    reading = readNew()
      .catch((error: unknown) => options.log.warn({ err: error }, 'event stream: reading new events failed; trying again at the next poll'))
      .finally(() => {
        reading = undefined;
        if (readAgain) {
          readAgain = false;
          read();
        }
      });
  }

  function startTimers(): void {
    timer ??= setInterval(read, pollMs).unref();
    heartbeat ??= setInterval(() => {
      const now = Date.now();
      for (const client of clients) {
        if (client.behindSince !== null && now - client.behindSince > stallMs) {
          options.log.info('event stream: a listener stopped reading; disconnected (it reconnects with Last-Event-ID)');
          client.res.destroy();
          drop(client);
        } else if (client.res.writableLength <= maxBuffered) client.res.write(': keep-alive\n\n');
      }
    }, heartbeatMs).unref();
  }

  function stopTimers(): void {
    clearInterval(timer);
    clearInterval(heartbeat);
    timer = undefined;
    heartbeat = undefined;
    // Forget the position: the next first listener starts from the table's newest row.
    cursor = undefined;
  }

  return {
    get clients() {
      return clients.size;
    },

    async handle(req, res) {
      if (closed || clients.size >= maxClients) {
        res.status(503).set('Retry-After', '30').json({ error: `this Elrond serves live updates to ${maxClients} viewers at a time and all are taken; the page refreshes itself meanwhile` });
        return;
      }
      const since = parseEventId(req.get('last-event-id') ?? (typeof req.query.since === 'string' ? req.query.since : undefined));
      const client: Client = { res, owed: null, behindSince: null, ready: false };
      clients.add(client);
      startTimers();
      req.on('close', () => drop(client));
      const payOwed = () => {
        client.behindSince = null;
        if (client.owed !== null && !res.writableEnded) {
          const owed = client.owed;
          client.owed = null;
          res.write(message(owed, [], false));
        }
      };
      res.on('drain', payOwed);
      try {
        cursor ??= await latestId();
        res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
        res.flushHeaders();
        res.write('retry: 3000\n\n');
        // What the listener missed, up to what the others have been sent; what they are sent meanwhile is owed.
        const upTo = cursor;
        const missed = since !== undefined && since < upTo ? (await after(since, upTo)).map(toStreamed) : [];
        if (!clients.has(client)) return;
        client.ready = true;
        if (missed.length > 0) {
          const complete = missed.length < BATCH;
          send(client, complete ? missed.at(-1)!.id : upTo, missed, complete);
        }
        if (client.owed !== null && client.owed > (since ?? 0)) payOwed();
        else client.owed = null;
      } catch (error) {
        options.log.warn({ err: error }, 'event stream: cannot read the events table');
        drop(client);
        if (!res.headersSent) res.status(503).json({ error: 'the database is not answering; the page retries by itself' });
      }
    },

    poke() {
      if (clients.size > 0) read();
    },

    close() {
      closed = true;
      for (const client of [...clients]) drop(client);
      stopTimers();
    },
  };
}

/** A non-negative integer id, or undefined (absent or malformed: start from now). */
function parseEventId(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function toStreamed(row: { id: number; kind: string; ring_id: string | null; installation_group_id: string | null; rollout_id: string | null }): StreamedEvent {
  return { id: Number(row.id), kind: row.kind, ringId: row.ring_id, groupId: row.installation_group_id, rolloutId: row.rollout_id };
}
