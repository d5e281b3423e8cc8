// The real MLflow client (mlflow-skinny) against a real Loom server on a socket: experiments,
// nested runs, params, metrics with steps, tags, artifacts, search and metric history.
// The Python script asserts what the client sees; this test checks the store agrees.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openTestPlatform } from './support/databases.js';
import { startPlatformServer } from '../src/server/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';
import { makeTempDir } from './support/flights.js';
import { runMlflowClient, testPython } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('./python/mlflow_tracking_client.py', import.meta.url));

const python = testPython();

test('the MLflow Python client logs to and reads from a Loom server', { skip: python ? false : 'LOOM_TEST_PYTHON is not set' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const server = await startPlatformServer({ port: 0, db, artifacts });
  t.after(async () => {
    await server.close();
    await db.close();
  });

  const result = await runMlflowClient(python!, [SCRIPT, server.url]);
  assert.equal(result.code, 0, `the MLflow client script failed:\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
    experiment_id: string;
    parent_run_id: string;
    child_run_ids: string[];
    param_change_error: string;
    loss_history: [number, number][];
    artifacts: string[];
  };
  assert.equal(report.param_change_error, 'INVALID_PARAMETER_VALUE');
  assert.deepEqual(report.loss_history.map(([step]) => step), [0, 1, 2, 3, 4]);
  assert.deepEqual(report.artifacts, ['configs', 'notes.txt', 'configs/config.json']);

  const parent = await db.tracking.getRun(report.parent_run_id);
  assert.equal(parent?.info.status, 'FINISHED');
  assert.equal(parent?.data.params.lr, '0.1');
  for (const childId of report.child_run_ids) {
    assert.equal((await db.tracking.getRun(childId))?.data.tags['mlflow.parentRunId'], report.parent_run_id);
  }
  const stored = join(artifacts.root, 'tracking', report.experiment_id, report.parent_run_id, 'artifacts', 'configs', 'config.json');
  const { readFile } = await import('node:fs/promises');
  assert.deepEqual(JSON.parse(await readFile(stored, 'utf8')), { lr: 0.1 });
});
