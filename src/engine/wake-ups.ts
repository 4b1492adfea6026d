import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { groupStepRunning, rollingProvisionerGroups, wakeRollingGroup } from '../store/installation-groups.js';
import type { Clock } from '../model/clock.js';
import type { ProvisionerClient } from '../integrations/provisioner-client.js';
import { nextStatusPollDelay } from '../model/group-decision.js';

/** While the provisioner's events arrive, a rolling group is still read this often, in case one is lost. */
export const WEBHOOK_BACKSTOP_MS = 30_000;
/** No event for this long: the webhook is presumed broken and polling returns to its usual schedule. */
export const WEBHOOK_QUIET_MS = 2 * WEBHOOK_BACKSTOP_MS;
/** At most one status read per group per this many ms, however many events arrive. */
export const WAKE_COALESCE_MS = 200;
/**
 * Installation states that mean "still rolling": an installation entering one cannot end a rollout, so it wakes
 * no group (10 installations × 3 changes would otherwise cost 30 reads instead of 10).
 */
const STILL_ROLLING = new Set(['update-requested', 'update-in-progress']);

/** An installation state change as the provisioner delivers it (provisioner-api.md A.7), already validated. */
export interface InstallationEvent {
  installationId: string;
  newState: string;
}

export interface WakeUpsDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  provisioner: ProvisionerClient;
  /** Runs the supervisor soon (coalesced by the supervisor). */
  nudge: () => void;
}

/**
 * Provisioner events as wake-ups. An event names an installation, never a group: it is mapped to the groups
 * being rolled through their installation lists, and only moves the group's next status read earlier. State is
 * always read back from the provisioner, so a forged, replayed, lost or out-of-order event can neither advance
 * nor stall a rollout; at worst it costs one status read per group per {@link WAKE_COALESCE_MS}.
 */
export class WakeUps {
  readonly #deps: WakeUpsDeps;
  #registered = false;
  #lastEventAt: number | undefined;
  /** installation id → provisioner group id, for the groups rolling when last listed. */
  #groupOf = new Map<string, string>();
  #listedAt = Number.NEGATIVE_INFINITY;
  #listing: Promise<void> | null = null;
  readonly #wokenAt = new Map<string, number>();
  /** Events received and groups woken since start (bench/ reads them). */
  readonly stats = { events: 0, wakes: 0 };

  constructor(deps: WakeUpsDeps) {
    this.#deps = deps;
  }

  /** Registration succeeded (true) or failed (false): without it no event can come, so polling stays as it was. */
  setRegistered(registered: boolean): void {
    this.#registered = registered;
  }

  /** Whether the provisioner's events are arriving now. */
  eventsFlowing(now: number): boolean {
    return this.#registered && this.#lastEventAt !== undefined && now - this.#lastEventAt <= WEBHOOK_QUIET_MS;
  }

  /**
   * How long until a rolling group's next status read: the backstop while events arrive (they wake the group
   * when something happens), today's backoff otherwise.
   */
  statusPollDelay(elapsedMs: number, maxIntervalMs: number): number {
    const usual = nextStatusPollDelay(elapsedMs, maxIntervalMs);
    return this.eventsFlowing(this.#deps.clock.now()) ? Math.max(usual, WEBHOOK_BACKSTOP_MS) : usual;
  }

  /** Take one verified event; never throws (the HTTP answer has already gone). */
  async receive(event: InstallationEvent): Promise<void> {
    const now = this.#deps.clock.now();
    this.#lastEventAt = now;
    this.stats.events++;
    if (STILL_ROLLING.has(event.newState)) return;
    try {
      let group = this.#groupOf.get(event.installationId);
      if (group === undefined) {
        await this.#relist(now);
        group = this.#groupOf.get(event.installationId);
      }
      if (group !== undefined) await this.#wake(group, now);
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'provisioner event: could not wake its group; the status poll will notice instead');
    }
  }

  /**
   * Learn the installations of groups that started rolling since the last look (at most once per coalescing
   * window); groups already listed are not listed again, and groups done rolling are forgotten.
   */
  async #relist(now: number): Promise<void> {
    if (this.#listing) return this.#listing;
    if (now - this.#listedAt < WAKE_COALESCE_MS) return;
    this.#listedAt = now;
    this.#listing = (async () => {
      const rolling = new Set(await rollingProvisionerGroups(this.#deps.db));
      const known = new Set(this.#groupOf.values());
      for (const [installation, group] of this.#groupOf) if (!rolling.has(group)) this.#groupOf.delete(installation);
      for (const groupId of rolling) {
        if (known.has(groupId)) continue;
        for (const installation of await this.#deps.provisioner.installations(groupId)) this.#groupOf.set(installation.ID, groupId);
      }
    })().finally(() => {
      this.#listing = null;
    });
    return this.#listing;
  }

  /**
   * Move the group's next check to now (or to the end of its coalescing window) unless it is sooner already.
   * A group whose step is running (leased) will overwrite its next check when the step ends, with what it read
   * before the event: the wake is applied again once the step is over (a few tries, then the backstop covers it).
   */
  async #wake(provisionerGroupId: string, now: number, tries = 5): Promise<void> {
    const at = Math.max(now, (this.#wokenAt.get(provisionerGroupId) ?? Number.NEGATIVE_INFINITY) + WAKE_COALESCE_MS);
    if (await wakeRollingGroup(this.#deps.db, provisionerGroupId, at, now)) {
      this.#wokenAt.set(provisionerGroupId, at);
      this.stats.wakes++;
      this.#deps.nudge();
      return;
    }
    if (tries > 0 && (await groupStepRunning(this.#deps.db, provisionerGroupId, now))) {
      setTimeout(() => void this.#wake(provisionerGroupId, this.#deps.clock.now(), tries - 1).catch(() => undefined), WAKE_COALESCE_MS).unref();
    }
  }
}
