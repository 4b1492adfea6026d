/**
 * Every `elrond server` setting, defined once: its flag, its ELROND_* variable, its default and its help.
 * The CLI builds its options from this list, and plugin-manifest/ documents the same list.
 */
export interface ServerConfig {
  database: string;
  listen: string;
  /** Seconds between backstop supervisor runs; 0 disables the supervisor's schedule (API pokes still run it). */
  poll: number;
  provisionerServer: string;
  provisionerClientId: string;
  provisionerClientSecret: string;
  provisionerTokenEndpoint: string;
  /** Seconds before a group's rollout is declared failed. */
  provisionerGroupReleaseTimeout: number;
  /** Longest gap, in seconds, between two group status polls. */
  provisionerStatusInterval: number;
  /** Register a webhook on the provisioner and read a group's status when its installations change. */
  provisionerWebhooks: boolean;
  /** Secret the provisioner sends back with each event; generated and stored in the database when empty. */
  provisionerWebhookSecret: string;
  grafanaUrl: string;
  grafanaTokens: string[];
  grafanaDashboardUrl: string;
  thanosUrl: string;
  /** Failed SLO checks in a row after which a soaking ring fails. */
  sloMaxFailures: number;
  ringSupervisor: boolean;
  installationgroupSupervisor: boolean;
  maxParallelGroups: number;
  /** Seconds a step's lease lasts before another process may take it over. */
  leaseDuration: number;
  debug: boolean;
  machineReadableLogs: boolean;
  apiToken: string;
  /** Start listening beyond 127.0.0.1 with no API token: every REST caller is then an admin. */
  insecureNoAuth: boolean;
  /** Bearer token /metrics requires ('' : open). */
  metricsToken: string;
  mattermostUrl: string;
  mattermostToken: string;
  mattermostTeams: string[];
  publicUrl: string;
  slashCommandTokens: string[];
  /** Trigger word of the slash command Elrond registers (`elrond`: /elrond). */
  slashCommandTrigger: string;
  notifyChannel: string;
  admins: string[];
  releasers: string[];
  approvers: string[];
  actionSecret: string;
  allowSelfApproval: boolean;
  /** Also send each approver a direct message when a ring waits for approval. */
  approvalDm: boolean;
  dbPoolSize: number;
  /** Webhooks may target loopback, private, link-local and metadata addresses. */
  webhookAllowPrivate: boolean;
}

type Kind = 'string' | 'int' | 'bool' | 'list';

export interface SettingSpec {
  key: keyof ServerConfig;
  /** Flag name without dashes, e.g. `provisioner-server`. */
  flag: string;
  kind: Kind;
  default: string | number | boolean | string[];
  description: string;
  secret?: boolean;
}

export const SERVER_SETTINGS: readonly SettingSpec[] = [
  { key: 'database', flag: 'database', kind: 'string', default: 'sqlite://elrond.db', description: 'database URL: sqlite://file.db, sqlite:///abs/path.db, sqlite://:memory: or postgres://user@host:5432/db' },
  { key: 'listen', flag: 'listen', kind: 'string', default: '', description: 'address to listen on, [host]:port; default :3018 (every interface) when an API token exists, 127.0.0.1:3018 when none does' },
  { key: 'poll', flag: 'poll', kind: 'int', default: 30, description: 'seconds between backstop supervisor runs (changes and deadlines wake it sooner); 0 turns the schedule off' },
  { key: 'provisionerServer', flag: 'provisioner-server', kind: 'string', default: 'http://localhost:8075', description: 'Mattermost Cloud provisioner URL, or sim:// for the built-in simulator (e.g. sim://?rollout=5s&installations=4&fail=0.05)' },
  { key: 'provisionerClientId', flag: 'provisioner-client-id', kind: 'string', default: '', description: 'OAuth2 client id for the provisioner (with secret and token endpoint)' },
  { key: 'provisionerClientSecret', flag: 'provisioner-client-secret', kind: 'string', default: '', description: 'OAuth2 client secret for the provisioner', secret: true },
  { key: 'provisionerTokenEndpoint', flag: 'provisioner-token-endpoint', kind: 'string', default: '', description: 'OAuth2 token endpoint for the provisioner' },
  { key: 'provisionerGroupReleaseTimeout', flag: 'provisioner-group-release-timeout', kind: 'int', default: 3600, description: 'seconds a group rollout may take before it fails' },
  { key: 'provisionerStatusInterval', flag: 'provisioner-status-interval', kind: 'int', default: 10, description: 'longest gap in seconds between group status polls (polls start within a second and back off up to this)' },
  { key: 'provisionerWebhooks', flag: 'provisioner-webhooks', kind: 'bool', default: true, description: 'register <public-url>/provisioner/webhook on the provisioner and read a group\'s status as soon as its installations change (polling slows to a 30 s backstop while events arrive); needs --public-url' },
  { key: 'provisionerWebhookSecret', flag: 'provisioner-webhook-secret', kind: 'string', default: '', description: 'secret header value the provisioner sends with each event; generated and stored in the database when empty (every replica then shares it)', secret: true },
  { key: 'grafanaUrl', flag: 'grafana-url', kind: 'string', default: '', description: 'Grafana URL for release annotations' },
  { key: 'grafanaTokens', flag: 'grafana-token', kind: 'list', default: [], description: 'Grafana service account token, one per org (repeatable)', secret: true },
  { key: 'grafanaDashboardUrl', flag: 'grafana-dashboard-url', kind: 'string', default: '', description: 'dashboard linked from release cards, with from/to spanning the rollout' },
  { key: 'thanosUrl', flag: 'thanos-url', kind: 'string', default: '', description: 'Thanos/Prometheus URL for the SLO check while rings soak' },
  { key: 'sloMaxFailures', flag: 'slo-max-failures', kind: 'int', default: 10, description: 'SLO checks failing in a row (retried after 5 s, doubling up to 5 min) before a soaking ring fails' },
  { key: 'ringSupervisor', flag: 'ring-supervisor', kind: 'bool', default: true, description: 'run the ring supervisor' },
  { key: 'installationgroupSupervisor', flag: 'installationgroup-supervisor', kind: 'bool', default: true, description: 'run the installation group supervisor' },
  { key: 'maxParallelGroups', flag: 'max-parallel-groups', kind: 'int', default: 1, description: 'installation groups of one ring rolled at the same time' },
  { key: 'leaseDuration', flag: 'lease-duration', kind: 'int', default: 60, description: 'seconds a step lease lasts; a crashed replica\'s work is taken over after this' },
  { key: 'dbPoolSize', flag: 'db-pool-size', kind: 'int', default: 10, description: 'Postgres connection pool size' },
  { key: 'apiToken', flag: 'api-token', kind: 'string', default: '', description: 'bootstrap admin token: require "Authorization: Bearer <token>" on /api (more tokens, with roles: elrond token create)', secret: true },
  { key: 'insecureNoAuth', flag: 'insecure-no-auth', kind: 'bool', default: false, description: 'allow a non-loopback --listen with no API token: every REST caller is then an admin (logged as a warning)' },
  { key: 'metricsToken', flag: 'metrics-token', kind: 'string', default: '', description: 'require "Authorization: Bearer <token>" on /metrics', secret: true },
  { key: 'debug', flag: 'debug', kind: 'bool', default: false, description: 'debug logging' },
  { key: 'machineReadableLogs', flag: 'machine-readable-logs', kind: 'bool', default: false, description: 'JSON logs, one object per line' },
  { key: 'mattermostUrl', flag: 'mattermost-url', kind: 'string', default: '', description: 'Mattermost server URL (enables chat-ops)' },
  { key: 'mattermostToken', flag: 'mattermost-token', kind: 'string', default: '', description: 'bot access token', secret: true },
  { key: 'mattermostTeams', flag: 'mattermost-team', kind: 'list', default: [], description: 'team name or id to register /elrond in (repeatable)' },
  { key: 'publicUrl', flag: 'public-url', kind: 'string', default: '', description: 'URL at which Mattermost reaches this server' },
  { key: 'slashCommandTokens', flag: 'slash-command-token', kind: 'list', default: [], description: 'token of an /elrond command registered by hand (repeatable)', secret: true },
  { key: 'slashCommandTrigger', flag: 'slash-command-trigger', kind: 'string', default: 'elrond', description: 'trigger word of the slash command Elrond registers, e.g. elrond-staging for a second deployment in the same team' },
  { key: 'notifyChannel', flag: 'notify-channel', kind: 'string', default: '', description: 'team-name/channel-name or channel id where releases not started from chat are narrated' },
  { key: 'admins', flag: 'admins', kind: 'list', default: [], description: 'Mattermost usernames with every role: force, roll back, override (repeatable; none: chat only reads and freezes)' },
  { key: 'releasers', flag: 'releasers', kind: 'list', default: [], description: 'Mattermost usernames allowed to release, pause, resume and cancel (repeatable)' },
  { key: 'approvers', flag: 'approvers', kind: 'list', default: [], description: 'Mattermost usernames allowed to approve rings (repeatable; none: only admins approve)' },
  { key: 'actionSecret', flag: 'action-secret', kind: 'string', default: '', description: 'HMAC key for buttons and dialogs; generated and stored in the database when empty', secret: true },
  { key: 'allowSelfApproval', flag: 'allow-self-approval', kind: 'bool', default: false, description: 'let the person who started a release approve its rings' },
  { key: 'webhookAllowPrivate', flag: 'webhook-allow-private', kind: 'bool', default: false, description: 'let webhooks reach loopback, private, link-local and cloud metadata addresses (refused by default)' },
  { key: 'approvalDm', flag: 'approval-dm', kind: 'bool', default: false, description: 'when a ring waits for approval, also send each --approvers user a direct message linking the release card' },
];

/** ELROND_PROVISIONER_SERVER for `provisioner-server`. */
export function envVarName(flag: string): string {
  return `ELROND_${flag.replace(/-/g, '_').toUpperCase()}`;
}

export function defaultServerConfig(): ServerConfig {
  const config: Record<string, unknown> = {};
  for (const spec of SERVER_SETTINGS) config[spec.key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  return config as unknown as ServerConfig;
}
