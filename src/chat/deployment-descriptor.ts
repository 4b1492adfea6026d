import { SERVER_SETTINGS, envVarName } from '../config.js';
import { commandDefinition } from './register-slash-command.js';

/**
 * What plugin-manifest/elrond.json describes: the bot account, the /elrond command Elrond registers, and
 * every server setting with its flag, variable and default. In plugin.json naming for familiarity, but it is
 * a deployment descriptor: Elrond is a standalone service, not a Mattermost plugin (no server executables).
 */
export function deploymentDescriptor(version: string) {
  const command = commandDefinition('https://<public-url>', 'elrond');
  return {
    id: 'com.mattermost.elrond',
    name: 'Elrond',
    description: 'Ring-based releases of Mattermost Cloud, driven from a channel.',
    version,
    min_server_version: '9.0.0',
    bot: {
      username: 'elrond',
      display_name: 'Elrond',
      description: 'Runs ring-based releases: /elrond, release cards, approvals.',
      permissions: [
        'member of each team in --mattermost-team, as team admin (manage_own and manage_others_slash_commands)',
        'member of each channel releases are started from and of the --notify-channel (editing its cards needs edit_post there; post:all only creates posts)',
      ],
    },
    slash_command: {
      ...command,
      method: 'P',
      trigger_setting: '--slash-command-trigger',
      registered_by: 'elrond server at start-up, once per team: its own command (pointing at --public-url, or created by the bot) is updated in place; a command with the same trigger that is someone else\'s is left alone',
    },
    callbacks: { command: '/mattermost/command', action: '/mattermost/action', dialog: '/mattermost/dialog' },
    settings_schema: {
      settings: SERVER_SETTINGS.map((s) => ({
        key: s.key,
        flag: `--${s.flag}`,
        env: envVarName(s.flag),
        type: s.kind === 'bool' ? 'bool' : s.kind === 'int' ? 'number' : s.kind === 'list' ? 'list' : 'text',
        default: s.default,
        help_text: s.description,
        ...(s.secret ? { secret: true } : {}),
      })),
    },
  };
}
