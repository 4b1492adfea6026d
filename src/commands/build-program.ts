import { Command, CommanderError, InvalidArgumentError, Option, type OutputConfiguration } from 'commander';
import { COMMANDS, GROUPS } from './index.js';
import type { CommandInput, CommandSpec, GroupSpec, OptionSpec, OptionValue } from './spec.js';
import { inertTerminalLine } from '../model/inert-text.js';
import { isSecretName } from '../model/redact.js';

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

/** The options a command (or a group, before its command) offers in a mode: chat has no `--server`/`--api-token`. */
const offered = (options: readonly OptionSpec[], mode: ParseMode) => options.filter((option) => mode === 'cli' || !option.cliOnly);
export const optionsFor = (spec: CommandSpec, mode: ParseMode) => offered(spec.options, mode);

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
      return commaSplit(raw).map((part) => checked(option, part));
  }
}

/** `a,b` as two values: cobra's StringSlice split on commas. */
const commaSplit = (raw: string) => raw.split(',').map((part) => part.trim()).filter(Boolean);

function describe(option: OptionSpec): string {
  const repeatable = option.kind === 'list' ? (option.commaSeparated ? 'repeatable or comma-separated' : 'repeatable') : '';
  const notes = [option.required ? 'required' : '', repeatable, option.env ? `env: ${option.env}` : ''].filter(Boolean);
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
  const values = (raw: string) => (option.commaSeparated ? commaSplit(raw) : [raw]).map((one) => checked(option, one));
  if (option.kind === 'int') result.argParser((raw: string) => parseInt10(raw));
  else if (option.kind === 'list') result.argParser((raw: string, previous: string[] | undefined) => [...(previous ?? []), ...values(raw)]);
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
    // A group's options stop at its command (so `ring list --server X` is list's flag, not ring's).
    .enablePositionalOptions()
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
    const spec = GROUPS.find((g) => g.path.join(' ') === key);
    const group = parent
      .command(path[path.length - 1] as string)
      .description(spec?.summary ?? '')
      .showHelpAfterError(usageHint(mode, path, false));
    const persistent = offered(spec?.persistent ?? [], mode);
    // Parsed by the command they precede (hoistPersistentFlags); declared here for help and for a bare group.
    for (const option of persistent) for (const built of commanderOptions({ ...option, required: false })) group.addOption(built);
    if (persistent[0]) {
      const first = persistent[0];
      const flag = first.kind === 'bool' ? `--${first.name}` : `--${first.name} <${first.valueName ?? 'value'}>`;
      group.addHelpText('after', `\nOptions given here apply to the command that follows (as in the Go Elrond): ${[programName(mode), ...path].join(' ')} ${flag} <command>\n`);
    }
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

/**
 * Cobra's persistent flags: a group's flag given before the command (`ring --server URL list`,
 * `security ring --ring ID api-lock`) is moved to just after the command's name, so the command parses it as
 * its own (required flags, ELROND_* fallbacks and help all unchanged); the same flag given again after the
 * name still wins, as in cobra. A group flag the command does not take is an error naming both.
 */
function hoistPersistentFlags(argv: readonly string[], mode: ParseMode, commands: readonly CommandSpec[], groups: readonly GroupSpec[]): { argv: string[] } | { error: string; path: string[] } {
  const persistent = new Map<string, OptionSpec>();
  const words: string[] = [];
  const hoisted: Array<{ name: string; tokens: string[] }> = [];
  const offeredHere = commands.filter((spec) => mode === 'cli' || !spec.cliOnly);
  const startsWith = (long: readonly string[], short: readonly string[]) => short.every((word, j) => long[j] === word);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const path = [...words, arg];
    const leaf = offeredHere.find((spec) => spec.path.length === path.length && startsWith(spec.path, path));
    if (leaf) {
      const takes = new Set(optionsFor(leaf, mode).map((option) => option.name));
      const stray = hoisted.find((flag) => !takes.has(flag.name));
      if (stray) return { error: `error: option '--${stray.name}' does not apply to "${path.join(' ')}"`, path };
      return { argv: [...path, ...hoisted.flatMap((flag) => flag.tokens), ...argv.slice(i + 1)] };
    }
    if (offeredHere.some((spec) => spec.path.length > path.length && startsWith(spec.path, path))) {
      words.push(arg);
      const group = groups.find((g) => g.path.length === path.length && startsWith(g.path, path));
      for (const option of offered(group?.persistent ?? [], mode)) persistent.set(option.name, option);
      continue;
    }
    const flag = /^--(no-)?([a-z0-9-]+)(=.*)?$/.exec(arg);
    const option = flag ? persistent.get(flag[2] as string) : undefined;
    if (!flag || !option || (flag[1] && option.kind !== 'bool')) break;
    const tokens = [arg];
    if (option.kind !== 'bool' && flag[3] === undefined) {
      if (i + 1 >= argv.length) break;
      tokens.push(argv[++i] as string);
    }
    hoisted.push({ name: option.name, tokens });
  }
  // No command after the flags (or something else came first): commander reports it as it is.
  return { argv: [...argv] };
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
        const shown = isSecretName(option.env ?? '') ? '(hidden)' : `"${raw}"`;
        return { error: `error: environment variable ${option.env}=${shown} (for --${option.name}) is invalid: ${(error as Error).message}` };
      }
    }
    input[option.name] = value ?? (option.kind === 'bool' ? false : option.kind === 'list' ? [] : undefined);
  }
  return { input };
}

/**
 * An error message that stays on its first line whatever the user typed: commander and Elrond echo values
 * as given, so `--page $'1\n2'` split the message over two lines (and a value could carry terminal escape
 * codes). Found by test/cli-fuzz.test.ts. Commander's own "(Did you mean …?)" line is kept.
 */
function oneLine(message: string): string {
  const suggestion = /\n\(Did you mean [^\n]*\)$/.exec(message)?.[0] ?? '';
  return inertTerminalLine(message.slice(0, message.length - suggestion.length)) + suggestion;
}

/**
 * The form a chat command line opens: a command that has one (`ring release`, `release`), given with nothing
 * after its name. Undefined for anything else, which is parsed as usual.
 */
export function chatFormFor(argv: readonly string[], commands: readonly CommandSpec[] = COMMANDS): NonNullable<CommandSpec['chatForm']> | undefined {
  return commands.find((spec) => spec.chatForm && !spec.cliOnly && spec.path.length === argv.length && spec.path.every((word, i) => argv[i] === word))?.chatForm;
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
  const hoisted = hoistPersistentFlags(normalizeBoolFlags(argv, boolNames), mode, COMMANDS, GROUPS);
  if ('error' in hoisted) return { error: `${oneLine(hoisted.error)}\n${usageHint(mode, hoisted.path, true)}` };
  try {
    program.parse(hoisted.argv, { from: 'user' });
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
