import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { makeTempDir } from '../../test/support/flights.js';
import { TEST_ACTOR, buildServingRegistry, type ServingRegistry } from '../../test/support/serving-registry.js';
import { hashUnit } from './model-pool.js';
import { ParquetPredictionSink } from './prediction-sinks.js';
import { startModelServer, type ModelServer } from './server.js';

let reg: ServingRegistry;
let server: ModelServer;
let sink: ParquetPredictionSink;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  const dir = await makeTempDir((fn) => void cleanups.push(fn));
  reg = await buildServingRegistry(dir);
  sink = new ParquetPredictionSink(`${dir}/predictions`, { rotateRows: 1_000_000 });
  server = await startModelServer({
    port: 0,
    models: ['flights@champion'],
    registry: reg.db.registry,
    artifacts: reg.artifacts,
    deployments: reg.db.deployments,
    watchIntervalMs: 0,
    predictionLog: sink,
    predictionLogOptions: { flushIntervalMs: 20 },
  });
});

after(async () => {
  await server?.close();
  await reg?.close();
  for (const cleanup of cleanups) await cleanup();
});

async function infer(id: string): Promise<{ version: string; probability: number }> {
  const response = await fetch(`${server.url}/v2/models/flights/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ instances: reg.rows.slice(0, 1) }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { model_version: string; predictions: { probability: number }[] };
  return { version: body.model_version, probability: body.predictions[0]!.probability };
}

test('a canary deployment splits traffic by request id at its weight; rollback restores the previous deployment in one step', async () => {
  const [v1, v2] = reg.good;
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: `flights@${v1}`, canary: { ref: `flights@${v2}`, weight: 0.3 }, split: 'hash' }, { actor: 'alice', reason: 'canary 30%' });
  await server.refresh();
  const ids = Array.from({ length: 400 }, (_, i) => `request-${i}`);
  const answers = await Promise.all(ids.map((id) => infer(id)));
  const canary = answers.filter((answer) => answer.version === String(v2)).length;
  // Deterministic by id: exactly the ids whose hash falls under the weight go to the canary.
  assert.equal(canary, ids.filter((id) => hashUnit(id) < 0.3).length);
  assert.ok(canary > 80 && canary < 160, `${canary} of 400 went to the canary`);
  assert.deepEqual(await infer('request-7'), answers[7], 'the same id lands on the same version');

  const history = await reg.db.deployments.history('flights');
  assert.equal(history[0]?.actor, 'alice');
  assert.ok(history[0]!.createdAt > 0);

  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: `flights@${v2}` }, { actor: 'bob', reason: 'promote' });
  await server.refresh();
  assert.equal((await infer('request-1')).version, String(v2));
  const rolledBack = await reg.db.deployments.rollback('flights', { actor: 'carol', reason: '' });
  assert.equal(rolledBack.canary?.weight, 0.3);
  assert.match(rolledBack.reason, /rollback of #\d+ to #\d+/);
  await server.refresh();
  const again = await Promise.all(ids.slice(0, 50).map((id) => infer(id)));
  assert.deepEqual(again.map((a) => a.version), answers.slice(0, 50).map((a) => a.version), 'the canary split is back exactly');
  // The restored deployment was the first: there is nothing further back.
  await assert.rejects(() => reg.db.deployments.rollback('flights', TEST_ACTOR), /nothing to roll back to/);
});

test('a shadow sees a copy of every request: its answers are logged, never returned', async () => {
  const [v1, v2] = reg.good;
  await reg.db.deployments.setDeployment({ modelName: 'flights', primary: `flights@${v1}`, shadow: `flights@${v2}` }, TEST_ACTOR);
  await server.refresh();
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => infer(`shadowed-${i}`)));
  assert.deepEqual([...new Set(answers.map((a) => a.version))], [String(v1)]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await server.log!.flush();
  const path = await sink.rotate();
  assert.ok(path, 'a Parquet file was written');
  type Logged = { request_id: string; model_version: number; role: string; origin: string; probability: number; latency_ms: number };
  const logged = (await withDuckDB((db) => queryRows(db, `SELECT request_id, model_version, role, features->>'origin' AS origin, (outputs->>'probability')::DOUBLE AS probability, latency_ms
     FROM read_parquet('${path}') WHERE request_id LIKE 'shadowed-%' ORDER BY request_id, role`))) as unknown as Logged[];
  assert.equal(logged.length, 20, 'each request is logged twice: the primary answer and the shadow answer');
  const primary = logged.filter((row) => row.role === 'primary');
  const shadow = logged.filter((row) => row.role === 'shadow');
  assert.deepEqual(new Set(primary.map((row) => row.model_version)), new Set([v1]));
  assert.deepEqual(new Set(shadow.map((row) => row.model_version)), new Set([v2]));
  assert.equal(primary[0]!.origin, reg.rows[0]!.origin);
  assert.ok(Math.abs(primary[0]!.probability - answers[0]!.probability) < 1e-6);
  assert.notEqual(shadow[0]!.probability, primary[0]!.probability, 'the shadow is a different model');
  assert.ok(primary.every((row) => row.latency_ms > 0));
});

test('deployments are checked: references must name the model, weights lie in [0, 1]', async () => {
  await assert.rejects(() => reg.db.deployments.setDeployment({ modelName: 'flights', primary: 'trains@1' }, TEST_ACTOR), /not a reference to model "flights"/);
  await assert.rejects(() => reg.db.deployments.setDeployment({ modelName: 'flights', primary: 'flights@1', canary: { ref: 'flights@2', weight: 1.5 } }, TEST_ACTOR), /canary.weight/);
  await assert.rejects(() => reg.db.deployments.rollback('trains', TEST_ACTOR), /no deployment/);
});
