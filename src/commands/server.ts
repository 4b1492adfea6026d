import { SERVER_SETTINGS, envVarName, type ServerConfig } from '../config.js';
import { ElrondError } from '../model/errors.js';
import { inputBool, inputInt, inputList, inputString, nothing, type CommandInput, type CommandSpec, type OptionSpec } from './spec.js';

/** The Go server's only cobra StringSlice flag: `--grafana-token a,b` is two tokens there, so it is here too. */
const COMMA_SEPARATED = new Set(['grafana-token']);

/** One option per server setting: `--flag`, its ELROND_* variable, its default; bools also as `--no-flag`. */
export const SERVER_OPTIONS: OptionSpec[] = SERVER_SETTINGS.map((setting) => ({
  name: setting.flag,
  kind: setting.kind,
  description: setting.description,
  env: envVarName(setting.flag),
  ...(setting.kind === 'bool' ? { negatable: true } : {}),
  ...(COMMA_SEPARATED.has(setting.flag) ? { commaSeparated: true } : {}),
  ...(setting.kind === 'int' ? { valueName: 'n' } : {}),
  ...((Array.isArray(setting.default) && setting.default.length === 0) || setting.default === '' ? {} : { default: setting.default }),
}));

/** The server configuration the flags and ELROND_* variables describe. */
export function serverConfigFromInput(input: CommandInput): ServerConfig {
  const config: Record<string, unknown> = {};
  for (const setting of SERVER_SETTINGS) {
    switch (setting.kind) {
      case 'string':
        config[setting.key] = inputString(input, setting.flag);
        break;
      case 'int':
        config[setting.key] = inputInt(input, setting.flag);
        break;
      case 'bool':
        config[setting.key] = inputBool(input, setting.flag);
        break;
      case 'list':
        config[setting.key] = inputList(input, setting.flag);
        break;
    }
  }
  return config as unknown as ServerConfig;
}

const server: CommandSpec = {
  path: ['server'],
  operations: [],
  summary: 'Run the Elrond server: REST API, supervisors and (when configured) the Mattermost bot.',
  examples: [
    'server',
    'server --database postgres://elrond@localhost:5432/elrond --listen :3018 --provisioner-server http://provisioner:8075',
    'server --grafana-url https://grafana.example.com --grafana-token <org1-token> --grafana-token <org2-token>',
    'server --grafana-url https://grafana.example.com --grafana-token <org1-token>,<org2-token>',
  ],
  options: SERVER_OPTIONS,
  cliOnly: true,
  async run(ctx, input) {
    if (!ctx.serve) throw new ElrondError('BadRequest', '"server" runs only from the elrond CLI');
    await ctx.serve(serverConfigFromInput(input));
    return nothing;
  },
};

export const SERVER_COMMANDS: CommandSpec[] = [server];
