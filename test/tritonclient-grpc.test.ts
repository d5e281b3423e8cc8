// The real Triton gRPC client (tritonclient.grpc) against a real Loom model server's gRPC
// port, with authentication required: health without a token, metadata and readiness with
// one, inference with raw numeric and BYTES tensors (answers equal to the model's ONNX file
// run directly), the protocol's status codes for a missing token, a token without `predict`,
// a wrong datatype and an unknown model, and the prediction log's record of each answer.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { createServerAuthentication } from '../src/auth/server-authentication.js';
import { toTensor } from '../src/onnx/tensors.js';
import type { PredictionLogRow } from '../src/serve/prediction-log.js';
import { startModelServer } from '../src/serve/server.js';
import { openTestPlatform } from './support/databases.js';
import { makeTempDir } from './support/flights.js';
import { runProcess } from './support/cli.js';
import { testPython } from './support/python.js';
import { buildServingRegistry } from './support/serving-registry.js';

const SCRIPT = fileURLToPath(new URL('./python/tritonclient_grpc.py', import.meta.url));
const python = testPython();

interface Refusal {
  status: string | null;
  message: string | null;
}

test('tritonclient.grpc checks health and metadata, infers with raw tensors, and is refused with the right status codes', { skip: python ? false : 'LOOM_TEST_PYTHON is not set' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const platform = await openTestPlatform(dir);
  const reg = await buildServingRegistry(dir, { db: platform });
  t.after(() => reg.close());
  const rows = reg.rows.slice(0, 6);
  const session = await ort.InferenceSession.create(join(reg.fixture.servingModel.path, 'model.onnx'));
  const feeds = Object.fromEntries(reg.signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.map((row) => row[spec.name]))]));
  const expected = Array.from((await session.run(feeds)).probability!.data as Float32Array);
  await session.release();

  const { secret: token } = await platform.tokens.createToken({ subject: 'app', role: 'viewer', createdBy: 'test' });
  const { secret: denied } = await platform.tokens.createToken({ subject: 'rev', role: 'viewer', grants: [{ model: 'flights', actions: ['alias.approve'] }], createdBy: 'test' });
  const { resolvePrincipal } = createServerAuthentication({ tokens: platform.tokens, settings: { required: true, insecureOpen: false }, host: '127.0.0.1' });
  const logged: PredictionLogRow[] = [];
  const server = await startModelServer({
    port: 0,
    grpcPort: 0,
    models: ['flights@champion'],
    registry: reg.db.registry,
    artifacts: reg.artifacts,
    watchIntervalMs: 0,
    security: { resolvePrincipal },
    predictionLog: { write: async (batch) => void logged.push(...batch), close: async () => {} },
  });
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));
  assert.ok(server.grpcAddress, 'the server reports its gRPC address');
  assert.notEqual(server.grpcAddress, server.url.replace(/^http:\/\//, ''), 'gRPC has a port of its own');

  const request = join(dir, 'triton-grpc-request.json');
  await writeFile(request, JSON.stringify({ model: 'flights', rows, output: 'probability', token, denied }));
  const result = await runProcess(python!, [SCRIPT, server.grpcAddress!, request], {
    env: { ...process.env, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
  });
  assert.equal(result.code, 0, `the tritonclient.grpc script failed:\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(report.live, true);
  assert.equal(report.ready, true);
  assert.deepEqual(report.server, ['loom', '0.1.0']);
  assert.equal(report.model_ready, true);
  assert.equal(report.unknown_model_ready, false);
  assert.deepEqual(report.versions, ['1']);
  const inputs = report.inputs as [string, string, number[]][];
  assert.deepEqual(inputs.map(([name]) => name), reg.signature.inputs.map((spec) => spec.name));
  assert.ok(inputs.some(([, type]) => type === 'BYTES') && inputs.some(([, type]) => type !== 'BYTES'), `BYTES and numeric inputs: ${JSON.stringify(inputs)}`);
  assert.equal(inputs[0]![2][0], -1, 'the batch dimension is -1');

  for (const key of ['named', 'all']) {
    const actual = report[key] as number[];
    assert.equal(actual.length, expected.length, key);
    // Raw outputs carry the float32 bits exactly.
    actual.forEach((value, i) => assert.equal(value, expected[i], `${key} row ${i}`));
  }
  assert.deepEqual(report.named_outputs, ['probability']);
  assert.deepEqual(report.all_outputs, reg.signature.outputs.map((spec) => spec.name));
  assert.equal(report.named_id, 'grpc-named');
  assert.equal(report.model_version, '1');
  const codes = { no_token: 'UNAUTHENTICATED', no_token_metadata: 'UNAUTHENTICATED', denied: 'PERMISSION_DENIED', wrong_datatype: 'INVALID_ARGUMENT', unknown_model: 'NOT_FOUND' };
  for (const [key, status] of Object.entries(codes)) {
    const refusal = report[key] as Refusal;
    assert.equal(refusal.status, `StatusCode.${status}`, `${key}: ${JSON.stringify(refusal)}`);
    assert.ok(refusal.message && refusal.message.length > 0, `${key} says why`);
  }
  assert.match((report.wrong_datatype as Refusal).message!, /FP16/);
  assert.equal(report.denied_metadata_ok, true, 'metadata is a read, which every role may');

  closed = true;
  await server.close();
  const mine = logged.filter((row) => row.protocol === 'v2-grpc');
  assert.equal(mine.length, 2 * rows.length, 'each row of each answered inference is logged once, and nothing refused');
  assert.deepEqual([...new Set(mine.map((row) => row.requestId))].sort(), [report.all_id, 'grpc-named'].sort(), 'the log keeps the ids the client saw');
  assert.ok(String(report.all_id).length > 0, 'a request without an id gets one');
});
