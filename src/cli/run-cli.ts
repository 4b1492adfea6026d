import { parseCommandLine } from '../commands/build-program.js';
import { inertTerminalLine } from '../model/inert-text.js';
import { DEFAULT_SERVER_URL } from '../commands/common-options.js';
import { renderOutput } from '../commands/render-output.js';
import { inputString, type CommandContext } from '../commands/spec.js';
import { createHttpElrondApi } from '../client/elrond-api.js';
import type { ServerConfig } from '../config.js';
import type { DemoOptions } from '../commands/demo.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Runs `elrond server` until it is stopped. */
  serve(config: ServerConfig): Promise<void>;
  /** Runs `elrond demo` until it is stopped (absent: the demo is refused). */
  demo?(options: DemoOptions): Promise<void>;
}

/** Exit codes: 0 done, 1 the command failed (server error, unreachable, migration), 2 bad command line. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * Run one `elrond` command line and return its exit code. Help goes to stdout; errors are one line on
 * stderr (`elrond: 404 ring … not found`), never a stack trace.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, 'cli', io.env);
  if ('help' in parsed) {
    io.stdout(parsed.help);
    return EXIT_OK;
  }
  if ('error' in parsed) {
    io.stderr(`${parsed.error}\n`);
    return EXIT_USAGE;
  }
  const { spec, input } = parsed;
  const apiToken = inputString(input, 'api-token');
  const ctx: CommandContext = {
    api: createHttpElrondApi({ server: inputString(input, 'server') || DEFAULT_SERVER_URL, ...(apiToken ? { apiToken } : {}) }),
    now: () => Date.now(),
    serve: io.serve,
    ...(io.demo ? { demo: io.demo } : {}),
  };
  try {
    const output = await spec.run(ctx, input);
    io.stdout(renderOutput(output));
    return EXIT_OK;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // One line, and nothing a server or a value could use to drive the terminal (found by test/cli-fuzz.test.ts:
    // a 404 echoing an id typed as $'\e[2J' cleared the screen).
    io.stderr(`elrond: ${inertTerminalLine(message.trim())}\n`);
    return EXIT_FAILED;
  }
}
