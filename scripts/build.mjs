// Builds the package: compiles src/ (without its tests) to JavaScript and type declarations in
// dist/, copies the worker threads' `.mjs` bootstraps and the gRPC `.proto` definitions, which
// the compiler does not emit, to the same places, and builds the dashboard into web/dist/dashboard (build-dashboard.mjs).
// Run by `npm run build`, and by `prepare` before `npm pack` and on an install from git. The clone
// itself runs its sources through tsx (bin/loom.js); only the dashboard needs a build there.
// It builds into a fresh folder and swaps it in at the end, so a process reading dist/ while
// a build runs (a test that packs the package beside tests that load it) never finds it empty.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboard } from './build-dashboard.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const next = join(root, `.dist-next-${process.pid}`);

rmSync(next, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', next], { stdio: 'inherit' });
if (compiled.status !== 0) {
  rmSync(next, { recursive: true, force: true });
  console.error('build failed: the TypeScript compiler reported the errors above');
  process.exit(1);
}

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

let copied = 0;
for (const file of files(src)) {
  if (!file.endsWith('.mjs') && !file.endsWith('.proto')) continue;
  const target = join(next, relative(src, file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
  copied++;
}
const old = join(root, `.dist-old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
console.log(`built dist/ (${copied} worker bootstraps and .proto files copied)`);
if (!buildDashboard()) process.exit(1);
