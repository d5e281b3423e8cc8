/**
 * The dashboard built from this checkout's sources, for browser tests: built only when a source
 * file (web/dashboard) is newer than the built index.html, so test files run one after another
 * (or a test run after `npm run build`) do not pay for the same build twice.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds web/dist/dashboard unless it is newer than every file of web/dashboard. */
export async function buildDashboardIfStale(): Promise<void> {
  const built = join(ROOT, 'web', 'dist', 'dashboard', 'index.html');
  if (existsSync(built) && statSync(built).mtimeMs > newestMtime(join(ROOT, 'web', 'dashboard'))) return;
  const result = await runProcess(process.execPath, [join(ROOT, 'scripts', 'build-dashboard.mjs')]);
  assert.equal(result.code, 0, result.stderr);
}
