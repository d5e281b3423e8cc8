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

const REQUIREMENTS = 'python/requirements-test.txt';
const VENV = '.venv-test';

/** @returns {string} the path of the venv's python interpreter */
export function ensurePythonEnv() {
  if (process.env.LOOM_TEST_PYTHON) return process.env.LOOM_TEST_PYTHON;
  const venv = resolve(VENV);
  const python = join(venv, 'bin', 'python');
  const stamp = join(venv, 'requirements.sha256');
  const wanted = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return python;

  rmSync(venv, { recursive: true, force: true });
  console.log(`setting up ${VENV} for the Python interoperability tests (pip install -r ${REQUIREMENTS})`);
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
