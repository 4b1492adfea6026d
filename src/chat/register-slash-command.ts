import type { Logger } from 'pino';
import type { Command } from '@mattermost/types/integrations';
import type { CommandDefinition, MattermostApi } from './mattermost-client.js';
import type { CommandTokens } from './command-tokens.js';

export const TRIGGER = 'elrond';

export function commandDefinition(publicUrl: string, botUsername: string): CommandDefinition {
  return {
    trigger: TRIGGER,
    url: `${publicUrl.replace(/\/+$/, '')}/mattermost/command`,
    display_name: 'Elrond',
    description: 'Ring-based releases of Mattermost Cloud',
    auto_complete: true,
    auto_complete_desc: 'Release Mattermost ring by ring: status, ring release, history, help',
    auto_complete_hint: '[status|ring release|ring list|history|help]',
    username: botUsername,
  };
}

function describe(error: unknown): string {
  const e = error as { status_code?: number; message?: string; code?: string };
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (e.status_code) return `${e.status_code} ${e.message ?? ''}`.trim();
  return [e.message ?? e.code ?? String(error), cause?.code ?? cause?.message].filter(Boolean).join(": ");
}

/** Mattermost's answer when a team already has a command with this trigger. */
const DUPLICATE_TRIGGER = 'api.command.duplicate_trigger.app_error';

/**
 * The team's `/elrond`: the one already there, updated, or a new one. Replicas starting together may all find
 * none and all add one; Mattermost keeps the first and refuses the others as duplicates, which then use it.
 */
async function ensureCommand(api: MattermostApi, teamId: string, definition: CommandDefinition): Promise<{ command: Command; how: string }> {
  const find = async () => (await api.customCommands(teamId)).find((c) => c.trigger === TRIGGER && c.delete_at === 0);
  const existing = await find();
  if (existing) return { command: await api.editCommand(existing, definition), how: 'updated' };
  try {
    return { command: await api.addCommand(teamId, definition), how: 'registered' };
  } catch (error) {
    const theirs = (error as { server_error_id?: string }).server_error_id === DUPLICATE_TRIGGER ? await find() : undefined;
    if (!theirs) throw error;
    return { command: theirs, how: 'another replica just registered' };
  }
}

/**
 * Check the bot token, then make sure each team has exactly one `/elrond` command pointing at this server:
 * update the one already there (restarts never duplicate it) or add it. Keeps each team's command token.
 * Problems are one clear log line each; the REST API keeps working regardless.
 */
export async function registerSlashCommands(options: { api: MattermostApi; teams: readonly string[]; publicUrl: string; tokens: CommandTokens; log: Logger }): Promise<{ botUserId: string } | undefined> {
  const { api, log } = options;
  let me: { id: string; username: string };
  try {
    me = await api.me();
  } catch (error) {
    log.error(`cannot use the Mattermost bot token (${describe(error)}): check --mattermost-url and --mattermost-token; chat-ops are off, the REST API works`);
    return undefined;
  }
  const definition = commandDefinition(options.publicUrl, me.username);
  for (const teamSpec of options.teams) {
    try {
      const team = await api.team(teamSpec);
      const { command, how } = await ensureCommand(api, team.id, definition);
      await options.tokens.remember(team.id, command.token);
      log.info({ team: team.name, url: definition.url }, `${how} /elrond in team`);
    } catch (error) {
      log.error(`cannot register /elrond in team "${teamSpec}" (${describe(error)}): check the team name and that the bot may manage slash commands there`);
    }
  }
  return { botUserId: me.id };
}
