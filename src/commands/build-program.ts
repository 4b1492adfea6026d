import { Command, CommanderError, InvalidArgumentError, Option, type OutputConfiguration } from 'commander';
import { COMMANDS, GROUP_SUMMARIES } from './index.js';
import type { CommandInput, CommandSpec, OptionSpec, OptionValue } from './spec.js';

export { tokenize } from './tokenize.js';

export type ParseMode = 'cli' | 'chat';

export type ParseResult = { spec: CommandSpec; input: CommandInput } | { help: string } | { error: string };

export interface BuildProgramOptions {
  mode: ParseMode;
  /** Where help and errors go; by default commander's (stdout/stderr). */
  output?: OutputConfiguration;
  /** Called with the command that matched, instead of running anything. */
  onMatch?(spec: CommandSpec, command: Command): void;
  commands?: readonly CommandSpec[];
}

/** `elrond` on the command line, `/elrond` in Mattermost. */
export const programName = (mode: ParseMode) => (mode === 'cli' ? 'elrond' : '/elrond');

/** The options a command offers in a mode: chat has no `--server`/`--api-token`. */
export const optionsFor = (spec: CommandSpec, mode: ParseMode) => spec.options.filter((option) => mode === 'cli' || !option.cliOnly);

/** commander's property name for a flag: `installation-group-name` → `installationGroupName`. */
const attributeName = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const TRUE_WORDS = ['1', 't', 'T', 'true', 'TRUE', 'True'];
const FALSE_WORDS = ['0', 'f', 'F', 'false', 'FALSE', 'False'];

function parseInt10(raw: string): number {
  if (!/^-?\d{1,12}$/.test(raw.trim())) throw new InvalidArgumentError('must be a whole number, e.g. 3600');
  return Number(raw.trim());
}

function checked(option: OptionSpec, raw: string): string {
  try {
    option.check?.(raw);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  return raw;
}

/** A value read from an environment variable, by the option's kind (lists are comma-separated). */
function parseEnvValue(option: OptionSpec, raw: string): OptionValue {
  switch (option.kind) {
    case 'string':
      return checked(option, raw);
    case 'int':
      return parseInt10(raw);
    case 'bool':
      if (TRUE_WORDS.includes(raw)) return true;
      if (FALSE_WORDS.includes(raw)) return false;
      throw new InvalidArgumentError('must be true or false');
    case 'list':
      return raw
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
        .map((part) => checked(option, part));
  }
}

function describe(option: OptionSpec): string {
  const notes = [option.required ? 'required' : '', option.kind === 'list' ? 'repeatable' : '', option.env ? `env: ${option.env}` : ''].filter(Boolean);
  return notes.length > 0 ? `${option.description} [${notes.join(', ')}]` : option.description;
}

function commanderOptions(option: OptionSpec): Option[] {
  if (option.kind === 'bool') {
    const positive = new Option(`--${option.name}`, describe(option));
    if (option.default !== undefined) positive.default(option.default);
    const negative = new Option(`--no-${option.name}`, `turn --${option.name} off`);
    // Hidden unless asked for, but always accepted so `--flag=false` (cobra style) works.
    if (!option.negatable) negative.hideHelp();
    return [positive, negative];
  }
  const value = option.valueName ?? (option.kind === 'int' ? 'n' : 'value');
  const result = new Option(`--${option.name} <${value}>`, describe(option));
  if (option.kind === 'int') result.argParser((raw: string) => parseInt10(raw));
  else if (option.kind === 'list') result.argParser((raw: string, previous: string[] | undefined) => [...(previous ?? []), checked(option, raw)]);
  else if (option.check) result.argParser((raw: string) => checked(option, raw));
  if (option.default !== undefined && !(Array.isArray(option.default) && option.default.length === 0)) result.default(option.default);
  if (option.required) result.makeOptionMandatory();
  return [result];
}

function usageHint(mode: ParseMode, path: readonly string[], leaf: boolean): string {
  const command = [programName(mode), ...path].join(' ');
  return `Usage: ${command} ${leaf ? '[options]' : '[command]'}\nRun "${command} --help" for its ${leaf ? 'options and examples' : 'commands'}.`;
}

/**
 * The commander program for every command in `COMMANDS`: help, usage and defaults all come from the data.
 * It never exits the process and never writes to the terminal unless `output` says so, so the same program
 * parses a slash-command text and returns its help or error as a string.
 *
 * @example buildProgram({ mode: 'cli', onMatch: (spec) => console.log(spec.path) }).parse(['ring', 'list'], { from: 'user' })
 */
export function buildProgram(options: BuildProgramOptions): Command {
  const { mode } = options;
  const program = new Command(programName(mode))
    .description('Ring-based releases of Mattermost Cloud.')
    .exitOverride()
    .showHelpAfterError(usageHint(mode, [], false));
  if (options.output) program.configureOutput(options.output);
  // Chat has no terminal width; the CLI wraps to the terminal's.
  if (mode === 'chat') program.configureHelp({ helpWidth: 120 });

  const groups = new Map<string, Command>([['', program]]);
  const groupFor = (path: readonly string[]): Command => {
    const key = path.join(' ');
    const existing = groups.get(key);
    if (existing) return existing;
    const parent = groupFor(path.slice(0, -1));
    const group = parent
      .command(path[path.length - 1] as string)
      .description(GROUP_SUMMARIES[key] ?? '')
      .showHelpAfterError(usageHint(mode, path, false));
    groups.set(key, group);
    return group;
  };

  for (const spec of options.commands ?? COMMANDS) {
    if (mode === 'chat' && spec.cliOnly) continue;
    const parent = groupFor(spec.path.slice(0, -1));
    const command = parent
      .command(spec.path[spec.path.length - 1] as string)
      .description(spec.summary)
      .showHelpAfterError(usageHint(mode, spec.path, true));
    for (const option of optionsFor(spec, mode)) for (const built of commanderOptions(option)) command.addOption(built);
    if (spec.examples.length > 0) {
      command.addHelpText('after', `\nExamples:\n${spec.examples.map((example) => `  ${programName(mode)} ${example}`).join('\n')}\n`);
    }
    command.action((_options: unknown, matched: Command) => options.onMatch?.(spec, matched));
  }
  return program;
}

/** Cobra accepted `--flag=true|false` for booleans; commander wants `--flag` / `--no-flag`. */
function normalizeBoolFlags(argv: readonly string[], boolNames: ReadonlySet<string>): string[] {
  return argv.map((arg) => {
    const match = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    if (!match || !boolNames.has(match[1] as string)) return arg;
    if (TRUE_WORDS.includes(match[2] as string)) return `--${match[1]}`;
    if (FALSE_WORDS.includes(match[2] as string)) return `--no-${match[1]}`;
    return arg;
  });
}

function collectInput(spec: CommandSpec, command: Command, mode: ParseMode, env: NodeJS.ProcessEnv): { input: CommandInput } | { error: string } {
  const values = command.opts<Record<string, OptionValue | undefined>>();
  const input: Record<string, OptionValue | undefined> = {};
  for (const option of optionsFor(spec, mode)) {
    const attribute = attributeName(option.name);
    let value = values[attribute];
    const source = command.getOptionValueSource(attribute);
    const raw = mode === 'cli' && option.env ? env[option.env] : undefined;
    if (raw !== undefined && raw !== '' && (source === undefined || source === 'default')) {
      try {
        value = parseEnvValue(option, raw);
      } catch (error) {
        const shown = /TOKEN|SECRET|PASSWORD|KEY/i.test(option.env ?? '') ? '(hidden)' : `"${raw}"`;
        return { error: `error: environment variable ${option.env}=${shown} (for --${option.name}) is invalid: ${(error as Error).message}` };
      }
    }
    input[option.name] = value ?? (option.kind === 'bool' ? false : option.kind === 'list' ? [] : undefined);
  }
  return { input };
}

/** Control characters (a newline or a terminal escape code inside a value) as visible escapes. */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * An error message that stays on its first line whatever the user typed: commander and Elrond echo values
 * as given, so `--page $'1\n2'` split the message over two lines (and a value could carry terminal escape
 * codes). Found by test/cli-fuzz.test.ts. Commander's own "(Did you mean …?)" line is kept.
 */
function oneLine(message: string): string {
  const suggestion = /\n\(Did you mean [^\n]*\)$/.exec(message)?.[0] ?? '';
  return escapeControl(message.slice(0, message.length - suggestion.length)) + suggestion;
}

/**
 * Parse one command line (CLI argv, or a tokenized slash-command text) into the command to run and its
 * input, or the help to show, or an error naming the bad flag or value followed by the usage.
 * Environment variables (`ELROND_*`) fill options only in 'cli' mode.
 *
 * @example parseCommandLine(['ring', 'get', '--ring', id], 'cli') // { spec, input: { ring: id, server: '…' } }
 */
export function parseCommandLine(argv: readonly string[], mode: ParseMode, env: NodeJS.ProcessEnv = process.env): ParseResult {
  if (mode === 'chat') {
    const cliOnly = COMMANDS.find((spec) => spec.cliOnly && spec.path.every((word, i) => argv[i] === word));
    if (cliOnly) {
      const name = cliOnly.path.join(' ');
      return { error: oneLine(`error: "${name}" is CLI-only: run "elrond ${name}" in a terminal where Elrond is installed.`) };
    }
  }
  let out = '';
  let err = '';
  let matched: { spec: CommandSpec; command: Command } | undefined;
  const program = buildProgram({
    mode,
    output: { writeOut: (s) => (out += s), writeErr: (s) => (err += s), outputError: (s, write) => write(s) },
    onMatch: (spec, command) => (matched = { spec, command }),
  });
  const boolNames = new Set(COMMANDS.flatMap((spec) => spec.options.filter((o) => o.kind === 'bool').map((o) => o.name)));
  try {
    program.parse(normalizeBoolFlags(argv, boolNames), { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)) return { help: out || err };
    // `err` is the message commander printed, then the usage hint.
    const message = error.message.trimEnd();
    const at = err.indexOf(message);
    const hint = at >= 0 ? err.slice(at + message.length) : err;
    return { error: `${oneLine(message)}${hint}`.trimEnd() };
  }
  if (!matched) return { help: program.helpInformation() };
  const { spec, command } = matched;
  const collected = collectInput(spec, command, mode, env);
  if ('error' in collected) return { error: `${oneLine(collected.error)}\n${usageHint(mode, spec.path, true)}` };
  const problem = spec.validate?.(collected.input);
  if (problem) return { error: `${oneLine(`error: ${problem}`)}\n${usageHint(mode, spec.path, true)}` };
  return { spec, input: collected.input };
}
