/**
 * Resolve once SIGINT or SIGTERM arrived and `close` finished (in-flight work done). A second signal while
 * closing exits at once. `name` prefixes the messages ("elrond server", "elrond demo").
 */
export function runUntilSignal(name: string, close: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) {
        process.stderr.write(`elrond: ${signal} again, exiting without finishing the shutdown\n`);
        process.exit(1);
      }
      closing = true;
      process.stdout.write(`${name}: ${signal} received, shutting down\n`);
      close().then(resolve, reject);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
