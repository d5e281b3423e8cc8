// Builds the dashboard (web/dashboard, React + Vite) into web/dist/dashboard, which
// `loom server` serves at /: type-checks it with its own tsconfig (DOM and JSX, unlike
// src/), then bundles it. Run by scripts/build.mjs (so `npm run build`, `prepare` and an
// install from git build it), and by the browser tests before they start a server.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = join(root, 'web', 'dashboard');
const out = join(root, 'web', 'dist', 'dashboard');

/** @returns {boolean} whether the dashboard was built */
export function buildDashboard() {
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  const checked = spawnSync(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { stdio: 'inherit' });
  if (checked.status !== 0) {
    console.error('dashboard build failed: the TypeScript compiler reported the errors above');
    return false;
  }
  // Built beside and swapped in, so a server serving the old build (a test, while another test
  // packs the package) never finds the folder emptied halfway.
  const next = join(root, 'web', 'dist', `.dashboard-next-${process.pid}`);
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const built = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', next, '--emptyOutDir', app], { stdio: 'inherit' });
  if (built.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    console.error('dashboard build failed: vite reported the errors above');
    return false;
  }
  const old = join(root, 'web', 'dist', `.dashboard-old-${process.pid}`);
  if (existsSync(out)) renameSync(out, old);
  renameSync(next, out);
  rmSync(old, { recursive: true, force: true });
  console.log('built web/dist/dashboard');
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(buildDashboard() ? 0 : 1);
