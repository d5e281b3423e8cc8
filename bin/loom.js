#!/usr/bin/env node
// The `loom` command. Installed from the package, it runs the compiled CLI in dist/. In a clone
// of Loom's repository (the sources are beside it) it runs the sources through tsx's loader, so
// what runs is what was just edited, with no build to forget; `loom-mlops` then names the
// sources too (tsconfig.json's paths), so a pipeline file and the CLI share one copy of Loom.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv);
