import os from 'node:os';
import { defaultServerConfig } from '../config.js';
import { badRequest } from '../model/errors.js';
import type { RingWithGroups } from '../model/ring.js';
import { tokenCaller } from '../service/access-policy.js';
import { describeRelease } from '../model/release-target.js';
import { isSimulatorUrl, parseSimulatorUrl } from '../integrations/provisioner-simulator-options.js';
import type { RunningServer, ServerOverrides } from '../server.js';
import { DEFAULT_SERVER_URL } from '../commands/common-options.js';
import { DEMO_SIMULATOR, type DemoOptions } from '../commands/demo.js';
import { DEMO_IMAGE, nextDemoVersion, releaseUnderWay, seedDemoFleet } from './demo-fleet.js';
import { runUntilSignal } from './run-until-signal.js';

/** The demo's own database, in the current directory: never the real `elrond.db`. */
export const DEMO_DATABASE = 'sqlite://elrond-demo.db';

export interface RunningDemo {
  server: RunningServer;
  rings: RingWithGroups[];
  /** The release started now, or null when one was already under way (a rerun carries on with it). */
  started: string | null;
  /** What the demo prints: the page, what is happening, the commands to try. */
  instructions: string;
}

function osUser(): string {
  try {
    return os.userInfo().username || 'demo';
  } catch {
    return 'demo';
  }
}

/**
 * `elrond demo`: the server on the built-in simulator and its own SQLite file, the sample fleet (created once),
 * and a release started through the same services the API uses. `database` and the server overrides are for tests.
 */
export async function startDemo(options: DemoOptions, overrides: ServerOverrides & { database?: string } = {}): Promise<RunningDemo> {
  if (!isSimulatorUrl(options.simulator)) throw badRequest(`--simulator "${options.simulator}" is not a sim:// URL: the demo never talks to a real provisioner; use e.g. ${DEMO_SIMULATOR}`);
  parseSimulatorUrl(options.simulator);
  const { database, ...serverOverrides } = overrides;
  const { startServer } = await import('../server.js');
  const config = { ...defaultServerConfig(), database: database ?? DEMO_DATABASE, listen: options.listen, poll: 5, provisionerServer: options.simulator, provisionerStatusInterval: 2 };
  const server = await startServer(config, serverOverrides);
  try {
    // The demo drives its own server as its operator: an admin, as `elrond` on this machine would be.
    const caller = tokenCaller({ name: osUser(), source: 'cli' }, 'admin');
    const { operations } = server.services;
    let { rings } = await seedDemoFleet(operations, caller);
    // New rings are created by the supervisor; a release needs them created.
    await server.supervisor.runUntilIdle();
    rings = await Promise.all(rings.map((ring) => operations.invoke('getRing', { ringId: ring.id }, caller)));
    let started: string | null = null;
    if (!releaseUnderWay(rings)) {
      const active = await operations.invoke('getRelease', { releaseId: rings[0]!.activeReleaseId }, caller);
      const version = nextDemoVersion(active.version);
      rings = await operations.invoke('releaseAllRings', { image: DEMO_IMAGE, version, reason: 'elrond demo' }, caller);
      started = describeRelease({ image: DEMO_IMAGE, version });
    }
    return { server, rings, started, instructions: demoInstructions(server, rings, started) };
  } catch (error) {
    await server.close();
    throw error;
  }
}

function demoInstructions(server: RunningServer, rings: readonly RingWithGroups[], started: string | null): string {
  const server_ = server.url === DEFAULT_SERVER_URL.replace('localhost', '127.0.0.1') ? '' : ` --server ${server.url}`;
  const approval = rings.find((ring) => ring.approvalRequired);
  const order = rings.map((ring) => ring.name).join(' → ');
  return [
    'Elrond demo: the provisioner is SIMULATED, no real installation is touched.',
    `  database:    elrond-demo.db in this directory (delete it to start over)`,
    `  status page: ${server.url}/`,
    '',
    started ? `Release of ${started} started on ${rings.length} rings: ${order}.` : `A release is already under way on ${order}: carrying on with it.`,
    '',
    'Try, in another terminal:',
    `  npx elrond status${server_}`,
    `  npx elrond why${server_}`,
    ...(approval ? [`  npx elrond ring approve --ring ${approval.id}${server_}    # ${approval.name} waits for an approval`] : []),
    `  npx elrond history --limit 20${server_}`,
    '',
    'Ctrl-C stops the demo; run it again to carry on (the fleet is kept).',
    '',
  ].join('\n');
}

/** The CLI's `elrond demo`: start, print the instructions, run until Ctrl-C. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { createLogger } = await import('../logging.js');
  const log = createLogger();
  // The instructions matter more than the step-by-step log: warnings and errors only.
  log.level = 'warn';
  const demo = await startDemo(options, { log });
  process.stdout.write(demo.instructions);
  await runUntilSignal('elrond demo', () => demo.server.close());
}
