import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Clock } from '../model/clock.js';
import type { GroupStatusCounts } from '../model/ring.js';
import { getSetting, replaceSetting, setSettingIfAbsent } from '../store/system.js';
import { ProvisionerError, type ProvisionerClient } from './provisioner-client.js';
import { describeSimulatorOptions, type SimulatorOptions } from './provisioner-simulator-options.js';
import { patchProblem, type GroupPatch } from './simulated-group-patch.js';
import {
  advanceGroup,
  createSimulatedGroup,
  patchSimulatedGroup,
  simulatedGroupDto,
  simulatedGroupStatus,
  simulatedInstallations,
  type SimulatedGroup,
  type SimulationRules,
} from './simulated-group.js';

export interface ProvisionerSimulatorDeps {
  /** Elrond's own database: each group is kept in the `system` table under `simulator:group:<id>`. */
  db: Kysely<Database>;
  clock: Clock;
  options: SimulatorOptions;
  /** Draws the seed when the options name none. */
  random: () => number;
}

/** The provisioner API in-process, on simulated groups; `--provisioner-server sim://…`. */
export interface ProvisionerSimulator extends ProvisionerClient {
  getGroup(id: string): Promise<ReturnType<typeof simulatedGroupDto>>;
  updateGroup(id: string, patch: GroupPatch): Promise<ReturnType<typeof simulatedGroupDto>>;
  installations(groupId: string): Promise<ReturnType<typeof simulatedInstallations>>;
  readonly options: SimulatorOptions;
  /** The seed in use (the option's, or drawn at start). */
  readonly seed: number;
  /** One line saying what is simulated, for logs and labels. */
  readonly summary: string;
}

const KEY_PREFIX = 'simulator:group:';
/** The provisioner's routes match `{group:[A-Za-z0-9]{26}}`; anything else is gorilla-mux's 404. */
const GROUP_ID = /^[A-Za-z0-9]{26}$/;
/** Version of the stored JSON, so a later format can tell old rows apart. */
const FORMAT = 1;
/** Read-modify-write attempts when another process changes the same group in between. */
const MAX_ATTEMPTS = 10;

export function simulatorGroupKey(groupId: string): string {
  return `${KEY_PREFIX}${groupId}`;
}

function serialize(group: SimulatedGroup): string {
  return JSON.stringify({ format: FORMAT, group });
}

function parse(stored: string, id: string): SimulatedGroup {
  try {
    const value = JSON.parse(stored) as { format?: unknown; group?: SimulatedGroup };
    if (value.format === FORMAT && value.group && value.group.ID === id && Array.isArray(value.group.installations)) return value.group;
  } catch {
    // reported below
  }
  throw new ProvisionerError(
    `simulated provisioner group ${id} has unreadable state in the database (system key ${simulatorGroupKey(id)}): delete that row to start the group afresh`,
    false,
    500,
  );
}

/**
 * A provisioner simulator that implements Elrond's `ProvisionerClient` in-process. Groups are created the first
 * time Elrond asks about them and kept in Elrond's database, so they survive a restart; their installations
 * roll as the real provisioner's supervisors roll them (see simulated-group.ts), driven by the injected clock.
 */
export function createProvisionerSimulator(deps: ProvisionerSimulatorDeps): ProvisionerSimulator {
  const { db, clock, options } = deps;
  const seed = options.seed ?? Math.floor(deps.random() * 0x100000000);
  const rules: SimulationRules = { rolloutMs: options.rolloutMs, jitter: options.jitter, failProbability: options.failProbability, repairMs: options.repairMs, seed };

  /** Read the group (creating it on first use), bring it to now, let `use` read or change it, store what changed. */
  async function withGroup<T>(id: string, use: (group: SimulatedGroup, now: number) => T): Promise<T> {
    if (!GROUP_ID.test(id)) {
      throw new ProvisionerError(`provisioner group ${id} not found (404): a provisioner group id is 26 letters and digits; check the provisionerGroupID registered for this installation group`, false, 404);
    }
    const key = simulatorGroupKey(id);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const now = clock.now();
        const stored = (await getSetting(db, key)) ?? (await setSettingIfAbsent(db, key, serialize(createSimulatedGroup(id, { installations: options.installations, maxRolling: options.maxRolling, now }))));
        const group = parse(stored, id);
        advanceGroup(group, now, rules);
        const result = use(group, now);
        const next = serialize(group);
        if (next === stored || (await replaceSetting(db, key, stored, next))) return result;
      }
      throw new ProvisionerError(`simulated provisioner group ${id} kept changing during the request (another Elrond on the same database?)`, true, 409);
    } catch (error) {
      if (error instanceof ProvisionerError) throw error;
      throw new ProvisionerError(`the simulated provisioner cannot read or write group ${id} in the database (${error instanceof Error ? error.message : String(error)})`, true);
    }
  }

  return {
    options,
    seed,
    summary: describeSimulatorOptions(options, seed),
    getGroup: (id) => withGroup(id, simulatedGroupDto),
    updateGroup: (id, patch) => {
      const problem = patchProblem(patch);
      if (problem) return Promise.reject(new ProvisionerError(`the provisioner rejected the request to update the group as invalid (400): ${problem}`, false, 400));
      return withGroup(id, (group, now) => {
        patchSimulatedGroup(group, patch, now, rules);
        return simulatedGroupDto(group);
      });
    },
    getGroupStatus: (id): Promise<GroupStatusCounts> => withGroup(id, simulatedGroupStatus),
    installations: (groupId) => withGroup(groupId, simulatedInstallations),
  };
}
