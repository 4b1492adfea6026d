import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics, Gauge } from 'prom-client';
import type { ServerConfig } from './config.js';
import { createLogger, type Logger } from './logging.js';
import { connect, type Store } from './store/connect.js';
import { migrateToLatest } from './store/migrate.js';
import { systemClock, type Clock } from './model/clock.js';
import { newId } from './model/ids.js';
import { outboxWriteCount, type EventSink } from './store/event-log.js';
import { createServices, type Services } from './service/services.js';
import { createHttpApp } from './http/app.js';
import { Supervisor } from './engine/supervisor.js';
import { OutboxWorker, type Deliverer } from './engine/outbox-worker.js';
import type { EngineDeps } from './engine/engine-deps.js';
import { createProvisionerClient, type ProvisionerClient } from './integrations/provisioner-client.js';
import { isSimulatorUrl, parseSimulatorUrl, type SimulatorOptions } from './integrations/provisioner-simulator-options.js';
import { createProvisionerSimulator } from './integrations/provisioner-simulator.js';
import { webhookDeliverer, webhookSink } from './integrations/webhooks.js';
import { grafanaDeliverer, grafanaSink } from './integrations/grafana.js';
import { thanosSloChecker } from './integrations/thanos-slo.js';
import { randomBytes } from 'node:crypto';
import { setSettingIfAbsent } from './store/system.js';
import type { AccessPolicy } from './service/access-policy.js';
import { ChatRoles } from './chat/chat-roles.js';
import { useOnce } from './store/single-use.js';
import { CommandTokens } from './chat/command-tokens.js';
import { createChatRouter, type ChatDeps } from './chat/chat-router.js';
import { createSlashCommandHandler } from './chat/slash-command-route.js';
import { createMattermostApi, type MattermostApi } from './chat/mattermost-client.js';
import { mattermostDeliverer, queueCardRedraw } from './chat/mattermost-notifier.js';
import { mattermostSink } from './chat/narration.js';
import { mattermostChannelDirectory } from './chat/channel-directory.js';
import { summarizeRollout } from './chat/card-snapshot.js';
import { cardPlacement } from './chat/card-placement.js';
import { parseTrigger, registerSlashCommands } from './chat/register-slash-command.js';
import { createEventStream } from './http/event-stream.js';
import { createPageAccess } from './http/page-access.js';
import { restCredentials } from './http/rest-credentials.js';
import { ElrondError } from './model/errors.js';
import { createStatusPageRouter } from './http/status-page-router.js';
import { WakeUps } from './engine/wake-ups.js';
import { leasesHeldByDeadOwners, startLiveness } from './store/liveness.js';
import { keepWebhookRegistered, webhookRegistration, WEBHOOK_SECRET_HEADER, type WebhookRegistration } from './integrations/provisioner-webhook-registration.js';
import { createProvisionerWebhookHandler } from './http/provisioner-webhook-route.js';

export interface RunningServer {
  url: string;
  /** The HTTP app: /api, /mattermost, health and metrics (tests walk its routes). */
  app: Express;
  store: Store;
  services: Services;
  supervisor: Supervisor;
  outbox: OutboxWorker;
  log: Logger;
  /**
   * Set when `--provisioner-server` is `sim://…`: no real installation is touched, and every surface that shows a
   * rollout must say so. `summary` is one line for a label ("4 installations per new group, 1 at a time, …").
   */
  simulatedProvisioner: { options: SimulatorOptions; seed: number; summary: string } | null;
  /** Chat roles by Mattermost user id (with a bot): `refresh()` is what runs every ten minutes. */
  chatRoles?: ChatRoles;
  /** Provisioner events as wake-ups: whether they arrive, and how many came. */
  wakeUps: WakeUps;
  close(): Promise<void>;
}

/** Things tests replace; production uses the defaults. */
export interface ServerOverrides {
  clock?: Clock;
  log?: Logger;
  provisioner?: ProvisionerClient;
  /** Start the supervisor and outbox loops (default true). Tests driving time by hand pass false. */
  startLoops?: boolean;
  random?: () => number;
  /** Wait for the /elrond registration before resolving (tests); production registers in the background. */
  awaitRegistration?: boolean;
  /** How often the status page's event stream reads the events table (ms; default 1000). */
  streamPollMs?: number;
  /** How long a request waits for a step holding its ring's lease before a 409 (ms; default 5000). */
  leaseWaitMs?: number;
}

/** `--listen` value → host and port (":3018" listens on every interface). */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const at = listen.lastIndexOf(':');
  const host = at > 0 ? listen.slice(0, at) : undefined;
  const port = Number(at >= 0 ? listen.slice(at + 1) : listen);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--listen "${listen}" is not [host]:port, e.g. :3018 or 127.0.0.1:3018`);
  return { host, port };
}

/** The port Elrond listens on unless --listen says otherwise. */
export const DEFAULT_PORT = 3018;

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * Where to listen, like Redis' protected mode: an unset --listen is every interface when a token exists and
 * 127.0.0.1 when none does; an explicit address beyond this machine with no token is refused unless
 * --insecure-no-auth says an open API is meant. `open` tells whether REST callers need no token.
 */
export function chooseListen(config: Pick<ServerConfig, 'listen' | 'insecureNoAuth'>, tokenExists: boolean): { listen: string; open: boolean } {
  if (!config.listen) return { listen: tokenExists ? `:${DEFAULT_PORT}` : `127.0.0.1:${DEFAULT_PORT}`, open: !tokenExists };
  if (tokenExists) return { listen: config.listen, open: false };
  const { host } = parseListen(config.listen);
  if (isLoopbackHost(host)) return { listen: config.listen, open: true };
  if (!config.insecureNoAuth) {
    throw new ElrondError(
      'BadRequest',
      `--listen ${config.listen} reaches beyond this machine, and no API token exists, so anyone who can reach the port would control every ring: start with --api-token <secret> (or create one: elrond token create --name <name> --role admin), listen on 127.0.0.1, or pass --insecure-no-auth if an open API is really meant`,
    );
  }
  return { listen: config.listen, open: true };
}

/**
 * Start Elrond: open and migrate the database, then serve the API and run the supervisor and the
 * delivery outbox.
 */
export async function startServer(config: ServerConfig, overrides: ServerOverrides = {}): Promise<RunningServer> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? createLogger({ debug: config.debug, machineReadable: config.machineReadableLogs });
  const trigger = parseTrigger(config.slashCommandTrigger);
  const owner = `elrond-${newId().slice(0, 8)}`;
  const random = overrides.random ?? Math.random;
  // A bad sim:// option is refused before anything is opened or written.
  const simulatorOptions = isSimulatorUrl(config.provisionerServer) && !overrides.provisioner ? parseSimulatorUrl(config.provisionerServer) : undefined;
  const store = connect(config.database, { poolSize: config.dbPoolSize });
  try {
    const report = await migrateToLatest(store.db);
    for (const name of report.applied) log.info({ migration: name }, 'applied migration');
  } catch (error) {
    await store.close();
    throw error;
  }

  // Announced before any lease is taken: a lease of this owner must never look like a dead one's.
  const liveness = await startLiveness(store.db, config.database, owner, (error) => log.error({ err: error }, 'lost the database session that proves this replica alive; other replicas may take over its work until it reconnects')).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });

  const grafanaTokens = config.grafanaUrl ? config.grafanaTokens.filter((t) => t !== '') : [];
  // One value for the engine and every ETA the chat shows (cards, "about 20m"): the same group schedule.
  const maxParallelGroups = Math.max(1, config.maxParallelGroups);
  const sinks: EventSink[] = [webhookSink, grafanaSink(grafanaTokens.length)];
  const deliverers: Deliverer[] = [webhookDeliverer(store.db, { clock, allowPrivate: config.webhookAllowPrivate }), grafanaDeliverer(store.db, { url: config.grafanaUrl, tokens: grafanaTokens })];
  if (config.webhookAllowPrivate) log.warn('--webhook-allow-private: webhooks may reach loopback, private and metadata addresses; whoever can create a webhook can make Elrond POST to internal services');

  // Chat-ops: the bot (when configured), its slash-command tokens, who may do what, the button secret.
  const mattermost: MattermostApi | undefined = config.mattermostUrl && config.mattermostToken ? createMattermostApi({ url: config.mattermostUrl, token: config.mattermostToken }) : undefined;
  const chatRoles = mattermost ? new ChatRoles({ api: mattermost, db: store.db, log, names: { admins: config.admins, releasers: config.releasers, approvers: config.approvers } }) : undefined;
  const policy: AccessPolicy = { admins: config.admins, releasers: config.releasers, approvers: config.approvers, allowSelfApproval: config.allowSelfApproval, ...(chatRoles ? { userIds: chatRoles.current } : {}) };
  const commandTokens = new CommandTokens(store.db, config.slashCommandTokens, () => clock.now());
  let actionSecret: Promise<string> | undefined;
  const secret = () => (actionSecret ??= config.actionSecret ? Promise.resolve(config.actionSecret) : setSettingIfAbsent(store.db, 'action-secret', randomBytes(32).toString('hex')));
  let bot: Promise<{ id: string; username: string }> | undefined;
  const botAccount = () =>
    (bot ??= mattermost!.me().catch((error: unknown) => {
      bot = undefined; // ask again next time instead of remembering a failure
      throw error;
    }));
  const botId = async () => (await botAccount()).id;
  let publicUrl = config.publicUrl;
  if (mattermost) {
    sinks.push(mattermostSink({ notifyChannel: config.notifyChannel, approvers: config.approvers, approvalDm: config.approvalDm, maxParallelGroups }));
    deliverers.push(
      mattermostDeliverer({
        db: store.db,
        api: mattermost,
        clock,
        log,
        notifyChannel: config.notifyChannel,
        botUserId: botId,
        card: async () => ({
          actionUrl: `${publicUrl.replace(/\/+$/, '')}/mattermost/action`,
          secret: await secret(),
          approvers: config.approvers,
          maxParallelGroups,
          pageUrl: publicUrl,
          simulated: simulatorOptions !== undefined,
          ...(config.grafanaDashboardUrl ? { grafanaDashboardUrl: config.grafanaDashboardUrl } : {}),
        }),
      }),
    );
    if (config.admins.length === 0) log.warn('no --admins given: chat is read-only (plus freeze now); name chat admins with --admins <Mattermost username>');
    await chatRoles!.start();
  }
  const simulator = simulatorOptions ? createProvisionerSimulator({ db: store.db, clock, options: simulatorOptions, random }) : undefined;
  if (simulator) log.warn({ provisioner: 'simulated', seed: simulator.seed }, `provisioner is SIMULATED (--provisioner-server sim://): no real installation is updated; ${simulator.summary}`);
  const provisioner =
    overrides.provisioner ??
    simulator ??
    createProvisionerClient({
      baseUrl: config.provisionerServer,
      ...(config.provisionerClientId && config.provisionerClientSecret && config.provisionerTokenEndpoint
        ? { oauth: { clientId: config.provisionerClientId, clientSecret: config.provisionerClientSecret, tokenEndpoint: config.provisionerTokenEndpoint } }
        : {}),
      now: () => clock.now(),
    });

  let supervisorRef: Supervisor | undefined;
  const wakeUps = new WakeUps({ db: store.db, clock, log, provisioner, nudge: () => supervisorRef?.nudge() });
  // Provisioner webhooks need an address the provisioner can reach and a registry to register in (the simulator has none).
  let webhook: WebhookRegistration | undefined;
  if (!config.provisionerWebhooks) log.info('provisioner webhooks off (--provisioner-webhooks=false): polling group status on the usual schedule');
  else if (!config.publicUrl) log.info('provisioner webhooks off: no --public-url for the provisioner to deliver to; polling group status on the usual schedule');
  else if (provisioner.webhooks) {
    const webhookSecret = config.provisionerWebhookSecret || (await setSettingIfAbsent(store.db, 'provisioner-webhook-secret', randomBytes(32).toString('hex')));
    webhook = webhookRegistration(config.publicUrl, webhookSecret);
  }

  const engineDeps: EngineDeps = {
    store,
    clock,
    log,
    sinks,
    provisioner,
    ...(config.thanosUrl ? { slo: thanosSloChecker({ url: config.thanosUrl }) } : {}),
    config: {
      maxParallelGroups,
      groupReleaseTimeoutMs: config.provisionerGroupReleaseTimeout * 1000,
      statusIntervalMs: Math.max(1, config.provisionerStatusInterval) * 1000,
      leaseMs: Math.max(5, config.leaseDuration) * 1000,
      sloIntervalMs: 60_000,
      sloMaxFailures: Math.max(1, config.sloMaxFailures),
      approvers: config.approvers,
    },
    owner,
    random,
    statusPolls: wakeUps,
  };
  // The status page's live updates: every replica reads the events table (overrides.streamPollMs in tests).
  const stream = createEventStream({ db: store.db, log, ...(overrides.streamPollMs ? { pollMs: overrides.streamPollMs } : {}) });
  const supervisor = new Supervisor(engineDeps, { pollSeconds: config.poll, rings: config.ringSupervisor, groups: config.installationgroupSupervisor });
  supervisorRef = supervisor;
  const outbox = new OutboxWorker({ store, clock, log, owner, leaseMs: engineDeps.config.leaseMs, random }, deliverers, config.poll > 0 ? Math.min(config.poll, 10) : 0);
  if (!config.ringSupervisor && !config.installationgroupSupervisor) log.warn('both supervisors are off: only the API will work');

  const services = createServices({
    store,
    clock,
    log,
    sinks,
    maxParallelGroups: engineDeps.config.maxParallelGroups,
    approvers: config.approvers,
    sloEnabled: Boolean(config.thanosUrl),
    sloMaxFailures: engineDeps.config.sloMaxFailures,
    webhookAllowPrivate: config.webhookAllowPrivate,
    ...(mattermost ? { channels: mattermostChannelDirectory(mattermost, botAccount) } : {}),
    notifyChannel: config.notifyChannel,
    ...(overrides.leaseWaitMs !== undefined ? { leaseWaitMs: overrides.leaseWaitMs } : {}),
    nudge: () => {
      supervisor.nudge();
      outbox.nudge();
      stream.poke();
    },
  });
  // Deliveries of other replicas, retries and deferred rows are the outbox's own timers' business.
  let outboxWritesSeen = outboxWriteCount();
  supervisor.loop.on('pass:done', () => {
    if (outboxWriteCount() !== outboxWritesSeen) {
      outboxWritesSeen = outboxWriteCount();
      outbox.nudge();
    }
    stream.poke();
  });

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  new Gauge({ name: 'elrond_supervisor_failures_total', help: 'failed supervisor steps since start', registers: [metrics], collect() { this.set(supervisor.loop.failures); } });
  new Gauge({ name: 'elrond_outbox_backlog', help: 'notifications waiting to be delivered', registers: [metrics], async collect() { this.set(await outbox.backlog()); } });
  const chatDeps: ChatDeps = {
    services,
    clock,
    log,
    policy,
    tokens: commandTokens,
    ...(mattermost ? { api: mattermost } : {}),
    secret,
    describeRollout: (rolloutId: string) => summarizeRollout(store.db, rolloutId, clock.now()),
    useOnce: (key: string, expiresAt: number) => useOnce(store.db, key, expiresAt, clock.now()),
    ...(mattermost
      ? {
          placeCard: cardPlacement({ api: mattermost, bot: botAccount, notifyChannel: config.notifyChannel, now: () => clock.now(), log }),
          redrawCard: async (rolloutId: string) => {
            await queueCardRedraw(store.db, rolloutId, clock.now());
            outbox.nudge();
          },
        }
      : {}),
    get baseUrl() {
      return `${publicUrl.replace(/\/+$/, '')}/mattermost`;
    },
  };
  const chatRouter = createChatRouter(chatDeps);
  const storedCredentials = restCredentials({ tokens: config.apiToken ? [{ token: config.apiToken, role: 'admin' }] : [], db: store.db, now: () => clock.now(), onTouchError: (error) => log.warn({ err: error }, 'could not record when an API token was last used') });
  let where: ReturnType<typeof chooseListen>;
  try {
    where = chooseListen(config, await storedCredentials.required());
  } catch (error) {
    await store.close();
    throw error;
  }
  // Once the API was guarded it stays guarded: revoking the last stored token must not open it up.
  const credentials = where.open ? storedCredentials : { ...storedCredentials, required: async () => true };
  if (where.open && !isLoopbackHost(parseListen(where.listen).host)) log.warn(`--insecure-no-auth: no API token, and listening on ${where.listen}; every REST caller who can reach the port is an admin, and X-Elrond-Actor is recorded only as an unverified label`);
  const pageAccess = createPageAccess({ credentials, now: () => clock.now(), secure: config.publicUrl.startsWith('https:') });
  const statusPage = createStatusPageRouter({ services, log, access: pageAccess, stream, simulated: simulator ? simulator.summary : null });
  const { app, observe, cachedReads } = createHttpApp({ services, store, clock, log, metrics, mount: [{ path: '/mattermost', router: chatRouter }, { path: '/', router: statusPage }], credentials, allowSelfApproval: config.allowSelfApproval, ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}) });

  const provisionerEvents = createProvisionerWebhookHandler({
    secret: () => webhook?.secret,
    header: WEBHOOK_SECRET_HEADER,
    receive: (event) => wakeUps.receive(event),
    log,
    observe: (status, seconds) => observe('POST', '/provisioner/webhook', status, seconds),
  });
  const slashCommands = createSlashCommandHandler(chatDeps, (status, seconds) => observe('POST', '/mattermost/command', status, seconds));
  const { host, port } = parseListen(where.listen);
  const server: Server = await new Promise((resolve, reject) => {
    const s = createServer((req, res) => {
      if (!provisionerEvents(req, res) && !slashCommands(req, res) && !cachedReads(req, res)) app(req, res);
    }).listen(port, host ?? '', () => resolve(s));
    s.once('error', reject);
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  }) as Server;
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const url = `http://${host && host !== '0.0.0.0' ? host : '127.0.0.1'}:${address.port}`;

  publicUrl ||= url;
  if (mattermost) {
    const registered = registerSlashCommands({ api: mattermost, teams: config.mattermostTeams, publicUrl, trigger, tokens: commandTokens, log }).then(
      (result) => {
        if (result) commandTokens.useRefresher(result.refresh);
        return result;
      },
      (error: unknown) => {
        log.error({ err: error }, 'Mattermost registration failed');
        return undefined;
      },
    );
    if (overrides.awaitRegistration) await registered;
  }
  const registration = webhook && provisioner.webhooks ? keepWebhookRegistered({ api: provisioner.webhooks, wanted: webhook, log, onResult: (ok) => wakeUps.setRegistered(ok), now: () => clock.now() }) : undefined;
  if (registration && overrides.awaitRegistration) await registration.first;
  // A replica that dies holding a lease is noticed within a second, not when its lease ends.
  let checkingOwners = false;
  const ownerWatch = liveness
    ? setInterval(() => {
        if (checkingOwners) return;
        checkingOwners = true;
        leasesHeldByDeadOwners(store.db, owner, clock.now())
          .then((found) => found && supervisor.nudge())
          .catch((error: unknown) => log.warn({ err: error }, 'could not check whether lease holders are alive'))
          .finally(() => (checkingOwners = false));
      }, 1000)
    : undefined;
  ownerWatch?.unref();
  if (overrides.startLoops !== false) {
    supervisor.start();
    outbox.start();
  }
  log.info({ url, database: store.description, owner }, 'elrond is listening');

  let closed = false;
  return {
    url,
    app,
    store,
    services,
    supervisor,
    outbox,
    log,
    simulatedProvisioner: simulator ? { options: simulator.options, seed: simulator.seed, summary: simulator.summary } : null,
    ...(chatRoles ? { chatRoles } : {}),
    wakeUps,
    async close() {
      if (closed) return;
      closed = true;
      registration?.stop();
      stream.close();
      chatRoles?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownerWatch) clearInterval(ownerWatch);
      await supervisor.stop();
      await outbox.stop();
      await liveness?.close();
      await store.close();
    },
  };
}
