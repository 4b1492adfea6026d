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
/**
 * Registered, but no event heard lately: a rollout's first events (its installations leaving `stable`) are expected
 * within this long of the group's update. Until then the group is read on a doubling schedule (1 s, 2 s, 4 s, 8 s,
 * 10 s); past it, today's schedule returns.
 */
export const FIRST_EVENT_WINDOW_MS = 10_000;
const FIRST_PROBATION_READ_MS = 1_000;
/** How long after a rollout starts its installations are listed (see {@link WakeUps.rolloutStarted}). */
const PRE_LISTING_DELAY_MS = 250;
/** At most one status read per group per this many ms, however many events arrive. */
export const WAKE_COALESCE_MS = 200;
/**
 * Installation states that mean "still rolling": an installation entering one cannot end a rollout, so it wakes
 * no group (10 installations × 3 changes would otherwise cost 30 reads instead of 10); it only maps the group.
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
  /** provisioner group id → its installations (the same listing, the other way round). */
  readonly #members = new Map<string, Set<string>>();
  /** provisioner group id → its installations whose latest event since the rollout began left the rolling states. */
  readonly #settled = new Map<string, Set<string>>();
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
   * How long until a rolling group's next status read, `elapsedMs` into its rollout: the backstop while events
   * arrive (they wake the group when something happens); while the webhook is registered but quiet, a doubling
   * schedule over the first {@link FIRST_EVENT_WINDOW_MS} (a rollout that would end sooner is still read at
   * most a second or two late, and its own events end the quiet); today's backoff otherwise.
   */
  statusPollDelay(elapsedMs: number, maxIntervalMs: number): number {
    const usual = nextStatusPollDelay(elapsedMs, maxIntervalMs);
    if (!this.#registered) return usual;
    if (this.eventsFlowing(this.#deps.clock.now())) return Math.max(usual, WEBHOOK_BACKSTOP_MS);
    if (elapsedMs >= FIRST_EVENT_WINDOW_MS) return usual;
    return Math.max(usual, Math.min(Math.max(FIRST_PROBATION_READ_MS, elapsedMs), FIRST_EVENT_WINDOW_MS - elapsedMs));
  }

  /**
   * Learn a group's installations shortly after its rollout starts, so the event that ends it wakes the group
   * without a listing first (ten groups ending together would otherwise wait on ten listings). A moment later,
   * not at once: the step that started the rollout is still reading its first status. Best effort: a failed
   * listing is done again when an event comes.
   */
  rolloutStarted(provisionerGroupId: string): void {
    if (!this.#registered) return;
    this.#settled.set(provisionerGroupId, new Set());
    setTimeout(() => {
      this.#deps.provisioner
        .installations(provisionerGroupId)
        .then((installations) => this.#remember(provisionerGroupId, installations))
        .catch(() => undefined);
    }, PRE_LISTING_DELAY_MS).unref();
  }

  /** Take one verified event; never throws (the HTTP answer has already gone). */
  async receive(event: InstallationEvent): Promise<void> {
    const now = this.#deps.clock.now();
    this.#lastEventAt = now;
    this.stats.events++;
    try {
      // A rollout's first events (installations leaving stable) map its installations before its last ones come.
      const group = await this.#rollingGroupOf(event.installationId);
      if (group === undefined) return;
      const settled = this.#settled.get(group) ?? this.#settled.set(group, new Set()).get(group)!;
      if (STILL_ROLLING.has(event.newState)) settled.delete(event.installationId);
      else {
        settled.add(event.installationId);
        await this.#wake(group, now);
      }
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'provisioner event: could not wake its group; the status poll will notice instead');
    }
  }

  /**
   * The rolling group an installation belongs to. An installation not seen yet waits for the listing under way
   * (it may have read the rolling groups before this one started) and then, if still unknown, for one more:
   * events of many groups ending at once are never dropped for want of a listing. A listing only lists groups
   * not listed before, so unknown (or forged) ids cost a database read, not provisioner calls.
   */
  async #rollingGroupOf(installationId: string): Promise<string | undefined> {
    const known = this.#groupOf.get(installationId);
    if (known !== undefined) return known;
    if (this.#listing) await this.#listing;
    if (!this.#groupOf.has(installationId)) await (this.#listing ??= this.#listRolling().finally(() => (this.#listing = null)));
    return this.#groupOf.get(installationId);
  }

  /**
   * Every installation of the group, as last listed, has reported a state outside the rolling ones since the
   * rollout began, and none has gone back since: the next status read will most likely find the rollout done, so
   * the group runner reads the group (which it verifies a finished rollout against) alongside the status instead
   * of after it. A hint only: a wrong guess costs one group read, never a decision.
   */
  rolloutLooksDone(provisionerGroupId: string): boolean {
    const members = this.#members.get(provisionerGroupId);
    const settled = this.#settled.get(provisionerGroupId);
    if (!members || !settled || members.size === 0) return false;
    for (const installation of members) if (!settled.has(installation)) return false;
    return true;
  }

  /** Learn the installations of groups that started rolling since the last look; forget groups done rolling. */
  async #listRolling(): Promise<void> {
    const rolling = new Set(await rollingProvisionerGroups(this.#deps.db));
    const known = new Set(this.#groupOf.values());
    for (const [installation, group] of this.#groupOf) if (!rolling.has(group)) this.#groupOf.delete(installation);
    for (const map of [this.#members, this.#settled]) for (const group of map.keys()) if (!rolling.has(group)) map.delete(group);
    const unknown = [...rolling].filter((groupId) => !known.has(groupId));
    await Promise.all(unknown.map(async (groupId) => this.#remember(groupId, await this.#deps.provisioner.installations(groupId))));
  }

  #remember(provisionerGroupId: string, installations: ReadonlyArray<{ ID: string }>): void {
    for (const installation of installations) this.#groupOf.set(installation.ID, provisionerGroupId);
    this.#members.set(provisionerGroupId, new Set(installations.map((installation) => installation.ID)));
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
