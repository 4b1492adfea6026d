import type { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Actor } from '../model/ring.js';
import type { Guard } from './access-policy.js';
import type { Tx } from './deps.js';
import type { ChannelDirectory } from './subscriptions.js';

/** Engine settings some read-only answers (plans, "why") need so they match what the engine does. */
export interface EngineFacts {
  maxParallelGroups?: number;
  approvers?: readonly string[];
  sloEnabled?: boolean;
  /** Failed SLO checks in a row that fail a soak, for `why`. */
  sloMaxFailures?: number;
  /** `--webhook-allow-private`: webhooks may target loopback, private and link-local addresses. */
  webhookAllowPrivate?: boolean;
  /** Mattermost's channels, for subscriptions (absent without a bot). */
  channels?: ChannelDirectory;
  /** `--notify-channel`: the default subscription. */
  notifyChannel?: string;
}

/** What a write runs with: its transaction and the server settings its rules read. */
export interface OperationTx extends Tx {
  facts: EngineFacts;
}

/** What a read runs with: the database outside any transaction, the time, the engine settings. */
export interface ReadContext {
  db: Kysely<Database>;
  now: number;
  facts: EngineFacts;
}

interface OperationBase<I> {
  /** What it does, for the README's "Who may do what". */
  summary: string;
  /** The camelCase domain request; its first problem is a 400 naming the field. */
  input: z.ZodType<I, z.ZodTypeDef, unknown>;
  /** Examples added to a field's error message, keyed by its path (`priority`, `installationGroup.name`). */
  hints?: Readonly<Record<string, string>>;
}

/** An operation that changes nothing: run outside a transaction; its guard is a role (answers may be shared by role). */
export interface ReadOperation<I, O> extends OperationBase<I> {
  kind: 'read';
  guard: Omit<Guard<I>, 'rule' | 'elevate'>;
  run(ctx: ReadContext, input: I, actor: Actor): Promise<O>;
}

/** An operation that changes state: run in one transaction with its events, then the supervisor is poked. */
export interface WriteOperation<I, O, P = void> extends OperationBase<I> {
  kind: 'write';
  guard: Guard<I>;
  /** It starts a rollout: its actor is the caller's rollout actor (the channel its card goes to). */
  startsRollout?: boolean;
  /**
   * What the write needs from outside the database (e.g. Mattermost's word on a channel), asked once it is allowed
   * and before its transaction: a network call never holds the database's write lock.
   */
  prepare?(ctx: ReadContext, input: I, actor: Actor): Promise<P>;
  run(tx: OperationTx, input: I, actor: Actor, prepared: P): Promise<O>;
}

export type Operation<I, O> = ReadOperation<I, O> | WriteOperation<I, O, unknown>;

/** A read operation, its input and result types inferred from the schema and `run`. */
export const readOperation = <I, O>(op: Omit<ReadOperation<I, O>, 'kind'>): ReadOperation<I, O> => ({ kind: 'read', ...op });

/** A write operation, its input and result types inferred from the schema and `run`. */
export const writeOperation = <I, O, P = void>(op: Omit<WriteOperation<I, O, P>, 'kind'>): WriteOperation<I, O, P> => ({ kind: 'write', ...op });
