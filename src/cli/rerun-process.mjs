// A pipeline re-run's own process (cli/rerun-processes.ts forks it for `loom server`): loads
// the compiled module in the built package, or the TypeScript sources through tsx with the
// repository's tsconfig (its paths name `loom-mlops` as the sources), as bin/loom.js does.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('./rerun-process-main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
  await import(new URL('./rerun-process-main.ts', import.meta.url).href);
}
