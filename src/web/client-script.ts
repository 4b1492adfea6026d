import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

let script: Promise<string> | undefined;

/**
 * The browser script of the status page (client/live-client.ts), as JavaScript. An installed Elrond serves the
 * file tsc compiled next to this one; run from the TypeScript sources (the tests), it compiles the client the
 * same way on first use. Either way it comes from the package itself: the page works on a closed network.
 */
export function liveClientScript(): Promise<string> {
  script ??= load().catch((error: unknown) => {
    script = undefined;
    throw error;
  });
  return script;
}

async function load(): Promise<string> {
  const compiled = new URL('./client/live-client.js', import.meta.url);
  const text = existsSync(compiled) ? await readFile(compiled, 'utf8') : await transpile(new URL('./client/live-client.ts', import.meta.url));
  // The source map is not served.
  return text.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
}

async function transpile(source: URL): Promise<string> {
  const ts = (await import('typescript')).default;
  return ts.transpileModule(await readFile(source, 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
}
