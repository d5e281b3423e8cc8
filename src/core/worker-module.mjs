// Imports a worker thread's (or a child process's) module from its bootstrap (`*-worker.mjs`,
// `rerun-process.mjs`). In the built package the module is compiled JavaScript beside the
// bootstrap. Under Loom's sources it is TypeScript, and a worker thread or child does not inherit
// a loader registered at run time (bin/loom.js), so it registers tsx itself first.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * @param {string} base the bootstrap's `import.meta.url`
 * @param {string} name the module's file name without its extension
 * @param {{ repoPaths?: boolean }} [options] `repoPaths`: tsx reads the repository's tsconfig, whose
 *   paths name `loom-mlops` as the sources (as bin/loom.js does), for a process that loads pipeline files
 */
export async function importWorkerModule(base, name, options = {}) {
  const compiled = new URL(`./${name}.js`, base);
  if (existsSync(compiled)) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register(options.repoPaths ? { tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) } : undefined);
  return import(new URL(`./${name}.ts`, base).href);
}
