import { ElrondError } from '../model/errors.js';
import { inputString, nothing, type CommandSpec } from './spec.js';

export const DEMO_LISTEN = '127.0.0.1:3018';
/** Installations roll in a few seconds each, two at a time, so a ring takes well under a minute. */
export const DEMO_SIMULATOR = 'sim://?rollout=3s&installations=4&maxRolling=2&jitter=0.3';

export interface DemoOptions {
  listen: string;
  /** The simulator's options, a `sim://` URL. */
  simulator: string;
}

const demo: CommandSpec = {
  path: ['demo'],
  // Runs a server of its own and drives it in-process as its operator, like `server`.
  operations: [],
  summary: 'See Elrond work: a server on the built-in provisioner simulator (its own elrond-demo.db), 3 sample rings × 2 groups, a release, and the live status page.',
  examples: ['demo', 'demo --listen 127.0.0.1:4000', "demo --simulator 'sim://?rollout=10s&fail=0.1&repair=30s'"],
  options: [
    { name: 'listen', valueName: '[host]:port', kind: 'string', default: DEMO_LISTEN, description: 'address to listen on, like the server\'s --listen' },
    { name: 'simulator', valueName: 'sim-url', kind: 'string', default: DEMO_SIMULATOR, description: 'how the simulated provisioner behaves: a sim:// URL (see --provisioner-server)' },
  ],
  cliOnly: true,
  async run(ctx, input) {
    if (!ctx.demo) throw new ElrondError('BadRequest', '"demo" runs only from the elrond CLI');
    await ctx.demo({ listen: inputString(input, 'listen') || DEMO_LISTEN, simulator: inputString(input, 'simulator') || DEMO_SIMULATOR });
    return nothing;
  },
};

export const DEMO_COMMANDS: CommandSpec[] = [demo];
