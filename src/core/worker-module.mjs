// Imports a worker thread's module from its bootstrap (`*-worker.mjs`). In the built package
// the module is compiled JavaScript beside the bootstrap. Under Loom's sources it is TypeScript,
// and a worker thread does not inherit a loader registered at run time (bin/loom.js), so the
// worker registers tsx itself first.
import { existsSync } from 'node:fs';

/**
 * @param {string} base the bootstrap's `import.meta.url`
 * @param {string} name the module's file name without its extension
 */
export async function importWorkerModule(base, name) {
  const compiled = new URL(`./${name}.js`, base);
  if (existsSync(compiled)) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`./${name}.ts`, base).href);
}
