import type { ServerConfig } from '../config.js';

/**
 * `elrond server`: start the server, say where it listens, and run until SIGINT/SIGTERM, then close it
 * (finishing in-flight work) and return. A second signal while closing exits at once.
 */
export async function serve(config: ServerConfig): Promise<void> {
  // Loaded on demand so remote commands start fast.
  const { startServer } = await import('../server.js');
  const running = await startServer(config);
  process.stdout.write(`elrond server listening on ${running.url}\n`);
  await new Promise<void>((resolve, reject) => {
    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) {
        process.stderr.write(`elrond: ${signal} again, exiting without finishing the shutdown\n`);
        process.exit(1);
      }
      closing = true;
      process.stdout.write(`elrond server: ${signal} received, shutting down\n`);
      running.close().then(resolve, reject);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
