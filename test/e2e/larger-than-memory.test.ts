/**
 * A training split larger than the training process's memory trains: the train step's
 * logistic regression streams `features.f32` from disk a chunk at a time, so the child
 * process's peak resident memory (VmHWM from /proc) stays a fraction of the file's size,
 * and the model it writes has learned the rule in the data.
 */
import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { makeTempDir } from '../support/flights.js';
import { FEATURES_FILE } from '../../src/transform/apply.js';
import { block, CHUNK_ROWS, runTrainChild, WIDTH, writeTransformed } from './support/linear-data.js';

test('logistic regression trains on a split several times larger than the peak memory of the process training it', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const data = await writeTransformed(join(dir, 'transformed'), 128);
  const featureBytes = (await stat(join(data, 'train', FEATURES_FILE))).size;
  assert.equal(featureBytes, 128 * CHUNK_ROWS * WIDTH * 4);

  const modelDir = join(dir, 'model');
  await mkdir(modelDir);
  const parameters = { algorithm: 'logistic_regression', epochs: 1, learningRate: 0.05, batchSize: 512, chunkRows: CHUNK_ROWS, seed: 3 };
  const { beforeBytes, peakBytes, model } = await runTrainChild(data, modelDir, parameters);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const report = `features.f32 ${mib(featureBytes)}; the training process held ${mib(beforeBytes)} before training and peaked at ${mib(peakBytes)}`;
  t.diagnostic(report);
  assert.ok(beforeBytes > 0 && peakBytes >= beforeBytes, report);
  // The whole process (Node, modules and all) stays well under the data, and training adds a fraction of it:
  // two 8 MiB chunks in use plus garbage the collector has not reclaimed yet (~100 MiB whether the file
  // is 256 MiB or 2 GiB: it does not grow with the data).
  assert.ok(peakBytes < featureBytes / 3, report);
  assert.ok(peakBytes - beforeBytes < featureBytes / 5, report);
  assert.equal(model.training.chunkRows, CHUNK_ROWS);

  // The model learned the rule: accuracy on a fresh block, scored by the exported ONNX model.
  const fresh = block(12_345);
  const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'));
  const out = await session.run({ features: new ort.Tensor('float32', fresh.features, [CHUNK_ROWS, WIDTH]) });
  await session.release();
  const probabilities = out.probability!.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < CHUNK_ROWS; i++) if ((probabilities[i]! >= 0.5 ? 1 : 0) === fresh.labels[i]) correct++;
  assert.ok(correct / CHUNK_ROWS > 0.97, `accuracy ${correct / CHUNK_ROWS}`);
});
