import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { readMetadata, readSignature } from '../onnx/inspect.js';
import { exportLogisticRegression, METADATA_FEATURE_NAMES } from './export.js';
import { predictLogisticRegression } from './logistic-regression.js';

test('the exported graph gives the trainer probabilities for features [N, width]', async () => {
  const model = { weights: new Float64Array([0.5, -1.25, 2, 0.01]), bias: -0.3 };
  const bytes = exportLogisticRegression(model, { featureNames: ['a', 'b', 'c', 'd'], metadata: { 'loom.extra': 'x' } });
  assert.deepEqual(readSignature(bytes), {
    inputs: [{ name: 'features', type: 'float32', shape: [-1, 4] }],
    outputs: [{ name: 'probability', type: 'float32', shape: [-1, 1] }],
  });
  const metadata = readMetadata(bytes);
  assert.deepEqual(JSON.parse(metadata[METADATA_FEATURE_NAMES]), ['a', 'b', 'c', 'd']);
  assert.equal(metadata['loom.algorithm'], 'logistic_regression');
  assert.equal(metadata['loom.extra'], 'x');

  const features = new Float32Array([1, 0, 0, 0, 0, 1, 0.5, 100, -3, 2, 1, 0]);
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ features: new ort.Tensor('float32', features, [3, 4]) });
  await session.release();
  assert.deepEqual(out.probability.dims, [3, 1]);
  const expected = predictLogisticRegression(model, features);
  (out.probability.data as Float32Array).forEach((p, i) => assert.ok(Math.abs(p - expected[i]) < 1e-6, `row ${i}: ${p} vs ${expected[i]}`));
});

test('feature names that do not match the weights are INVALID_ARGUMENT', () => {
  assert.throws(
    () => exportLogisticRegression({ weights: [1, 2], bias: 0 }, { featureNames: ['a'] }),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT',
  );
});
