import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Elrond's logger: human-readable lines by default, one JSON object per line with --machine-readable-logs.
 * Secrets are redacted wherever they appear as these fields.
 */
export function createLogger(options: { debug?: boolean; machineReadable?: boolean; silent?: boolean } = {}): Logger {
  const level = options.silent ? 'silent' : options.debug ? 'debug' : 'info';
  const redact = { paths: ['token', 'secret', '*.token', '*.secret', 'headers.authorization', 'authorization'], censor: '[redacted]' };
  if (options.machineReadable || options.silent) return pino({ level, redact });
  return pino({ level, redact, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, prettyStream());
}

/** A tiny line formatter ("2026-11-25T10:00:00.000Z INFO message key=value") so no dev-only pretty printer is needed. */
function prettyStream(): { write(line: string): void } {
  return {
    write(line: string) {
      try {
        const { time, level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const extras = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        process.stdout.write(`${String(time)} ${String(level).toUpperCase()} ${String(msg ?? '')}${extras ? ` ${extras}` : ''}\n`);
      } catch {
        process.stdout.write(line);
      }
    },
  };
}
