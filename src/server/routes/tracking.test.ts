// The tracking API on MLflow's paths, through Fastify's inject (the socket is not the point
// here; test/mlflow-client.test.ts drives a real server with the real MLflow client).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openFreshPostgres, openFreshSqlite, postgresTestUrl } from '../../../test/support/databases.js';
import { platformApp } from '../../../test/support/platform-app.js';
import { buildPlatformApp } from '../server.js';

async function app(t: TestContext): Promise<FastifyInstance> {
  return (await platformApp(t)).server;
}

async function call(server: FastifyInstance, method: 'GET' | 'POST', path: string, payload?: object) {
  const response = await server.inject({ method, url: `/api/2.0/mlflow/${path}`, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, body: response.json() as Record<string, any> };
}

test('experiments: create, get, get-by-name, search, update, delete, restore', async (t) => {
  const server = await app(t);
  const created = await call(server, 'POST', 'experiments/create', { name: 'flights', tags: [{ key: 'team', value: 'ml' }] });
  assert.equal(created.status, 200);
  const id = created.body.experiment_id as string;
  const got = await call(server, 'GET', `experiments/get?experiment_id=${id}`);
  assert.equal(got.body.experiment.name, 'flights');
  assert.equal(got.body.experiment.artifact_location, `mlflow-artifacts:/${id}`);
  assert.deepEqual(got.body.experiment.tags, [{ key: 'team', value: 'ml' }]);
  const byName = await call(server, 'GET', 'experiments/get-by-name?experiment_name=flights');
  assert.deepEqual(byName.body, got.body);
  const missing = await call(server, 'GET', 'experiments/get-by-name?experiment_name=nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const duplicate = await call(server, 'POST', 'experiments/create', { name: 'flights' });
  assert.equal(duplicate.body.error_code, 'RESOURCE_ALREADY_EXISTS');
  const searched = await call(server, 'POST', 'experiments/search', { filter: "name LIKE 'fli%'", max_results: 10 });
  assert.deepEqual(searched.body.experiments.map((e: { name: string }) => e.name), ['flights']);
  const searchedGet = await call(server, 'GET', 'experiments/search?max_results=1&order_by=name%20ASC');
  assert.deepEqual(searchedGet.body.experiments.map((e: { name: string }) => e.name), ['Default']);
  assert.ok(searchedGet.body.next_page_token);
  await call(server, 'POST', 'experiments/update', { experiment_id: id, new_name: 'flights-2' });
  assert.equal((await call(server, 'GET', `experiments/get?experiment_id=${id}`)).body.experiment.name, 'flights-2');
  await call(server, 'POST', 'experiments/delete', { experiment_id: id });
  assert.equal((await call(server, 'GET', `experiments/get?experiment_id=${id}`)).body.experiment.lifecycle_stage, 'deleted');
  await call(server, 'POST', 'experiments/restore', { experiment_id: id });
  assert.equal((await call(server, 'GET', `experiments/get?experiment_id=${id}`)).body.experiment.lifecycle_stage, 'active');
  const bad = await call(server, 'POST', 'experiments/create', {});
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
  assert.equal(bad.body.field, 'name');
});

test('runs: create, log, get, history, search, update, tags, delete and restore in MLflow shapes', async (t) => {
  const server = await app(t);
  const created = await call(server, 'POST', 'runs/create', { experiment_id: '0', run_name: 'r1', user_id: 'ada', start_time: 1700000000000, tags: [{ key: 'k', value: 'v' }] });
  assert.equal(created.status, 200);
  const info = created.body.run.info;
  assert.equal(info.run_id, info.run_uuid);
  assert.match(info.run_id, /^[0-9a-f]{32}$/);
  assert.equal(info.status, 'RUNNING');
  assert.equal(info.artifact_uri, `mlflow-artifacts:/0/${info.run_id}/artifacts`);
  const runId = info.run_id as string;

  assert.equal((await call(server, 'POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status, 200);
  const changed = await call(server, 'POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.2' });
  assert.equal(changed.status, 400);
  assert.equal(changed.body.error_code, 'INVALID_PARAMETER_VALUE');
  await call(server, 'POST', 'runs/log-metric', { run_id: runId, key: 'loss', value: 0.9, timestamp: '1700000000001', step: '0' });
  await call(server, 'POST', 'runs/log-batch', {
    run_id: runId,
    metrics: [{ key: 'loss', value: 0.5, timestamp: 1700000000002, step: 1 }, { key: 'odd', value: 'NaN', timestamp: 1700000000002 }],
    params: [{ key: 'epochs', value: '3' }],
    tags: [{ key: 'stage', value: 'dev' }],
  });
  await call(server, 'POST', 'runs/set-tag', { run_id: runId, key: 'x', value: 'y' });
  await call(server, 'POST', 'runs/delete-tag', { run_id: runId, key: 'x' });
  assert.equal((await call(server, 'POST', 'runs/log-inputs', { run_id: runId, datasets: [] })).status, 200);

  const got = (await call(server, 'GET', `runs/get?run_id=${runId}`)).body.run;
  assert.deepEqual(got.data.params, [{ key: 'epochs', value: '3' }, { key: 'lr', value: '0.1' }]);
  assert.deepEqual(got.data.metrics, [
    { key: 'loss', value: 0.5, timestamp: 1700000000002, step: 1 },
    { key: 'odd', value: 'NaN', timestamp: 1700000000002, step: 0 },
  ]);
  assert.deepEqual(got.data.tags, [{ key: 'k', value: 'v' }, { key: 'mlflow.runName', value: 'r1' }, { key: 'stage', value: 'dev' }]);
  const history = await call(server, 'GET', `metrics/get-history?run_id=${runId}&metric_key=loss`);
  assert.deepEqual(history.body.metrics.map((m: { value: number }) => m.value), [0.9, 0.5]);

  const updated = await call(server, 'POST', 'runs/update', { run_id: runId, status: 'FINISHED', end_time: 1700000000100 });
  assert.equal(updated.body.run_info.status, 'FINISHED');
  assert.equal(updated.body.run_info.end_time, 1700000000100);
  const search = await call(server, 'POST', 'runs/search', { experiment_ids: ['0'], filter: "metrics.loss < 0.6 and params.lr = '0.1' and attributes.status = 'FINISHED'" });
  assert.deepEqual(search.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id), [runId]);
  const none = await call(server, 'POST', 'runs/search', { experiment_ids: ['0'], filter: 'metrics.loss > 0.6' });
  assert.deepEqual(none.body.runs, []);
  const badFilter = await call(server, 'POST', 'runs/search', { experiment_ids: ['0'], filter: 'metrics.loss >> 1' });
  assert.equal(badFilter.status, 400);
  assert.equal(badFilter.body.field, 'filter');

  await call(server, 'POST', 'runs/delete', { run_id: runId });
  assert.deepEqual((await call(server, 'POST', 'runs/search', { experiment_ids: ['0'] })).body.runs, []);
  const deleted = await call(server, 'POST', 'runs/search', { experiment_ids: ['0'], run_view_type: 'DELETED_ONLY' });
  assert.equal(deleted.body.runs.length, 1);
  await call(server, 'POST', 'runs/restore', { run_id: runId });
  assert.equal((await call(server, 'GET', `runs/get?run_id=${runId}`)).body.run.info.lifecycle_stage, 'active');
  assert.equal((await call(server, 'GET', `runs/get?run_id=${'0'.repeat(32)}`)).status, 404);
});

test('log-batch refuses more than MLflow accepts in one request', async (t) => {
  const server = await app(t);
  const runId = (await call(server, 'POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id;
  const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
  const response = await call(server, 'POST', 'runs/log-batch', { run_id: runId, metrics });
  assert.equal(response.status, 400);
  assert.equal(response.body.field, 'metrics');
});

test('proxied artifacts: upload any content type, list through both APIs, download', async (t) => {
  const server = await app(t);
  const run = (await call(server, 'POST', 'runs/create', { experiment_id: '0' })).body.run.info;
  const base = `/api/2.0/mlflow-artifacts/artifacts/0/${run.run_id}/artifacts`;
  const json = '{"not": "parsed"}';
  assert.equal((await server.inject({ method: 'PUT', url: `${base}/config.json`, headers: { 'content-type': 'application/json' }, payload: json })).statusCode, 200);
  assert.equal((await server.inject({ method: 'PUT', url: `${base}/plots/curve.txt`, headers: { 'content-type': 'text/plain' }, payload: 'abc' })).statusCode, 200);
  const download = await server.inject({ method: 'GET', url: `${base}/config.json` });
  assert.equal(download.statusCode, 200);
  assert.equal(download.body, json);
  const listed = await server.inject({ method: 'GET', url: `/api/2.0/mlflow-artifacts/artifacts?path=0/${run.run_id}/artifacts` });
  assert.deepEqual(listed.json().files, [{ path: 'config.json', is_dir: false, file_size: json.length }, { path: 'plots', is_dir: true }]);
  const viaRun = await call(server, 'GET', `artifacts/list?run_id=${run.run_id}&path=plots`);
  assert.equal(viaRun.body.root_uri, run.artifact_uri);
  assert.deepEqual(viaRun.body.files, [{ path: 'plots/curve.txt', is_dir: false, file_size: 3 }]);
  const escape = await server.inject({ method: 'PUT', url: `${base}/..%2F..%2F..%2Fescape.txt`, payload: 'x' });
  assert.equal(escape.statusCode, 400);
  assert.equal((await server.inject({ method: 'GET', url: `${base}/nope.txt` })).statusCode, 404);
});

// A pattern ending in a lone backslash: PostgreSQL's LIKE errors on it, SQLite's matched
// nothing; both must refuse it alike, as the other filter errors, before querying.
const likeUrl = postgresTestUrl('MLflow search with a LIKE pattern ending in a backslash');
for (const [backend, open] of [['sqlite', openFreshSqlite], ...(likeUrl ? [['postgres', () => openFreshPostgres(likeUrl)] as const] : [])] as const) {
  test(`runs/search and experiments/search refuse a LIKE pattern ending in a lone backslash with a 400 naming the filter (${backend})`, async (t) => {
    const db = await open();
    const server = await buildPlatformApp({ db, artifacts: db.artifacts });
    t.after(async () => {
      await server.close();
      await db.close();
    });
    const created = await call(server, 'POST', 'runs/create', { experiment_id: '0', run_name: 'r', start_time: 1700000000000 });
    await call(server, 'POST', 'runs/log-parameter', { run_id: created.body.run.info.run_id, key: 'path', value: 'C:\\' });
    for (const [path, filter] of [['runs/search', "params.path LIKE 'C:\\'"], ['runs/search', "params.path ILIKE '%\\'"], ['experiments/search', "name LIKE 'x\\\\\\'"]] as const) {
      const refused = await call(server, 'POST', path, { experiment_ids: ['0'], filter });
      assert.equal(refused.status, 400, filter);
      assert.deepEqual([refused.body.error_code, refused.body.field], ['INVALID_PARAMETER_VALUE', 'filter'], filter);
      assert.match(refused.body.message, /ends in a lone backslash/);
      assert.match(refused.body.fix, /\\\\/);
    }
    const escaped = await call(server, 'POST', 'runs/search', { experiment_ids: ['0'], filter: "params.path LIKE 'C:\\\\'" });
    assert.deepEqual(escaped.body.runs.map((r: { info: { run_name: string } }) => r.info.run_name), ['r']);
  });
}
