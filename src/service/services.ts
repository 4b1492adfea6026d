import type { ServiceDeps } from './deps.js';
import { ringService } from './rings.js';
import { installationGroupService } from './installation-groups.js';
import { releaseService } from './releases.js';
import { webhookService } from './webhooks.js';
import { ringInterventionService } from './ring-interventions.js';
import { freezeService } from './freezes.js';
import { releasePlanService } from './release-plan.js';
import { whyService } from './why.js';
import { listEvents, type EventQuery } from '../store/event-log.js';
import { createReadCache } from './read-cache.js';
import { ringOverview } from './ring-overview.js';
import { subscriptionService, type ChannelDirectory } from './subscriptions.js';

/** Every operation Elrond offers. REST, the CLI (over REST) and chat all call these. */
/** Engine settings some read-only answers (plans, "why") need so they match what the engine does. */
export interface EngineFacts {
  maxParallelGroups?: number;
  approvers?: readonly string[];
  sloEnabled?: boolean;
  /** Failed SLO checks in a row that fail a soak, for `why`. */
  sloMaxFailures?: number;
}

/** What the subscription operations need from chat: Mattermost's channels (absent without a bot), --notify-channel. */
export interface ChatFacts {
  channels?: ChannelDirectory;
  notifyChannel?: string;
}

export function createServices(deps: ServiceDeps & EngineFacts & ChatFacts) {
  return {
    rings: ringService(deps),
    groups: installationGroupService(deps),
    releases: releaseService(deps),
    webhooks: webhookService(deps),
    interventions: ringInterventionService(deps),
    freezes: freezeService(deps),
    plans: releasePlanService(deps),
    why: whyService(deps),
    subscriptions: subscriptionService(deps),
    /** Every live ring at a glance (`elrond status`). */
    overview: () => ringOverview(deps.store.db, deps.clock.now()),
    events: { list: (query: EventQuery) => listEvents(deps.store.db, query) },
    /** Recent answers to read requests, shared while the data is unchanged. */
    reads: createReadCache({ dataVersion: () => deps.store.dataVersion(), clock: deps.clock }),
  };
}

export type Services = ReturnType<typeof createServices>;
