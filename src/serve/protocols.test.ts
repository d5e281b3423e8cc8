import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { toTensor } from '../onnx/tensors.js';
import { makeTempDir } from '../../test/support/flights.js';
import { buildServingRegistry, type ServingRegistry } from '../../test/support/serving-registry.js';
import { startModelServer, type ModelServer } from './server.js';

let reg: ServingRegistry;
let server: ModelServer;
/** What the champion's ONNX file gives for the rows, run directly. */
let expected: number[];
const cleanups: (() => Promise<void>)[] = [];
const rows = () => reg.rows.slice(0, 4);

before(async () => {
  const dir = await makeTempDir((fn) => void cleanups.push(fn));
  reg = await buildServingRegistry(dir);
  const session = await ort.InferenceSession.create(join(reg.fixture.servingModel.path, 'model.onnx'));
  const feeds = Object.fromEntries(reg.signature.inputs.map((spec) => [spec.name, toTensor(spec, rows().map((row) => row[spec.name]))]));
  expected = Array.from((await session.run(feeds)).probability!.data as Float32Array);
  await session.release();
  server = await startModelServer({ port: 0, models: ['flights@champion', `flights@${reg.good[1]}`], registry: reg.db.registry, artifacts: reg.artifacts, watchIntervalMs: 0, bodyLimit: 64 * 1024 });
});

after(async () => {
  await server?.close();
  await reg?.close();
  for (const cleanup of cleanups) await cleanup();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: response.status, body: json };
}

const close = (actual: unknown[], wanted: number[]) => {
  assert.equal(actual.length, wanted.length);
  actual.forEach((value, i) => assert.ok(Math.abs((value as number) - wanted[i]!) < 1e-6, `row ${i}: ${value} vs ${wanted[i]}`));
};

test('TF Serving :predict, row format: instances in, one prediction per row out', async () => {
  const { status, body } = await call('POST', '/v1/models/flights:predict', { instances: rows() });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(Object.keys(body), ['predictions']);
  close(body.predictions as number[], expected);
  // The version and label forms reach the same model.
  const byVersion = await call('POST', `/v1/models/flights/versions/${reg.good[0]}:predict`, { instances: rows() });
  close(byVersion.body.predictions as number[], expected);
  const byLabel = await call('POST', '/v1/models/flights/labels/champion:predict', { instances: rows() });
  close(byLabel.body.predictions as number[], expected);
  const other = await call('POST', `/v1/models/flights/versions/${reg.good[1]}:predict`, { instances: rows() });
  assert.equal(other.status, 200);
  assert.notDeepEqual(other.body.predictions, byVersion.body.predictions, 'version 2 is a different model');
});

test('TF Serving :predict, columnar format: inputs as columns in, outputs out', async () => {
  const columns = Object.fromEntries(reg.signature.inputs.map((spec) => [spec.name, rows().map((row) => row[spec.name])]));
  const { status, body } = await call('POST', '/v1/models/flights:predict', { inputs: columns });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(Object.keys(body), ['outputs']);
  close(body.outputs as number[], expected);
});

test('TF Serving model status and metadata', async () => {
  const { status, body } = await call('GET', '/v1/models/flights');
  assert.equal(status, 200);
  assert.deepEqual(body, {
    model_version_status: reg.good.map((version) => ({ version: String(version), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } })),
  });
  const one = await call('GET', `/v1/models/flights/versions/${reg.good[1]}`);
  assert.equal((one.body.model_version_status as unknown[]).length, 1);
  const metadata = await call('GET', '/v1/models/flights/metadata');
  const signature = (metadata.body.metadata as { signature_def: { signature_def: { serving_default: { inputs: Record<string, { dtype: string }> } } } }).signature_def.signature_def.serving_default;
  assert.equal(signature.inputs.origin?.dtype, 'DT_STRING');
  assert.equal(signature.inputs.distance?.dtype, 'DT_INT64');
  assert.equal((await call('GET', '/v1/models/trains')).status, 404);
  assert.equal((await call('POST', '/v1/models/flights/versions/9:predict', { instances: rows() })).status, 404);
  assert.equal((await call('POST', '/v1/models/flights/labels/staging:predict', { instances: rows() })).status, 404);
  assert.equal((await call('POST', '/v1/models/flights:classify', { instances: rows() })).status, 404);
});

test('MLflow /invocations: dataframe_split, dataframe_records, instances, inputs and CSV give the same predictions', async () => {
  const names = reg.signature.inputs.map((spec) => spec.name);
  const bodies = [
    { dataframe_split: { columns: names, data: rows().map((row) => names.map((name) => row[name])) } },
    { dataframe_records: rows() },
    { instances: rows() },
    { inputs: rows() },
    { inputs: Object.fromEntries(names.map((name) => [name, rows().map((row) => row[name])])) },
  ];
  for (const body of bodies) {
    const response = await call('POST', '/invocations', body);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body), ['predictions']);
    close(response.body.predictions as number[], expected);
  }
  const csv = [names.join(','), ...rows().map((row) => names.map((name) => row[name]).join(','))].join('\n');
  const response = await fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
  assert.equal(response.status, 200);
  close(((await response.json()) as { predictions: number[] }).predictions, expected);
  // A model and version chosen by query or header.
  const chosen = await call('POST', `/invocations?model=flights&version=${reg.good[1]}`, { instances: rows() });
  assert.equal(chosen.status, 200);
  assert.notDeepEqual(chosen.body.predictions, expected);
  const unknown = await call('POST', '/invocations', { instances: rows() }, { 'x-loom-model': 'trains' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
  assert.equal((await call('GET', '/ping')).status, 200);
});

test('a bad request names every bad field and what it expected, on every protocol', async () => {
  const [first, second] = rows();
  const { distance: _dropped, ...withoutDistance } = second!;
  const bad = [{ ...first, hour: 'noon', month: 3 }, { ...withoutDistance, origin: 12 }];
  const v2 = await call('POST', '/v2/models/flights/infer', { instances: bad });
  assert.equal(v2.status, 400);
  const fields = (v2.body.problems as { field: string; message: string }[]).map((p) => p.field).sort();
  assert.deepEqual(fields, ['instances[0].hour', 'instances[0].month', 'instances[1].distance', 'instances[1].origin']);
  const hour = (v2.body.problems as { field: string; message: string }[]).find((p) => p.field === 'instances[0].hour')!;
  assert.match(hour.message, /must be an integer.*got the string "noon"/);
  assert.match(String(v2.body.error), /4 problems/);

  const tf = await call('POST', '/v1/models/flights:predict', { instances: bad });
  assert.equal(tf.status, 400);
  assert.equal((tf.body.problems as unknown[]).length, 4);
  assert.equal(typeof tf.body.error, 'string');
  const mlflow = await call('POST', '/invocations', { dataframe_records: bad });
  assert.equal(mlflow.status, 400);
  assert.equal(mlflow.body.error_code, 'BAD_REQUEST');
  assert.equal((mlflow.body.problems as unknown[]).length, 4);

  // Envelope and shape mistakes.
  const inputs = reg.signature.inputs.map((spec) => ({ name: spec.name, shape: [2, 1], datatype: spec.type === 'string' ? 'BYTES' : 'INT64', data: [first![spec.name], second![spec.name]] }));
  const wrongShapes = inputs.map((input) => (input.name === 'hour' ? { ...input, shape: [2, 2] } : input.name === 'origin' ? { ...input, datatype: 'FP32' } : input));
  const shapes = await call('POST', '/v2/models/flights/infer', { inputs: wrongShapes });
  assert.deepEqual((shapes.body.problems as { field: string }[]).map((p) => p.field), ['inputs[hour].data', 'inputs[origin].datatype']);
  for (const [path, body] of [
    ['/v2/models/flights/infer', '{"instances": ['],
    ['/v1/models/flights:predict', '[1, 2'],
    ['/invocations', '{'],
    ['/v2/models/flights/infer', { instances: rows(), inputs: [] }],
    ['/v1/models/flights:predict', { nothing: true }],
    ['/invocations', { dataframe_split: { columns: 'hour', data: [] } }],
    ['/v2/models/flights/infer', { instances: [[1, 2, 3]] }],
    ['/v2/models/flights/infer', { inputs: [{ name: 'hour', shape: [-1], datatype: 3, data: 'x' }] }],
  ] as const) {
    const response = await call('POST', path, body);
    assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
  }
  // Bodies over the limit are 413; the server is still up afterwards.
  const huge = await call('POST', '/v2/models/flights/infer', { instances: Array.from({ length: 2000 }, () => first) });
  assert.equal(huge.status, 413);
  assert.equal((await call('GET', '/v2/health/live')).status, 200);
});

test('V2 binary tensors (Triton\'s extension): a torn or mislabelled body is a 400 naming the part, never a 500', async () => {
  const header = (body: object) => Buffer.from(JSON.stringify(body));
  const send = async (json: Buffer, binary: Buffer, length: string = String(json.length)) => {
    const response = await fetch(`${server.url}/v2/models/flights/infer`, { method: 'POST', headers: { 'inference-header-content-length': length }, body: Buffer.concat([json, binary]) });
    return { status: response.status, body: (await response.json()) as { error?: string } };
  };
  const hour = { name: 'hour', shape: [1], datatype: 'INT64', parameters: { binary_data_size: 8 } };
  const origin = (size: number) => ({ name: 'origin', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: size } });
  const eight = Buffer.alloc(8);
  const torn = Buffer.from([5, 0, 0, 0, 0x41]);
  const cases: [string, Buffer, Buffer, string | undefined, RegExp][] = [
    ['header longer than the body', header({ inputs: [hour] }), eight, '9999', /Inference-Header-Content-Length/],
    ['header length not a number', header({ inputs: [hour] }), eight, 'ten', /Inference-Header-Content-Length/],
    ['sizes beyond the bytes sent', header({ inputs: [{ ...hour, parameters: { binary_data_size: 16 } }] }), eight, undefined, /binary_data_size/],
    ['bytes no size accounts for', header({ inputs: [hour] }), Buffer.alloc(12), undefined, /4 binary bytes/],
    ['a BYTES element cut short', header({ inputs: [origin(torn.length)] }), torn, undefined, /BYTES element of 5 bytes/],
    ['INT64 bytes not a whole value', header({ inputs: [{ ...hour, parameters: { binary_data_size: 5 } }] }), Buffer.alloc(5), undefined, /whole number of INT64/],
    ['JSON part not JSON', Buffer.from('{"inputs": ['), eight, undefined, /JSON|Unexpected|body/],
  ];
  for (const [what, json, binary, length, message] of cases) {
    const response = await send(json, binary, length);
    assert.equal(response.status, 400, `${what}: ${JSON.stringify(response.body)}`);
    assert.match(String(response.body.error), message, what);
  }
  assert.equal((await call('GET', '/v2/health/live')).status, 200);
});

test('/metrics is Prometheus text with requests, latency, batch sizes and errors per model', async () => {
  await call('POST', '/v2/models/flights/infer', { instances: rows() });
  const response = await fetch(`${server.url}/metrics`);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  const text = await response.text();
  assert.match(text, new RegExp(`loom_serve_requests_total\\{model="flights",version="${reg.good[0]}"\\} \\d+`));
  assert.match(text, /loom_serve_request_duration_seconds_bucket\{le="0.001",model="flights",version="\d+"\}/);
  assert.match(text, /loom_serve_batch_rows_sum\{model="flights",version="\d+"\}/);
  assert.match(text, /loom_serve_request_errors_total\{model="flights",status="400"\} \d+/);
  assert.match(text, /loom_serve_prediction_log_dropped_total 0/);
});
