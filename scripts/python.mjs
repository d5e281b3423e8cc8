// A Python virtual environment for the interoperability and parity tests: created in
// .venv-test on first use and filled with pip from python/requirements-test.txt; it is
// rebuilt only when that file changes. If LOOM_TEST_PYTHON is already set, that
// interpreter is used as is.
//
// Usage: const python = ensurePythonEnv(); env.LOOM_TEST_PYTHON = python;
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * @param {{ venv?: string; requirements?: string; override?: string }} [options] the benchmarks
 *   use their own venv and requirements; `override` names an env variable that, when set, wins
 * @returns {string} the path of the venv's python interpreter
 */
export function ensurePythonEnv(options = {}) {
  const { venv: VENV = '.venv-test', requirements: REQUIREMENTS = 'python/requirements-test.txt', override = 'LOOM_TEST_PYTHON' } = options;
  if (process.env[override]) return process.env[override];
  const venv = resolve(VENV);
  const python = join(venv, 'bin', 'python');
  const stamp = join(venv, 'requirements.sha256');
  const wanted = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return python;

  rmSync(venv, { recursive: true, force: true });
  console.log(`setting up ${VENV} (pip install -r ${REQUIREMENTS})`);
  check(spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' }), 'python3 -m venv');
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], {
    stdio: 'inherit',
  });
  check(pip, 'pip install');
  writeFileSync(stamp, wanted);
  return python;
}

function check(result, what) {
  if (result.status !== 0) {
    throw new Error(`${what} failed (exit ${result.status ?? result.signal}); the Python tests need python3 with venv and pip`);
  }
}
