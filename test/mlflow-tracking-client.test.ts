// The real MLflow client (mlflow-skinny, MLflow 3) against a real Loom server on a socket:
// experiments, nested runs, params, metrics with steps, tags, artifacts, search with
// filters, order and pages, log_input, the logged-model API, log_model (sklearn, and ONNX
// from skl2onnx), register_model, aliases and pyfunc.load_model by alias. The Python script
// asserts what the client sees; this test checks the store agrees, and that the ONNX model
// the client logged and registered is served by `loom serve` with the answers pyfunc gave.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { dropSchema, openTestPlatform, postgresTestUrl, randomSchemaName } from './support/databases.js';
import { startPlatformServer } from '../src/server/server.js';
import { startModelServer } from '../src/serve/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';
import { makeTempDir } from './support/flights.js';
import { runMlflowClient, testPython } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('./python/mlflow_tracking_client.py', import.meta.url));

const python = testPython();

interface Report {
  experiment_id: string;
  parent_run_id: string;
  child_run_ids: string[];
  param_change_error: string;
  loss_history: [number, number][];
  artifacts: string[];
  logged_model_names: string[];
  deleted_logged_model: string;
  fit_run_id: string;
  onnx_model_id: string;
  rows: number[][];
  labels: number[];
  probabilities: number[][];
}

const skip = python ? false : 'LOOM_TEST_PYTHON is not set';

test('the MLflow Python client logs to and reads from a Loom server (SQLite)', { skip }, (t) => conformance(t));

const postgresUrl = python ? postgresTestUrl('the MLflow Python client against a Loom server') : undefined;
if (postgresUrl) {
  test('the MLflow Python client logs to and reads from a Loom server (PostgreSQL)', async (t) => {
    await conformance(t, { url: postgresUrl, schema: randomSchemaName() });
  });
}

async function conformance(t: TestContext, database?: { url: string; schema: string }): Promise<void> {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir, database ? { database } : {});
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const server = await startPlatformServer({ port: 0, db, artifacts });
  t.after(async () => {
    await server.close();
    await db.close();
    if (database) await dropSchema(database.url, database.schema);
  });

  const result = await runMlflowClient(python!, [SCRIPT, server.url]);
  assert.equal(result.code, 0, `the MLflow client script failed:\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Report;
  assert.equal(report.param_change_error, 'INVALID_PARAMETER_VALUE');
  assert.deepEqual(report.loss_history.map(([step]) => step), [0, 1, 2, 3, 4]);
  assert.deepEqual(report.artifacts, ['configs', 'notes.txt', 'configs/config.json']);
  assert.deepEqual(report.logged_model_names, ['baseline', 'candidate']);
  assert.equal(report.deleted_logged_model, 'RESOURCE_DOES_NOT_EXIST');

  const parent = await db.tracking.getRun(report.parent_run_id);
  assert.equal(parent?.info.status, 'FINISHED');
  assert.equal(parent?.data.params.lr, '0.1');
  for (const childId of report.child_run_ids) {
    assert.equal((await db.tracking.getRun(childId))?.data.tags['mlflow.parentRunId'], report.parent_run_id);
  }
  const stored = join(artifacts.root, 'tracking', report.experiment_id, report.parent_run_id, 'artifacts', 'configs', 'config.json');
  assert.deepEqual(JSON.parse(await readFile(stored, 'utf8')), { lr: 0.1 });

  // log_input is recorded on the run; the logged ONNX model is READY and names its run.
  const fit = await db.tracking.getRun(report.fit_run_id);
  assert.deepEqual(fit?.inputs.datasetInputs.map((i) => [i.dataset.name, i.tags['mlflow.data.context']]), [['synthetic', 'training']]);
  const logged = await db.tracking.getLoggedModel(report.onnx_model_id);
  assert.deepEqual([logged?.status, logged?.sourceRunId, logged?.name], ['READY', report.fit_run_id, 'onnx-model']);

  // Registering it made a servable Loom artifact, with the graph's tensors as signature.
  const version = await db.registry.getVersionByAlias('synthetic-onnx', 'champion');
  assert.match(version?.source ?? '', /^loom-artifact:\/\/sha256\/[0-9a-f]{64}$/);
  assert.equal(version?.runId, report.fit_run_id);
  assert.deepEqual(version?.signature?.inputs, [{ name: 'X', type: 'float32', shape: [-1, 4] }]);
  assert.deepEqual(version?.signature?.outputs.map((o) => o.name), ['label', 'probabilities']);

  const serving = await startModelServer({ port: 0, models: ['synthetic-onnx@champion'], registry: db.registry, artifacts, watchIntervalMs: 0 });
  t.after(() => serving.close());
  const response = await fetch(`${serving.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: report.rows.map((X) => ({ X })) }) });
  assert.equal(response.status, 200, await response.clone().text());
  const { predictions } = (await response.json()) as { predictions: { label: number; probabilities: number[] }[] };
  assert.deepEqual(predictions.map((p) => p.label), report.labels);
  predictions.forEach((p, i) => p.probabilities.forEach((value, j) => assert.ok(Math.abs(value - report.probabilities[i]![j]!) < 1e-6, `row ${i} class ${j}: ${value} vs ${report.probabilities[i]![j]}`)));
}
