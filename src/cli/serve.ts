import type { ServerConfig } from '../config.js';
import { runUntilSignal } from './run-until-signal.js';

/**
 * `elrond server`: start the server, say where it listens, and run until SIGINT/SIGTERM, then close it
 * (finishing in-flight work) and return. A second signal while closing exits at once.
 */
export async function serve(config: ServerConfig): Promise<void> {
  // Loaded on demand so remote commands start fast.
  const { startServer } = await import('../server.js');
  const running = await startServer(config);
  process.stdout.write(`elrond server listening on ${running.url}\n`);
  await runUntilSignal('elrond server', () => running.close());
}
