/**
 * The Python interpreter of the interoperability tests (scikit-learn, Fairlearn, the
 * MLflow client), set up by `npm test` and named by LOOM_TEST_PYTHON. Under CI a missing
 * interpreter fails the test rather than skipping it, so the parity checks always run there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runProcess, type CliResult } from './cli.js';

/** The interpreter's path, or undefined outside `npm test` (the caller skips then). */
export function testPython(): string | undefined {
  const python = process.env.LOOM_TEST_PYTHON;
  if (!python && process.env.CI) assert.fail('LOOM_TEST_PYTHON is not set; run the tests with `npm test`');
  return python;
}

/** The interpreter of the venv with NannyML (its own: its pins clash with the test venv's), named by LOOM_TEST_NANNYML_PYTHON. */
export function testNannymlPython(): string | undefined {
  const python = process.env.LOOM_TEST_NANNYML_PYTHON;
  if (!python && process.env.CI) assert.fail('LOOM_TEST_NANNYML_PYTHON is not set; run the tests with `npm test`');
  return python;
}

/** Runs a Python script with arguments and returns its stdout parsed as JSON. */
export function runPythonJson<T>(python: string, script: string, args: string[] = [], input?: string): T {
  const result = spawnSync(python, [script, ...args], { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) assert.fail(`${script} exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Runs a script that drives a local server with the MLflow client: no retries, no proxy. */
export function runMlflowClient(python: string, args: string[]): Promise<CliResult> {
  return runProcess(python, args, {
    env: { ...process.env, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', MLFLOW_HTTP_REQUEST_TIMEOUT: '60', NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
  });
}
