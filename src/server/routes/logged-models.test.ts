// MLflow 3's logged models and the run calls around them on MLflow's paths, through
// Fastify's inject; test/mlflow-tracking-client.test.ts drives them with the real client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { platformApp } from '../../../test/support/platform-app.js';
import { rejectsWithCode } from '../../metadata/contract-helpers.js';
import { Examples, typeRecord } from '../../pipeline/artifact-types.js';
import { loadModel } from '../../serve/model-loader.js';
import type { LocalArtifactStore } from '../../store/local-artifact-store.js';

async function call(server: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', path: string, payload?: object | string) {
  const response = await server.inject({ method, url: path.startsWith('/') ? path : `/api/2.0/mlflow/${path}`, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, body: response.json() as Record<string, any> };
}

test('logged models: create, get, tags, params, finalize, search, artifacts, delete', async (t) => {
  const { server } = await platformApp(t);
  const runId = (await call(server, 'POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id as string;
  const created = await call(server, 'POST', 'logged-models', { experiment_id: '0', name: 'clf', source_run_id: runId, params: [{ key: 'C', value: '1' }], tags: [{ key: 'team', value: 'ml' }] });
  assert.equal(created.status, 200);
  const info = created.body.model.info;
  const id = info.model_id as string;
  assert.equal(info.status, 'LOGGED_MODEL_PENDING');
  assert.equal(info.artifact_uri, `mlflow-artifacts:/0/models/${id}/artifacts`);
  assert.equal(info.source_run_id, runId);

  assert.equal((await call(server, 'PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'stage', value: 'dev' }] })).status, 200);
  assert.equal((await call(server, 'DELETE', `logged-models/${id}/tags/team`)).status, 200);
  assert.equal((await call(server, 'POST', `logged-models/${id}/params`, { model_id: id, params: [{ key: 'penalty', value: 'l2' }] })).status, 200);
  const changed = await call(server, 'POST', `logged-models/${id}/params`, { params: [{ key: 'C', value: '2' }] });
  assert.deepEqual([changed.status, changed.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
  const ready = await call(server, 'PATCH', `logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
  assert.equal(ready.body.model.info.status, 'LOGGED_MODEL_READY');
  assert.deepEqual(ready.body.model.info.tags, [{ key: 'stage', value: 'dev' }]);
  assert.deepEqual(ready.body.model.data.params, [{ key: 'C', value: '1' }, { key: 'penalty', value: 'l2' }]);
  const pending = await call(server, 'PATCH', `logged-models/${id}`, { status: 'LOGGED_MODEL_PENDING' });
  assert.equal(pending.status, 400);

  const found = await call(server, 'POST', 'logged-models/search', { experiment_ids: ['0'], filter: "name = 'clf' AND tags.stage = 'dev'", order_by: [{ field_name: 'creation_timestamp', ascending: false }] });
  assert.deepEqual(found.body.models.map((m: { info: { model_id: string } }) => m.info.model_id), [id]);
  const badFilter = await call(server, 'POST', 'logged-models/search', { experiment_ids: ['0'], filter: 'metrics.auc > 1' });
  assert.equal(badFilter.body.error_code, 'INVALID_PARAMETER_VALUE');

  // Files go up through the proxied artifact routes under the model's location, and are listed here.
  assert.equal((await call(server, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/0/models/${id}/artifacts/MLmodel`, 'flavors: {}\n')).status, 200);
  const listed = await call(server, 'GET', `logged-models/${id}/artifacts/directories`);
  assert.deepEqual(listed.body, { root_uri: info.artifact_uri, files: [{ path: 'MLmodel', is_dir: false, file_size: 12 }] });

  await call(server, 'POST', 'runs/outputs', { run_id: runId, models: [{ model_id: id, step: 2 }] });
  assert.deepEqual((await call(server, 'GET', `runs/get?run_id=${runId}`)).body.run.outputs, { model_outputs: [{ model_id: id, step: 2 }] });

  assert.equal((await call(server, 'DELETE', `logged-models/${id}`)).status, 200);
  const gone = await call(server, 'GET', `logged-models/${id}`);
  assert.deepEqual([gone.status, gone.body.error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
  assert.equal((await call(server, 'GET', `logged-models/${id}?allow_deleted=true`)).body.model.info.model_id, id);
});

test('runs: log-inputs records datasets on the run; log-model appends to the history tag', async (t) => {
  const { server } = await platformApp(t);
  const runId = (await call(server, 'POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id as string;
  const dataset = { name: 'flights', digest: 'd1', source_type: 'local', source: '{"uri": "/data/f.parquet"}', schema: '{}' };
  assert.equal((await call(server, 'POST', 'runs/log-inputs', { run_id: runId, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }] })).status, 200);
  const bad = await call(server, 'POST', 'runs/log-inputs', { run_id: runId, datasets: [{ dataset: { name: 'x' } }] });
  assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
  const run = (await call(server, 'GET', `runs/get?run_id=${runId}`)).body.run;
  assert.deepEqual(run.inputs.dataset_inputs, [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }]);

  for (const path of ['model', 'model-2']) {
    assert.equal((await call(server, 'POST', 'runs/log-model', { run_id: runId, model_json: JSON.stringify({ artifact_path: path, flavors: { sklearn: {} } }) })).status, 200);
  }
  const tags = (await call(server, 'GET', `runs/get?run_id=${runId}`)).body.run.data.tags as { key: string; value: string }[];
  const history = JSON.parse(tags.find((tag) => tag.key === 'mlflow.log-model.history')!.value) as { artifact_path: string }[];
  assert.deepEqual(history.map((m) => m.artifact_path), ['model', 'model-2']);
  const notJson = await call(server, 'POST', 'runs/log-model', { run_id: runId, model_json: '[1, 2]' });
  assert.equal(notJson.body.error_code, 'INVALID_PARAMETER_VALUE');
  await call(server, 'POST', 'runs/set-tag', { run_id: runId, key: 'mlflow.log-model.history', value: 'not a list' });
  const broken = await call(server, 'POST', 'runs/log-model', { run_id: runId, model_json: '{"artifact_path": "m"}' });
  assert.deepEqual([broken.status, broken.body.error_code], [412, 'INVALID_STATE']);
});

test('registering an MLflow model: a location without an MLmodel file is refused; a non-ONNX flavour keeps its MLflow source', async (t) => {
  const { server, db } = await platformApp(t);
  await call(server, 'POST', 'registered-models/create', { name: 'm' });
  const id = (await call(server, 'POST', 'logged-models', { experiment_id: '0' })).body.model.info.model_id as string;
  const empty = await call(server, 'POST', 'model-versions/create', { name: 'm', source: `models:/${id}`, model_id: id });
  assert.equal(empty.body.error_code, 'INVALID_PARAMETER_VALUE');
  const unknown = await call(server, 'POST', 'model-versions/create', { name: 'm', source: `models:/m-${'0'.repeat(32)}` });
  assert.equal(unknown.body.error_code, 'RESOURCE_DOES_NOT_EXIST');

  await call(server, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/0/models/${id}/artifacts/MLmodel`, 'flavors:\n  sklearn: {pickled_model: model.pkl}\n  python_function: {loader_module: mlflow.sklearn}\n');
  const made = await call(server, 'POST', 'model-versions/create', { name: 'm', source: `models:/${id}`, model_id: id });
  assert.equal(made.status, 200);
  assert.deepEqual([made.body.model_version.source, made.body.model_version.model_id], [`models:/${id}`, id]);
  const uri = await call(server, 'GET', 'model-versions/get-download-uri?name=m&version=1');
  assert.equal(uri.body.artifact_uri, `mlflow-artifacts:/0/models/${id}/artifacts`);
  // loom serve says why it cannot serve it, instead of failing on the URI.
  await rejectsWithCode(loadModel('m@1', { registry: db.registry, artifacts: db.artifacts }), 'FAILED_PRECONDITION');
});

test('a dataset input that names a Loom dataset version links the run into its lineage', async (t) => {
  const { server, db } = await platformApp(t);
  await db.metadata.putArtifactType(typeRecord(Examples));
  const hex = 'ab'.repeat(32);
  const [version] = await db.metadata.putArtifacts([{ typeName: 'Examples', uri: `loom-artifact://sha256/${hex}`, fingerprint: hex }]);
  const runId = (await call(server, 'POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id as string;
  const source = (uri: string, digest: string) => ({ name: 'flights', digest, source_type: 'local', source: JSON.stringify({ uri }) });
  const datasets = [
    { dataset: source(`${(db.artifacts as LocalArtifactStore).root}/objects/sha256/${hex}/train.parquet`, 'd1') },
    { dataset: source('/somewhere/else.parquet', 'd2') },
  ];
  assert.equal((await call(server, 'POST', 'runs/log-inputs', { run_id: runId, datasets })).status, 200);
  const events = await db.metadata.getEvents({ artifactIds: [version!.id] });
  assert.deepEqual(events.map((e) => [e.type, e.name]), [['INPUT', 'flights']]);
  assert.deepEqual((await db.metadata.getExecution(events[0]!.executionId))?.parameters, { mlflowRunId: runId });
  // Both inputs are on the run; only the Loom one is in lineage.
  assert.equal((await call(server, 'GET', `runs/get?run_id=${runId}`)).body.run.inputs.dataset_inputs.length, 2);
});
