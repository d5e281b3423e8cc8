// The whole test suite: type-check, then every test under node's runner, with a
// throwaway PostgreSQL server (installed from Debian's packages if missing) for the
// server-backend runs of the contract suites, and a Python venv for the parity tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureChromium } from './chromium.mjs';
import { startPostgres } from './postgres.mjs';
import { ensurePythonEnv } from './python.mjs';
import { longestFirst } from './test-order.mjs';

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  return result.status ?? 1;
}

function testFiles(dir) {
  return allFiles(dir).filter((path) => path.endsWith('.test.ts'));
}

/**
 * dist/cli/main.js when dist/ is no older than every source under src/ (`npm ci` has just built it),
 * for the CLI tests that run the compiled command (test/support/cli.ts, runCompiledLoom).
 */
function compiledCli() {
  const main = 'dist/cli/main.js';
  if (!existsSync(main)) return undefined;
  const built = statSync(main).mtimeMs;
  // Tests are not compiled, so editing one leaves dist/ current.
  const newer = allFiles('src').find((file) => !file.endsWith('.test.ts') && statSync(file).mtimeMs > built);
  if (newer === undefined) return resolve(main);
  console.log(`${newer} is newer than dist/: the CLI tests run the sources (\`npm run build\` lets them run the compiled CLI)`);
  return undefined;
}

function allFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? allFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}

const only = process.argv.slice(2);
if (only.length === 0) {
  // The guard before the tests: types, lint (cached, so a re-run checks only changed files),
  // then the layer rules and folder cycles of docs/architecture.md over src/.
  const checks = [
    ['type check', 'npx', ['tsc', '--noEmit', '-p', '.']],
    ['lint', 'npx', ['eslint', '--cache', '--cache-location', 'node_modules/.cache/eslint/', '.']],
    ['layer check', process.execPath, ['scripts/check-layers.mjs']],
  ];
  for (const [name, command, args] of checks) {
    if (run(command, args) !== 0) {
      console.error(`${name} failed`);
      process.exit(1);
    }
  }
}
const python = ensurePythonEnv();
// NannyML pins pandas below the test venv's, so it has a venv of its own.
const nannyml = ensurePythonEnv({ venv: '.venv-nannyml', requirements: 'python/requirements-nannyml.txt', override: 'LOOM_TEST_NANNYML_PYTHON' });
const chromium = ensureChromium();
const compiled = compiledCli();
const postgres = await startPostgres();
let status;
try {
  // Two files at a time, longest first: the run ends when the last file does (test-order.mjs).
  const files = only.length > 0 ? only : longestFirst([...testFiles('src'), ...testFiles('test')]);
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/test-times-reporter.mjs', '--test-reporter-destination=stdout'];
  status = run(
    process.execPath,
    ['--import', 'tsx', '--test', ...reporters, '--test-concurrency=2', ...files],
    { ...process.env, LOOM_TEST_POSTGRES_URL: postgres.url, LOOM_TEST_PYTHON: python, LOOM_TEST_NANNYML_PYTHON: nannyml, ...(chromium && { LOOM_TEST_CHROMIUM: chromium }), ...(compiled && { LOOM_TEST_COMPILED_CLI: compiled }) },
  );
} finally {
  await postgres.stop();
}
process.exit(status);
