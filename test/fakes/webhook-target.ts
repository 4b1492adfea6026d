import http from 'node:http';
import { closeServer, listenOnLoopback } from './loopback-server.js';

/**
 * A webhook receiver on 127.0.0.1 that can misbehave the ways a hostile or broken target does (issue 13):
 * answer at once, drip its answer one byte at a time, send an endless body, or redirect elsewhere. It models no
 * upstream server; it records what reached it and what it managed to send, so tests assert on that.
 */
export type TargetBehaviour =
  | { kind: 'ok'; status?: number }
  /** 200 and its headers at once, then one body byte every `everyMs`, never ending. */
  | { kind: 'drip'; everyMs: number }
  /** 200 with a body of `bytes`, written as fast as the client reads it. */
  | { kind: 'huge'; bytes: number }
  | { kind: 'redirect'; status: number; location: string };

export interface TargetRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TargetAnswer {
  /** Body bytes handed to the socket. */
  bytesWritten: number;
  /** The client closed the connection before the answer ended. */
  closedEarly: boolean;
  /** The connection is closed. */
  closed: boolean;
}

export class WebhookTarget {
  readonly requests: TargetRequest[] = [];
  readonly answers: TargetAnswer[] = [];
  behaviour: TargetBehaviour;
  url = '';
  readonly #server: http.Server;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(behaviour: TargetBehaviour = { kind: 'ok' }) {
    this.behaviour = behaviour;
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        this.#answer(res);
      });
    });
  }

  async start(): Promise<string> {
    this.url = await listenOnLoopback(this.#server);
    return this.url;
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await closeServer(this.#server);
  }

  #answer(res: http.ServerResponse): void {
    const answer: TargetAnswer = { bytesWritten: 0, closedEarly: false, closed: false };
    this.answers.push(answer);
    res.on('close', () => {
      answer.closed = true;
      answer.closedEarly = !res.writableFinished;
    });
    const behaviour = this.behaviour;
    switch (behaviour.kind) {
      case 'ok':
        res.writeHead(behaviour.status ?? 200).end();
        return;
      case 'redirect':
        res.writeHead(behaviour.status, { Location: behaviour.location }).end();
        return;
      case 'drip': {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        const timer = setInterval(() => {
          if (res.destroyed) {
            clearInterval(timer);
            this.#timers.delete(timer);
            return;
          }
          res.write('x');
          answer.bytesWritten += 1;
        }, behaviour.everyMs);
        this.#timers.add(timer);
        return;
      }
      case 'huge': {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(behaviour.bytes) });
        const chunk = Buffer.alloc(64 * 1024, 'y');
        const pump = () => {
          while (!res.destroyed && answer.bytesWritten < behaviour.bytes) {
            const part = chunk.subarray(0, Math.min(chunk.length, behaviour.bytes - answer.bytesWritten));
            answer.bytesWritten += part.length;
            if (!res.write(part)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
    }
  }
}
