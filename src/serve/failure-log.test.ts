// Failed requests in the prediction log, on both backends: a real model server (primary and a
// shadow deployed) answers good requests and refuses a bad body with a 400; the refusal is logged
// as one row with its status and code under the version it reached, monitoring's reader never
// sees it, the deployment traffic counts it as an error, and the shadow's answers compare with
// the primary's over the same requests.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import * as ort from 'onnxruntime-node';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { openPredictionLog, type PredictionLogFilter, type PredictionLogLocation } from '../monitor/prediction-log-reader.js';
import { toTensor } from '../onnx/tensors.js';
import { analyseWindows } from '../monitor/windows.js';
import { Examples, ServingModel } from '../pipeline/artifact-types.js';
import type { LoomConfig } from '../platform/config.js';
import { predictionLogLocation } from '../platform/prediction-log-location.js';
import { deploymentTraffic } from '../queries/deployment-traffic.js';
import { shadowResults } from '../queries/shadow-results.js';
import { inferSchema } from '../validate/schema.js';
import { computeStatistics } from '../validate/statistics.js';
import { openFreshPostgres, openTestPlatform, postgresTestUrl } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { TEST_ACTOR, buildServingRegistry, type ServingRegistry } from '../../test/support/serving-registry.js';
import { ParquetPredictionSink, PostgresPredictionSink } from './prediction-sinks.js';
import { startModelServer } from './server.js';

/** What version `version`'s ONNX file answers for `rows`, run directly: the shadow's answers must equal these. */
async function probabilitiesOf(reg: ServingRegistry, version: number, rows: ServingRegistry['rows']): Promise<number[]> {
  const source = (await reg.db.registry.getModelVersion('flights', version))!.source;
  const session = await ort.InferenceSession.create(ServingModel.files.model(await reg.artifacts.localPath(source)));
  try {
    const feeds = Object.fromEntries(reg.signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.map((row) => row[spec.name]))]));
    return Array.from((await session.run(feeds)).probability!.data as Float32Array);
  } finally {
    await session.release();
  }
}

const logRows = (location: PredictionLogLocation, filter: PredictionLogFilter, columns: string) =>
  withDuckDB(async (db) => {
    const log = await openPredictionLog(db, location, filter);
    try {
      return await queryRows(db, `SELECT ${columns} FROM (${log.relation}) ORDER BY request_id, role`);
    } finally {
      await log.close();
    }
  });

async function failuresAreLogged(t: TestContext, reg: ServingRegistry, config: LoomConfig): Promise<void> {
  const postgres = config.database.url.startsWith('postgres');
  const [v1, v2] = reg.good;
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: `flights@${v1}`, shadow: `flights@${v2}` }, TEST_ACTOR);
  const { database, layout } = config;
  const server = await startModelServer({
    port: 0,
    models: [],
    registry: reg.db.registry,
    artifacts: reg.artifacts,
    deployments: reg.db.deployments,
    watchIntervalMs: 0,
    predictionLog: postgres ? new PostgresPredictionSink({ url: database.url, schema: database.schema }) : new ParquetPredictionSink(layout.predictions),
    predictionLogOptions: { flushIntervalMs: 20 },
  });
  t.after(() => server.close());
  const post = (id: string, path: string, body: unknown) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify(body) });
  const rows = reg.rows.slice(0, 3);
  const served: number[] = [];
  for (const [i, row] of rows.entries()) {
    const response = await post(`ok-${i}`, '/v2/models/flights/infer', { instances: [row] });
    assert.equal(response.status, 200);
    served.push(((await response.json()) as { predictions: { probability: number }[] }).predictions[0]!.probability);
  }
  const bad = await post('bad-0', '/v2/models/flights/infer', { instances: [{ ...rows[0], distance: 'far' }] });
  assert.equal(bad.status, 400);
  // Refused before it reached a version: nothing to log it under.
  assert.equal((await post('unknown-0', '/v2/models/trains/infer', { instances: [rows[0]] })).status, 404);
  // The shadow runs after the answer has gone: wait until its three answers are queued, then close (which writes everything).
  for (let tries = 0; tries < 500 && server.log!.written < 7; tries++) {
    await server.log!.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await server.close();
  const location = predictionLogLocation(config);
  assert.equal(location.kind, postgres ? 'postgres' : 'parquet');

  // Monitoring's view (the reader's default): the answers only, the relation's columns unchanged.
  const answered = await logRows(location, { model: 'flights' }, '*');
  assert.deepEqual(answered.map((r) => `${r.request_id} ${r.role} v${r.model_version}`), ['ok-0 primary v1', 'ok-0 shadow v2', 'ok-1 primary v1', 'ok-1 shadow v2', 'ok-2 primary v1', 'ok-2 shadow v2'].map((s) => s.replace('v1', `v${v1}`).replace('v2', `v${v2}`)));
  assert.ok(!('status' in answered[0]!), 'the failure columns are not part of the monitored relation');
  const all = await logRows(location, { model: 'flights', outcomes: 'all' }, "request_id, role, model_version, status, error_code, features::VARCHAR AS features");
  const failed = all.filter((r) => r.status !== null);
  assert.deepEqual(
    failed.map((r) => ({ ...r })),
    [{ request_id: 'bad-0', role: 'primary', model_version: v1, status: 400, error_code: 'INVALID_ARGUMENT', features: failed[0]!.features }],
  );
  assert.equal(all.length, 7);
  // `loom monitor`'s windows (over the reader's default relation) count the six answers, not the failure.
  const train = Examples.files.split(reg.fixture.examples.path, 'train');
  const statistics = await computeStatistics(train);
  const windows = await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, location, { model: 'flights' });
    try {
      return await analyseWindows(db, log.relation, { schema: inferSchema(statistics), statistics }, { window: { kind: 'requests', size: 100 } });
    } finally {
      await log.close();
    }
  });
  assert.deepEqual(windows.map((w) => w.rows), [6]);

  const traffic = await deploymentTraffic(location, { model: 'flights', window: 'daily' });
  const primary = traffic.series.find((s) => s.role === 'primary')!;
  assert.deepEqual([primary.version, primary.requests, primary.clientErrors, primary.serverErrors, primary.errorShare], [v1, [3], [1], [0], [0.25]]);
  const shadow = traffic.series.find((s) => s.role === 'shadow')!;
  assert.deepEqual([shadow.version, shadow.requests, shadow.clientErrors], [v2, [3], [0]]);

  const results = await shadowResults(location, { model: 'flights', window: 'daily' });
  assert.equal(results.comparisons.length, 1);
  const [comparison] = results.comparisons;
  assert.deepEqual([comparison!.shadowVersion, comparison!.servedVersion, comparison!.servedRole, comparison!.rows, comparison!.requests], [v2, v1, 'primary', [3], [3]]);
  const probability = comparison!.outputs.find((o) => o.name === 'probability')!;
  assert.equal(probability.kind, 'score');
  const shadowAnswers = await probabilitiesOf(reg, v2, rows);
  const expected = shadowAnswers.reduce((sum, p, i) => sum + Math.abs(p - served[i]!), 0) / rows.length;
  assert.ok(expected > 0, 'the shadow is a different model');
  assert.ok(Math.abs(probability.values[0]! - expected) < 1e-6, `${probability.values[0]} vs ${expected}`);
  assert.ok(comparison!.shadowP50[0]! > 0 && comparison!.servedP50[0]! > 0);
}

test('embedded (Parquet): a 400 is logged as an error row under its version and left out of monitoring; the shadow compares with the primary', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const platform = await openTestPlatform(dir);
  const reg = await buildServingRegistry(dir, { db: platform });
  t.after(() => reg.close());
  await failuresAreLogged(t, reg, platform.config);
});

const url = postgresTestUrl('failed requests in the PostgreSQL prediction log');
if (url) {
  test('server backend (PostgreSQL): the same, through the prediction_log table', async (t) => {
    const dir = await makeTempDir(t.after.bind(t));
    const platform = await openFreshPostgres(url);
    const reg = await buildServingRegistry(dir, { db: platform });
    t.after(() => reg.close());
    await failuresAreLogged(t, reg, platform.config);
  });
}
