// The real Triton HTTP client (tritonclient.http) against a real Loom model server on a
// socket: health, metadata, and inference with JSON and binary tensors (BYTES and numeric)
// in and out. The answers must equal what the model's ONNX file gives run directly.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startModelServer } from '../src/serve/server.js';
import { makeTempDir } from './support/flights.js';
import { runProcess } from './support/cli.js';
import { testPython } from './support/python.js';
import { buildServingRegistry, directProbabilities } from './support/serving-registry.js';

const SCRIPT = fileURLToPath(new URL('./python/tritonclient_v2.py', import.meta.url));
const python = testPython();

test('tritonclient.http checks health and metadata and infers with JSON and binary tensors', { skip: python ? false : 'LOOM_TEST_PYTHON is not set' }, async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const reg = await buildServingRegistry(dir);
  t.after(() => reg.close());
  const rows = reg.rows.slice(0, 6);
  const expected = await directProbabilities(reg, rows);
  const server = await startModelServer({ port: 0, models: ['flights@champion'], registry: reg.db.registry, artifacts: reg.artifacts, watchIntervalMs: 0 });
  t.after(() => server.close());

  const request = join(dir, 'triton-request.json');
  await writeFile(request, JSON.stringify({ model: 'flights', rows, output: 'probability' }));
  const result = await runProcess(python!, [SCRIPT, server.url.replace(/^http:\/\//, ''), request], {
    env: { ...process.env, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
  });
  assert.equal(result.code, 0, `the tritonclient script failed:\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(report.live, true);
  assert.equal(report.ready, true);
  assert.equal(report.model_ready, true);
  assert.deepEqual(report.extensions, ['binary_tensor_data']);
  const datatypes = report.inputs as [string, string][];
  assert.ok(datatypes.some(([, type]) => type === 'BYTES') && datatypes.some(([, type]) => type !== 'BYTES'), `BYTES and numeric inputs: ${JSON.stringify(datatypes)}`);
  for (const key of ['json_in_json_out', 'json_in_binary_out', 'binary_in_json_out', 'binary_in_binary_out', 'default']) {
    const actual = report[key] as number[];
    assert.equal(actual.length, expected.length, key);
    // Binary outputs carry the float32 bits exactly; JSON ones go through a decimal print.
    actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) < 1e-6, `${key} row ${i}: ${value} vs ${expected[i]}`));
  }
  assert.equal(report.binary_in_binary_out_id, 'triton-True-True');
  const refused = report.refused as { status: string; message: string };
  assert.match(refused.message, /datatype/);
  assert.equal(refused.status, '400');
});
