import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { evaluateComponent } from '../evaluate/component.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { toTensor } from '../onnx/tensors.js';
import { pushComponent } from '../push/push-component.js';
import type { ModelSignature } from '../registry/types.js';
import { makeTempDir } from '../../test/support/flights.js';
import { buildServingModel, runComponent, type ServingModelFixture } from '../../test/support/serving-model.js';
import { testServices } from '../../test/support/services.js';
import { loadModel } from './model-loader.js';
import { startModelServer, type ModelServer } from './server.js';

let fixture: ServingModelFixture;
let db: LoomDatabase;
let server: ModelServer;
let signature: ModelSignature;
/** The first eval rows, raw features only. */
let rows: Record<string, string | number>[];
/** What the ONNX file gives for `rows`, run directly. */
let expected: Float32Array;
let removeDir: (() => Promise<void>) | undefined;

before(async () => {
  const dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  fixture = await buildServingModel(dir);
  db = await openTestPlatform(dir);
  // Registered the way a pipeline does it: evaluate, then push (blessed: no champion yet).
  const evaluated = await runComponent(fixture.artifacts, evaluateComponent, { model: fixture.servingModel, examples: fixture.examples, baseline: undefined }, {});
  await runComponent(
    fixture.artifacts,
    pushComponent,
    { servingModel: fixture.servingModel, evaluation: evaluated.evaluation, blessing: evaluated.blessing },
    { modelName: 'flights' },
    testServices({ artifacts: fixture.artifacts, registry: db.registry }),
    'run-1',
  );

  signature = JSON.parse(await readFile(join(fixture.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
  rows = await withDuckDB(async (conn) => {
    const path = join(fixture.examples.path, 'eval', 'data.parquet');
    const result = await conn.runAndReadAll(`SELECT hour::INTEGER AS hour, weekday::INTEGER AS weekday, distance::INTEGER AS distance,
      origin, destination FROM read_parquet(${sqlString(path)}) LIMIT 5`);
    return result.getRowObjects() as Record<string, string | number>[];
  });
  const session = await ort.InferenceSession.create(join(fixture.servingModel.path, 'model.onnx'));
  const feeds = Object.fromEntries(signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.map((row) => row[spec.name]))]));
  expected = (await session.run(feeds)).probability.data as Float32Array;
  await session.release();

  server = await startModelServer({ port: 0, models: [], registry: db.registry, artifacts: fixture.artifacts });
});

after(async () => {
  await server?.close();
  await db?.close();
  await removeDir?.();
});

async function get(path: string) {
  const response = await fetch(server.url + path);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function post(path: string, body: unknown) {
  const response = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function v2Inputs(records: Record<string, unknown>[]) {
  return signature.inputs.map((spec) => ({
    name: spec.name,
    shape: [records.length, 1],
    datatype: spec.type === 'string' ? 'BYTES' : 'INT64',
    data: records.map((row) => row[spec.name]),
  }));
}

test('health and readiness', async () => {
  assert.deepEqual(await get('/v2/health/live'), { status: 200, body: { live: true } });
  assert.deepEqual(await get('/v2/health/ready'), { status: 200, body: { ready: true } });
  assert.deepEqual(await get('/v2/models/flights/ready'), { status: 200, body: { name: 'flights', version: '1', ready: true } });
});

test('metadata names the inputs and outputs with V2 datatypes', async () => {
  const { status, body } = await get('/v2/models/flights');
  assert.equal(status, 200);
  assert.equal(body.name, 'flights');
  assert.deepEqual(body.versions, ['1']);
  assert.equal(body.platform, 'onnx');
  const inputs = body.inputs as { name: string; datatype: string; shape: number[] }[];
  assert.deepEqual(inputs.map((input) => input.name).sort(), ['destination', 'distance', 'hour', 'origin', 'weekday']);
  assert.equal(inputs.find((input) => input.name === 'origin')?.datatype, 'BYTES');
  assert.equal(inputs.find((input) => input.name === 'distance')?.datatype, 'INT64');
  assert.deepEqual(body.outputs, [{ name: 'probability', datatype: 'FP32', shape: [-1, 1] }]);
  assert.deepEqual((await get('/v2/models/flights/versions/1')).body, body);
});

test('V2 infer gives the probabilities of running the ONNX file directly', async () => {
  const { status, body } = await post('/v2/models/flights/infer', { id: 'req-1', inputs: v2Inputs(rows) });
  assert.equal(status, 200);
  assert.equal(body.model_name, 'flights');
  assert.equal(body.model_version, '1');
  assert.equal(body.id, 'req-1');
  const [output] = body.outputs as { name: string; shape: number[]; datatype: string; data: number[] }[];
  assert.equal(output.name, 'probability');
  assert.equal(output.datatype, 'FP32');
  assert.deepEqual(output.shape, [rows.length, 1]);
  assert.deepEqual(Float32Array.from(output.data), expected);
  // The version route answers the same.
  const versioned = await post('/v2/models/flights/versions/1/infer', { inputs: v2Inputs(rows) });
  assert.deepEqual(versioned.body.outputs, body.outputs);
});

test('records form: instances of raw features in, one probability per row out', async () => {
  const { status, body } = await post('/v2/models/flights/infer', { instances: rows });
  assert.equal(status, 200);
  assert.equal(body.model_name, 'flights');
  assert.equal(body.model_version, '1');
  const predictions = body.predictions as { probability: number }[];
  assert.deepEqual(Float32Array.from(predictions.map((prediction) => prediction.probability)), expected);
});

async function assertBadRequest(path: string, body: unknown, status: number, code: string, field?: string) {
  const response = await post(path, body);
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.error_code, code);
  assert.equal(typeof response.body.error, 'string');
  if (field) {
    assert.equal(response.body.field, field);
    assert.ok(String(response.body.error).includes(field), `message "${response.body.error}" names ${field}`);
  }
}

test('bad requests get the right status and name the field', async () => {
  const infer = '/v2/models/flights/infer';
  await assertBadRequest(infer, '{"instances": [', 400, 'INVALID_ARGUMENT', 'body');
  const { distance: _dropped, ...withoutDistance } = rows[1];
  await assertBadRequest(infer, { instances: [rows[0], withoutDistance] }, 400, 'INVALID_ARGUMENT', 'instances[1].distance');
  await assertBadRequest(infer, { instances: [{ ...rows[0], distance: 'far' }] }, 400, 'INVALID_ARGUMENT', 'instances[0].distance');
  await assertBadRequest(infer, { instances: [{ ...rows[0], delayed: true }] }, 400, 'INVALID_ARGUMENT', 'instances[0].delayed');
  await assertBadRequest(infer, { instances: [] }, 400, 'INVALID_ARGUMENT', 'instances');
  await assertBadRequest(infer, {}, 400, 'INVALID_ARGUMENT', 'body');
  const inputs = v2Inputs(rows);
  const mistyped = inputs.map((input) => (input.name === 'origin' ? { ...input, datatype: 'FP32' } : input));
  await assertBadRequest(infer, { inputs: mistyped }, 400, 'INVALID_ARGUMENT', 'inputs[origin].datatype');
  await assertBadRequest(infer, { inputs: inputs.filter((input) => input.name !== 'hour') }, 400, 'INVALID_ARGUMENT', 'inputs[hour]');
  await assertBadRequest(infer, { inputs: [...inputs, { ...inputs[0], name: 'month' }] }, 400, 'INVALID_ARGUMENT', 'inputs[month]');
  const shortData = inputs.map((input) => (input.name === 'weekday' ? { ...input, data: input.data.slice(1) } : input));
  await assertBadRequest(infer, { inputs: shortData }, 400, 'INVALID_ARGUMENT', 'inputs[weekday].data');
  await assertBadRequest('/v2/models/trains/infer', { instances: rows }, 404, 'NOT_FOUND');
  await assertBadRequest('/v2/models/trains/infer', {}, 404, 'NOT_FOUND');
  await assertBadRequest('/v2/models/flights/versions/9/infer', { instances: rows }, 404, 'NOT_FOUND');
  await assertBadRequest(infer, { instances: [{ origin: 'x'.repeat(11 * 1024 * 1024) }] }, 413, 'RESOURCE_EXHAUSTED');
  assert.equal((await get('/v2/models/trains')).status, 404);
  assert.equal((await get('/nowhere')).body.error_code, 'NOT_FOUND');
});

test('unknown models, aliases and versions are NOT_FOUND with the fix', async () => {
  const services = { registry: db.registry, artifacts: fixture.artifacts };
  for (const ref of ['trains', 'flights@challenger', 'flights@7']) {
    await assert.rejects(
      () => loadModel(ref, services),
      (error: unknown) => error instanceof LoomError && error.code === 'NOT_FOUND' && /loom models ls/.test(error.fix ?? ''),
    );
  }
  const warnings: string[] = [];
  const logger = { info() {}, warn: (message: string) => void warnings.push(message) };
  await assert.rejects(
    () => startModelServer({ port: 0, models: ['trains'], registry: db.registry, artifacts: fixture.artifacts, logger }),
    (error: unknown) => error instanceof LoomError && error.code === 'NOT_FOUND' && /trains/.test(error.message),
  );
  // One good reference is enough to serve; the bad one is reported.
  const partial = await startModelServer({ port: 0, models: ['flights@1', 'trains'], registry: db.registry, artifacts: fixture.artifacts, logger });
  try {
    assert.equal(partial.loaded.length, 1);
    assert.deepEqual(partial.failures.map((failure) => failure.ref), ['trains']);
    assert.ok(warnings.some((warning) => warning.includes('trains') && warning.includes('loom models ls')));
  } finally {
    await partial.close();
  }
});

test('close lets in-flight requests finish', async () => {
  const other = await startModelServer({ port: 0, models: ['flights'], registry: db.registry, artifacts: fixture.artifacts });
  const inFlight = fetch(`${other.url}/v2/models/flights/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ instances: rows }),
  });
  // Give the request time to reach the server before closing.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const closing = other.close();
  const response = await inFlight;
  assert.equal(response.status, 200);
  await closing;
  await assert.rejects(() => fetch(`${other.url}/v2/health/live`));
});
