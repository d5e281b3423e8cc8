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

test('a multiclass model (one weight column per class) exports as Softmax over [N, classes]', async () => {
  // weights [width 2, classes 3], row-major.
  const model = { weights: [1, 0, -1, 0.5, 2, -0.25], bias: [0.1, -0.2, 0.3] };
  const bytes = exportLogisticRegression(model);
  assert.deepEqual(readSignature(bytes).outputs, [{ name: 'probability', type: 'float32', shape: [-1, 3] }]);
  const features = [0.5, 1, -2, 3];
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ features: new ort.Tensor('float32', new Float32Array(features), [2, 2]) });
  await session.release();
  assert.deepEqual(out.probability.dims, [2, 3]);
  const probabilities = out.probability.data as Float32Array;
  for (let row = 0; row < 2; row++) {
    const x = features.slice(row * 2, row * 2 + 2).map(Math.fround);
    const logits = [0, 1, 2].map((k) => x[0]! * model.weights[k]! + x[1]! * model.weights[3 + k]! + model.bias[k]!);
    const total = logits.reduce((sum, logit) => sum + Math.exp(logit), 0);
    logits.forEach((logit, k) => {
      const p = probabilities[row * 3 + k]!;
      assert.ok(Math.abs(p - Math.exp(logit) / total) < 1e-6, `row ${row} class ${k}: ${p}`);
    });
  }
});

test('two outputs, or weights that are not [width, outputs], are INVALID_ARGUMENT', () => {
  const invalid = (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT';
  assert.throws(() => exportLogisticRegression({ weights: [1, 2, 3, 4], bias: [0, 0] }), invalid);
  assert.throws(() => exportLogisticRegression({ weights: [1, 2, 3, 4], bias: [0, 0, 0] }), invalid);
  assert.throws(() => exportLogisticRegression({ weights: [], bias: 0 }), invalid);
});

test('feature names that do not match the weights are INVALID_ARGUMENT', () => {
  assert.throws(
    () => exportLogisticRegression({ weights: [1, 2], bias: 0 }, { featureNames: ['a'] }),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT',
  );
});
