import type { ServerConfig } from '../config.js';
import type { DemoOptions } from './demo.js';
import type { OperationName } from '../service/operations.js';
import type { ElrondApi, EventJson, ReleasePlan, RingJson, RingReleaseRequest, WebhookJson } from './elrond-api.js';

export type OptionKind = 'string' | 'int' | 'bool' | 'list';
export type OptionValue = string | number | boolean | string[];

/** One `--flag` of a command. The commander program, the help text and the chat parser are all built from these. */
export interface OptionSpec {
  /** Kebab-case, without dashes: `installation-group-name`. Also the key in `CommandInput`. */
  name: string;
  /** Shown in usage: `--ring <id>`. Defaults to `value` (`n` for ints). */
  valueName?: string;
  /** `list` options are repeatable and collect every value; `bool` options take no value. */
  kind: OptionKind;
  description: string;
  required?: boolean;
  default?: OptionValue;
  /** Environment variable read when the flag is not given (CLI only). */
  env?: string;
  /** Also accept `--no-<name>` (bools whose default is true, and server settings). */
  negatable?: boolean;
  /** Not offered in chat (e.g. `--server`, `--api-token`: chat talks to Elrond in-process). */
  cliOnly?: boolean;
  /** Extra validation of one value; throw an Error whose message says what is wrong. */
  check?(value: string): void;
  /**
   * A `list` whose values may also be given comma-separated (`--grafana-token a,b`), as cobra's StringSlice
   * flags were. Not for values that may contain a comma (`--env-variable`).
   */
  commaSeparated?: boolean;
}

/** The parsed options of one command, keyed by option name. Missing bools are false, missing lists []. */
export type CommandInput = Readonly<Record<string, OptionValue | undefined>>;

/**
 * JSON, as the CLI prints it. A list says what it holds (`of`), so chat can show it as a table without guessing
 * from its fields.
 */
export type JsonOutput =
  | { kind: 'json'; of?: undefined; value: unknown }
  | { kind: 'json'; of: 'rings'; value: RingJson[] }
  | { kind: 'json'; of: 'events'; value: EventJson[] }
  | { kind: 'json'; of: 'webhooks'; value: WebhookJson[] };

export type CommandOutput =
  | JsonOutput
  /** A release plan: text for the terminal, a Start button in chat. */
  | { kind: 'plan'; plan: ReleasePlan; request: RingReleaseRequest; ringId?: string }
  | { kind: 'table'; headers: string[]; rows: string[][]; json: unknown }
  | { kind: 'text'; text: string };

/** What a command runs with. The CLI and chat each build one. */
export interface CommandContext {
  api: ElrondApi;
  now(): number;
  /** Who is asking (chat username); the HTTP client names the OS user itself. */
  actor?: string;
  /** Runs the server until it is stopped; only the CLI provides it. */
  serve?(config: ServerConfig): Promise<void>;
  /** Runs `elrond demo` until it is stopped; only the CLI provides it. */
  demo?(options: DemoOptions): Promise<void>;
}

/**
 * One command of the grammar, shared by the `elrond` CLI and the `/elrond` slash command.
 *
 * @example { path: ['ring', 'get'], operations: ['getRing'], summary: 'Get a ring.', examples: ['ring get --ring <id>'], options: [ringOption], run }
 */
export interface CommandSpec {
  path: string[];
  summary: string;
  /** Invocations without the program name: `ring get --ring abc`. */
  examples: string[];
  options: OptionSpec[];
  /**
   * The operations (service/operations.ts) it may invoke, through the API of the same names; none for a command
   * that runs locally (server, schema migrate). A test checks every remote command names at least one and invokes
   * only those.
   */
  operations: readonly OperationName[];
  /** Only the CLI runs it (server, schema migrate). */
  cliOnly?: boolean;
  /**
   * Invokes only read operations (a test checks it against the table), so chat may serve a recent answer computed
   * on the same data for a caller with the same roles (service/read-cache.ts).
   */
  readOnly?: boolean;
  /**
   * In chat, the command given without any flag opens this interactive form instead of answering with its usage
   * (the CLI prints the usage as before).
   */
  chatForm?: 'release';
  /** Checks across options after parsing; returns what is wrong, or undefined. */
  validate?(input: CommandInput): string | undefined;
  run(ctx: CommandContext, input: CommandInput): Promise<CommandOutput>;
}

/** A word that only groups commands: `elrond ring`, `elrond security ring`. */
export interface GroupSpec {
  path: string[];
  summary: string;
  /**
   * Flags also accepted here, before the command (`elrond ring --server URL list`), for the commands under
   * this group that take them: the Go CLI declared these as cobra persistent flags. Each must be an option of
   * those commands; given here, it counts as given to the command.
   */
  persistent?: OptionSpec[];
}

export function inputString(input: CommandInput, name: string): string {
  const value = input[name];
  return typeof value === 'string' ? value : '';
}

export function inputInt(input: CommandInput, name: string): number {
  const value = input[name];
  return typeof value === 'number' ? value : 0;
}

export function inputBool(input: CommandInput, name: string): boolean {
  return input[name] === true;
}

export function inputList(input: CommandInput, name: string): string[] {
  const value = input[name];
  return Array.isArray(value) ? value : [];
}

export const json = (value: unknown): CommandOutput => ({ kind: 'json', value });
export const ringList = (value: RingJson[]): CommandOutput => ({ kind: 'json', of: 'rings', value });
export const eventList = (value: EventJson[]): CommandOutput => ({ kind: 'json', of: 'events', value });
export const webhookList = (value: WebhookJson[]): CommandOutput => ({ kind: 'json', of: 'webhooks', value });
export const text = (value: string): CommandOutput => ({ kind: 'text', text: value });
/** Commands whose API call answers with no body print nothing, like the original. */
export const nothing: CommandOutput = { kind: 'text', text: '' };
