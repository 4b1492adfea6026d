import type { ServiceDeps } from './deps.js';
import { ringService } from './rings.js';
import { installationGroupService } from './installation-groups.js';
import { releaseService } from './releases.js';
import { webhookService } from './webhooks.js';
import { ringInterventionService } from './ring-interventions.js';
import { listEvents, type EventQuery } from '../store/event-log.js';

/** Every operation Elrond offers. REST, the CLI (over REST) and chat all call these. */
export function createServices(deps: ServiceDeps) {
  return {
    rings: ringService(deps),
    groups: installationGroupService(deps),
    releases: releaseService(deps),
    webhooks: webhookService(deps),
    interventions: ringInterventionService(deps),
    events: { list: (query: EventQuery) => listEvents(deps.store.db, query) },
  };
}

export type Services = ReturnType<typeof createServices>;
