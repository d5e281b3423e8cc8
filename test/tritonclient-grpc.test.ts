// The real Triton gRPC client (tritonclient.grpc) against a real Loom model server's gRPC
// port, with authentication required: health without a token, metadata and readiness with
// one, inference with raw numeric and BYTES tensors (answers equal to the model's ONNX file
// run directly), the protocol's status codes for a missing token, a token without `predict`,
// a wrong datatype and an unknown model, and the prediction log's record of each answer. A
// generic client (@grpc/grpc-js with the same .proto) sends typed `contents` instead of raw
// bytes, and malformed envelopes, which tritonclient never does.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createServerAuthentication } from '../src/auth/server-authentication.js';
import type { PredictionLogRow } from '../src/serve/prediction-log.js';
import { startModelServer } from '../src/serve/server.js';
import { openTestPlatform } from './support/databases.js';
import { makeTempDir } from './support/flights.js';
import { runProcess } from './support/cli.js';
import { testPython } from './support/python.js';
import { buildServingRegistry, directProbabilities } from './support/serving-registry.js';

const SCRIPT = fileURLToPath(new URL('./python/tritonclient_grpc.py', import.meta.url));
const python = testPython();

const PROTO = fileURLToPath(new URL('../src/serve/grpc/inference.proto', import.meta.url));

/** Which `contents` field carries each Loom tensor type (the protocol's table). */
const CONTENTS = { float32: 'fp32_contents', float64: 'fp64_contents', int64: 'int64_contents', int32: 'int_contents', string: 'bytes_contents', bool: 'bool_contents' } as const;

type Call = (request: object, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: Record<string, unknown>) => void) => void;

/** A generic V2 gRPC client's ModelInfer: the answer, or the status code and message it was refused with. */
function modelInfer(client: grpc.Client, token: string, request: object): Promise<{ response?: Record<string, unknown>; code?: number; details?: string }> {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    (client as unknown as { ModelInfer: Call }).ModelInfer(request, metadata, (error, response) => resolve(error ? { code: error.code, details: error.details } : { response }));
  });
}

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
  const expected = await directProbabilities(reg, rows);

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

  // Typed contents, as a generic client may send them, give the same answers as raw bytes.
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true, arrays: true });
  const Service = (grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } }).inference.GRPCInferenceService;
  const client = new Service(server.grpcAddress!, grpc.credentials.createInsecure());
  t.after(() => client.close());
  const typed = reg.signature.inputs.map((spec) => {
    const values = rows.map((row) => (spec.type === 'string' ? Buffer.from(String(row[spec.name])) : row[spec.name]));
    return { name: spec.name, datatype: spec.type === 'string' ? 'BYTES' : spec.type === 'int64' ? 'INT64' : 'FP32', shape: [rows.length, 1], contents: { [CONTENTS[spec.type]]: values } };
  });
  const answer = await modelInfer(client, token, { model_name: 'flights', id: 'typed', inputs: typed });
  assert.equal(answer.code, undefined, answer.details);
  const raw = (answer.response!.raw_output_contents as Buffer[])[0]!;
  assert.deepEqual(Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))), expected);
  assert.equal(answer.response!.id, 'typed');

  // Malformed envelopes are INVALID_ARGUMENT naming what is wrong; an unknown version is NOT_FOUND.
  const cases: [object, grpc.status, RegExp][] = [
    [{ model_name: 'flights', inputs: typed, raw_input_contents: [Buffer.alloc(8)] }, grpc.status.INVALID_ARGUMENT, /raw_input_contents has 1 entries/],
    [{ model_name: 'flights', inputs: typed.map((input) => ({ ...input, shape: [-1, 1] })) }, grpc.status.INVALID_ARGUMENT, /shape must hold non-negative/],
    [{ model_name: 'flights', inputs: typed, outputs: [{ name: 'nope' }] }, grpc.status.INVALID_ARGUMENT, /"nope" is not an output/],
    [{ model_name: 'flights', model_version: 'latest', inputs: typed }, grpc.status.INVALID_ARGUMENT, /not a whole number/],
    [{ model_name: 'flights', model_version: '99', inputs: typed }, grpc.status.NOT_FOUND, /99/],
    [{ model_name: 'flights', inputs: typed.slice(1) }, grpc.status.INVALID_ARGUMENT, /is missing/],
  ];
  for (const [request, code, message] of cases) {
    const refused = await modelInfer(client, token, request);
    assert.equal(refused.code, code, `${JSON.stringify(request).slice(0, 200)}: ${refused.details}`);
    assert.match(refused.details!, message);
  }

  closed = true;
  await server.close();
  const grpcRows = logged.filter((row) => row.protocol === 'v2-grpc');
  const mine = grpcRows.filter((row) => row.status === undefined);
  assert.equal(mine.length, 3 * rows.length, 'each row of each answered inference is logged once');
  // A request refused once routed to a version is one failure row with its status; one naming no such version is not logged.
  const failed = grpcRows.filter((row) => row.status !== undefined);
  assert.deepEqual(failed.map((row) => [row.status, row.errorCode]), Array.from({ length: 5 }, () => [400, 'INVALID_ARGUMENT']));
  assert.deepEqual([...new Set(mine.map((row) => row.requestId))].sort(), [report.all_id, 'grpc-named', 'typed'].sort(), 'the log keeps the ids the client saw');
  assert.ok(String(report.all_id).length > 0, 'a request without an id gets one');
});
