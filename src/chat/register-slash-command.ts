import type { Logger } from 'pino';
import type { Command } from '@mattermost/types/integrations';
import type { CommandDefinition, MattermostApi } from './mattermost-client.js';
import type { CommandTokens } from './command-tokens.js';

/** The trigger word registered unless `--slash-command-trigger` says otherwise. */
export const DEFAULT_TRIGGER = 'elrond';

/**
 * A `--slash-command-trigger` value as Mattermost will store it (`Command.IsValid`, lowercased): 1 to 128
 * characters, no spaces, no leading slash. Throws an error naming the fix otherwise.
 */
export function parseTrigger(value: string): string {
  const trigger = value.trim().toLowerCase();
  if (trigger.length === 0 || trigger.length > 128 || trigger.startsWith('/') || /\s/.test(trigger)) {
    throw new Error(`--slash-command-trigger "${value}" is not a valid trigger: use 1 to 128 characters without spaces or a leading slash, e.g. elrond-staging`);
  }
  return trigger;
}

export function commandDefinition(publicUrl: string, botUsername: string, trigger: string = DEFAULT_TRIGGER): CommandDefinition {
  return {
    trigger,
    url: `${publicUrl.replace(/\/+$/, '')}/mattermost/command`,
    display_name: 'Elrond',
    description: 'Ring-based releases of Mattermost Cloud',
    auto_complete: true,
    auto_complete_desc: 'Release Mattermost ring by ring: status, release (a form), subscribe, history, help',
    auto_complete_hint: '[status|release|ring list|subscribe|history|help]',
    username: botUsername,
  };
}

function describe(error: unknown): string {
  const e = error as { status_code?: number; message?: string; code?: string };
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (e.status_code) return `${e.status_code} ${e.message ?? ''}`.trim();
  return [e.message ?? e.code ?? String(error), cause?.code ?? cause?.message].filter(Boolean).join(': ');
}

/** Mattermost's answer when a team already has a command with this trigger. */
const DUPLICATE_TRIGGER = 'api.command.duplicate_trigger.app_error';

/** Who the registration is for: this deployment's command definition and the bot that registers it. */
interface Registrant {
  definition: CommandDefinition;
  botUserId: string;
}

/**
 * This deployment's command among a team's: the trigger it registers, pointing at its `--public-url`, or else
 * created by its bot (the public URL changed since). Any other command is someone else's and is never adopted.
 */
function ownCommand(commands: readonly Command[], who: Registrant): Command | undefined {
  const candidates = commands.filter((c) => c.trigger === who.definition.trigger && c.delete_at === 0);
  return candidates.find((c) => c.url === who.definition.url) ?? candidates.find((c) => c.creator_id === who.botUserId);
}

function othersCommand(commands: readonly Command[], who: Registrant): Command | undefined {
  return commands.find((c) => c.trigger === who.definition.trigger && c.delete_at === 0);
}

/** Why registration in a team stopped, said once in the log with the fix. */
class RegistrationProblem extends Error {}

function conflict(team: string, other: Command, who: Registrant): RegistrationProblem {
  const trigger = who.definition.trigger;
  return new RegistrationProblem(
    `/${trigger} in team "${team}" belongs to someone else (it points at ${other.url}, not at this deployment's ${who.definition.url}, and was created by another user): Elrond leaves it alone, so /${trigger} there does not reach this server. Give this deployment its own trigger with --slash-command-trigger (e.g. ${trigger}-staging), or delete that command if it is stale.`,
  );
}

function invisible(team: string, who: Registrant): RegistrationProblem {
  const trigger = who.definition.trigger;
  return new RegistrationProblem(
    `team "${team}" already has a /${trigger} command the bot cannot see: without manage_others_slash_commands (team admins have it) Mattermost lists only the bot's own commands. Make the bot a team admin so Elrond can tell whether that command is its own, delete that command, or give this deployment another trigger with --slash-command-trigger.`,
  );
}

function forbidden(team: string, who: Registrant, error: unknown): RegistrationProblem {
  return new RegistrationProblem(
    `the bot may not manage slash commands in team "${team}" (${describe(error)}): make it a team admin there (manage_own_slash_commands), or register /${who.definition.trigger} by hand and pass its token with --slash-command-token.`,
  );
}

async function listCommands(api: MattermostApi, team: { id: string; name: string }, who: Registrant): Promise<Command[]> {
  try {
    return await api.customCommands(team.id);
  } catch (error) {
    if ((error as { status_code?: number }).status_code === 403) throw forbidden(team.name, who, error);
    throw error;
  }
}

/** Add the command; when Mattermost refuses the trigger as taken, find out whose it is. */
async function addCommand(api: MattermostApi, team: { id: string; name: string }, who: Registrant): Promise<{ command: Command; how: string }> {
  try {
    return { command: await api.addCommand(team.id, who.definition), how: 'registered' };
  } catch (error) {
    if ((error as { status_code?: number }).status_code === 403) throw forbidden(team.name, who, error);
    if ((error as { server_error_id?: string }).server_error_id !== DUPLICATE_TRIGGER) throw error;
    // Replicas starting together may all find none and all add one; Mattermost keeps the first.
    const commands = await listCommands(api, team, who);
    const mine = ownCommand(commands, who);
    if (mine) return { command: mine, how: 'another replica just registered' };
    const other = othersCommand(commands, who);
    throw other ? conflict(team.name, other, who) : invisible(team.name, who);
  }
}

/** The team's command for this deployment: its own, updated to point here, or a new one. */
async function ensureCommand(api: MattermostApi, team: { id: string; name: string }, who: Registrant): Promise<{ command: Command; how: string }> {
  const commands = await listCommands(api, team, who);
  const mine = ownCommand(commands, who);
  if (mine) return { command: await api.editCommand(mine, who.definition), how: 'updated' };
  const other = othersCommand(commands, who);
  if (other) throw conflict(team.name, other, who);
  return addCommand(api, team, who);
}

/** Re-reads a team's command token (e.g. after someone regenerated or deleted it); undefined when it cannot. */
export type CommandRefresher = (teamId: string) => Promise<string | undefined>;

export interface Registered {
  botUserId: string;
  refresh: CommandRefresher;
}

/**
 * Check the bot token, then make sure each team has this deployment's command (`--slash-command-trigger`,
 * pointing at `<public-url>/mattermost/command`): its own updated in place (restarts never duplicate it) or a new
 * one. A command with the same trigger that is someone else's is left alone. Keeps each team's command token.
 * Problems are one clear log line each; the REST API keeps working regardless.
 */
export async function registerSlashCommands(options: { api: MattermostApi; teams: readonly string[]; publicUrl: string; trigger?: string; tokens: CommandTokens; log: Logger }): Promise<Registered | undefined> {
  const { api, log } = options;
  let me: { id: string; username: string };
  try {
    me = await api.me();
  } catch (error) {
    log.error(`cannot use the Mattermost bot token (${describe(error)}): check --mattermost-url and --mattermost-token; chat-ops are off, the REST API works`);
    return undefined;
  }
  const who: Registrant = { definition: commandDefinition(options.publicUrl, me.username, options.trigger), botUserId: me.id };
  const trigger = who.definition.trigger;
  for (const teamSpec of options.teams) {
    try {
      const team = await api.team(teamSpec);
      const { command, how } = await ensureCommand(api, team, who);
      await options.tokens.remember(team.id, command.token);
      log.info({ team: team.name, url: who.definition.url }, `${how} /${trigger} in team`);
    } catch (error) {
      if (error instanceof RegistrationProblem) log.error(`cannot register /${trigger}: ${error.message}`);
      else log.error(`cannot register /${trigger} in team "${teamSpec}" (${describe(error)}): check the team name and that the bot may manage slash commands there`);
    }
  }
  return { botUserId: me.id, refresh: (teamId) => refreshCommand(api, teamId, who, log) };
}

/**
 * A team's current token for this deployment's command, read again from Mattermost: someone regenerated it, or
 * deleted the command (then it is registered again). Never adopts someone else's command.
 */
async function refreshCommand(api: MattermostApi, teamId: string, who: Registrant, log: Logger): Promise<string | undefined> {
  const trigger = who.definition.trigger;
  try {
    const team = { id: teamId, name: teamId };
    const mine = ownCommand(await listCommands(api, team, who), who);
    if (mine) return mine.token;
    const { command } = await addCommand(api, team, who);
    log.warn({ team: teamId, url: who.definition.url }, `/${trigger} was missing in team ${teamId} (deleted?): registered it again`);
    return command.token;
  } catch (error) {
    log.warn({ team: teamId }, `could not re-read /${trigger} in team ${teamId}: ${error instanceof RegistrationProblem ? error.message : describe(error)}`);
    return undefined;
  }
}
