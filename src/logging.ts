import pino, { type Logger } from 'pino';
import { redact } from './model/redact.js';

export type { Logger };

/** Fields pino hides whole, wherever they appear. */
const REDACT_PATHS = ['token', 'secret', 'password', '*.token', '*.secret', '*.password', 'headers.authorization', 'authorization', '*.headers.authorization', '*.headers.Authorization'];

/**
 * Elrond's logger: human-readable lines by default, one JSON object per line with --machine-readable-logs.
 * Secrets are redacted wherever they appear as these fields, and every line goes through the one redaction
 * rule as text ({@link redact}): a URL anywhere in a line (a failed delivery's error, a client error's config)
 * loses its userinfo and query values, a `PASSWORD=…` its value.
 */
export function createLogger(options: { debug?: boolean; machineReadable?: boolean; silent?: boolean } = {}): Logger {
  const level = options.silent ? 'silent' : options.debug ? 'debug' : 'info';
  const redactPaths = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (options.silent) return pino({ level, redact: redactPaths });
  if (options.machineReadable) return pino({ level, redact: redactPaths }, { write: (line: string) => process.stdout.write(redact(line)) });
  return pino({ level, redact: redactPaths, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, prettyStream());
}

/** A tiny line formatter ("2026-11-25T10:00:00.000Z INFO message key=value") so no dev-only pretty printer is needed. */
function prettyStream(): { write(line: string): void } {
  return {
    write(raw: string) {
      const line = redact(raw);
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
