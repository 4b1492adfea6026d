import type { z } from 'zod';
import type { ServiceDeps } from './deps.js';
import { inTransaction } from './deps.js';
import { waitForRunningSteps } from './lease-wait.js';
import { authorize, type Caller } from './access-policy.js';
import { parseInput } from './inputs.js';
import type { EngineFacts, Operation } from './operation.js';
import { RING_OPERATIONS } from './rings.js';
import { INSTALLATION_GROUP_OPERATIONS } from './installation-groups.js';
import { RELEASE_OPERATIONS } from './releases.js';
import { RING_INTERVENTION_OPERATIONS } from './ring-interventions.js';
import { WEBHOOK_OPERATIONS } from './webhooks.js';
import { FREEZE_OPERATIONS } from './freezes.js';
import { RELEASE_PLAN_OPERATIONS } from './release-plan.js';
import { WHY_OPERATIONS } from './why.js';
import { RING_OVERVIEW_OPERATIONS } from './ring-overview.js';
import { EVENT_OPERATIONS } from './events.js';
import { SUBSCRIPTION_OPERATIONS } from './subscriptions.js';
import { STATUS_PAGE_OPERATIONS } from './status-page-reads.js';

/**
 * Every operation Elrond offers, one entry each: its typed input, who may run it and what it does. REST, the CLI
 * (over REST), chat commands and buttons all reach state through {@link Operations.invoke} and nothing else; no
 * adapter checks a permission. README "Who may do what" is generated from this table (test/who-may-do-what.test.ts).
 */
export const OPERATIONS = {
  ...RING_OPERATIONS,
  ...INSTALLATION_GROUP_OPERATIONS,
  ...RELEASE_OPERATIONS,
  ...RING_INTERVENTION_OPERATIONS,
  ...RELEASE_PLAN_OPERATIONS,
  ...FREEZE_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  ...EVENT_OPERATIONS,
  ...WHY_OPERATIONS,
  ...RING_OVERVIEW_OPERATIONS,
  ...SUBSCRIPTION_OPERATIONS,
  ...STATUS_PAGE_OPERATIONS,
} satisfies Record<string, Operation<unknown, unknown>>;

export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/** The request an operation takes, before its schema checks it (camelCase, domain words). */
export type OperationInput<N extends OperationName> = z.input<(typeof OPERATIONS)[N]['input']>;
/** What an operation answers: domain objects; each adapter presents them its own way. */
export type OperationResult<N extends OperationName> = Awaited<ReturnType<(typeof OPERATIONS)[N]['run']>>;

declare const UNVALIDATED: unique symbol;
/** A request read from outside (a JSON body, a chat command's request) that only the operation's schema may vouch for. */
export interface Unvalidated {
  readonly [UNVALIDATED]: true;
}
export const unvalidated = (request: unknown): Unvalidated => request as Unvalidated;

/** The one way in: adapters parse their transport into a request, invoke, and present the result. */
export interface Operations {
  invoke<N extends OperationName>(name: N, input: OperationInput<N> | Unvalidated, caller: Caller): Promise<OperationResult<N>>;
  /**
   * Refuse (403) now when `caller` lacks the role `name` needs before any input: for a step that leads to the
   * operation without running it (the dialog a Force button opens). Invoking checks again.
   */
  refuseEarly(name: OperationName, caller: Caller): void;
}

type AnyOperation = Operation<unknown, unknown>;
const operation = (name: OperationName): AnyOperation => OPERATIONS[name] as AnyOperation;

/**
 * `invoke(name, input, caller)`: the guard's role, then the input (a 400 naming the field), then any role the input
 * calls for; a read then runs on its own, a write runs in one transaction with its events (the guard's rule checked
 * in it, on stored facts) and the supervisor is poked once it has committed.
 */
export function createOperations(deps: ServiceDeps & EngineFacts): Operations {
  const facts: EngineFacts = {
    ...(deps.maxParallelGroups !== undefined ? { maxParallelGroups: deps.maxParallelGroups } : {}),
    ...(deps.approvers ? { approvers: deps.approvers } : {}),
    ...(deps.sloEnabled !== undefined ? { sloEnabled: deps.sloEnabled } : {}),
    ...(deps.sloMaxFailures !== undefined ? { sloMaxFailures: deps.sloMaxFailures } : {}),
    ...(deps.webhookAllowPrivate !== undefined ? { webhookAllowPrivate: deps.webhookAllowPrivate } : {}),
    ...(deps.channels ? { channels: deps.channels } : {}),
    ...(deps.notifyChannel ? { notifyChannel: deps.notifyChannel } : {}),
  };
  return {
    async invoke<N extends OperationName>(name: N, request: OperationInput<N> | Unvalidated, caller: Caller): Promise<OperationResult<N>> {
      const op = operation(name);
      authorize(op.guard, caller);
      const input = parseInput(op.input, request, op.hints);
      authorize(op.guard, caller, { input });
      if (op.kind === 'read') return (await op.run({ db: deps.store.db, now: deps.clock.now(), facts }, input, caller.actor)) as OperationResult<N>;
      const actor = op.startsRollout && caller.rolloutActor ? await caller.rolloutActor() : caller.actor;
      const rule = op.guard.rule;
      const prepared = op.prepare ? await op.prepare({ db: deps.store.db, now: deps.clock.now(), facts }, input, actor) : undefined;
      const result = await waitForRunningSteps(deps, () =>
        inTransaction(deps, async (tx) => {
          if (rule) authorize(op.guard, caller, { input, facts: { startedBy: await rule.startedBy(tx, input) } });
          return op.run({ ...tx, facts }, input, actor, prepared);
        }),
      );
      deps.nudge();
      return result as OperationResult<N>;
    },
    refuseEarly(name, caller) {
      authorize(operation(name).guard, caller);
    },
  };
}
