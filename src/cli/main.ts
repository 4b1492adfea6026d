#!/usr/bin/env node
import { runCli } from './run-cli.js';
import { serve } from './serve.js';
import { runDemo } from './demo.js';

/** Write everything before exiting, so piped output is never cut short. */
const write = (stream: NodeJS.WriteStream, text: string) => new Promise<void>((resolve) => (text === '' ? resolve() : stream.write(text, () => resolve())));

const pending: Promise<void>[] = [];
const code = await runCli(process.argv.slice(2), {
  stdout: (text) => void pending.push(write(process.stdout, text)),
  stderr: (text) => void pending.push(write(process.stderr, text)),
  env: process.env,
  serve,
  demo: runDemo,
});
await Promise.all(pending);
process.exit(code);
