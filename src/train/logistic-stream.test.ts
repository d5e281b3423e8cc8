import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { readCheckpoint, writeCheckpoint } from '../core/checkpoint-files.js';
import { LoomError } from '../core/errors.js';
import { makeTempDir } from '../../test/support/flights.js';
import { FEATURES_FILE, LABELS_FILE } from '../transform/apply.js';
import { TRANSFORMED_META_FILE } from '../transform/component.js';
import { exportLogisticRegression } from './export.js';
import {
  countClasses,
  initialState,
  parseLogisticOptions,
  trainChunk,
  predictLogisticRegression,
  trainLogisticRegression,
  type LogisticRegressionOptions,
} from './logistic-regression.js';
import { linearStateFromJson, scoreStreamed, streamLogisticRegression } from './logistic-stream.js';
import { readTransformedChunks } from './transformed-data.js';
import { readWarmStart } from './warm-start.js';

/** Three classes from the argmax of three linear scores over 2 informative columns, plus `noise` columns of noise. */
function threeClasses(rows: number, noise: number, seed = 1): { features: Float32Array; labels: Float32Array; width: number } {
  const width = 2 + noise;
  const features = new Float32Array(rows * width);
  const labels = new Float32Array(rows);
  let state = seed;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647) * 2 - 1;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < width; j++) features[i * width + j] = random();
    const [a, b] = [features[i * width], features[i * width + 1]];
    const scores = [2 * a, -a + 1.7 * b, -a - 1.7 * b];
    labels[i] = scores.indexOf(Math.max(...scores));
  }
  return { features, labels, width };
}

function accuracy(probabilities: Float64Array, labels: Float32Array, classes: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(probabilities.subarray(i * classes, (i + 1) * classes));
    if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** Writes a TransformedExamples layout (meta.json, train/features.f32, train/labels.f32). */
async function writeSplit(dir: string, data: { features: Float32Array; labels: Float32Array; width: number }): Promise<void> {
  await mkdir(join(dir, 'train'), { recursive: true });
  await writeFile(join(dir, TRANSFORMED_META_FILE), JSON.stringify({ width: data.width, featureNames: Array.from({ length: data.width }, (_, j) => `x${j}`) }));
  await writeFile(join(dir, 'train', FEATURES_FILE), data.features);
  await writeFile(join(dir, 'train', LABELS_FILE), data.labels);
}

async function stream(dir: string, width: number, raw: LogisticRegressionOptions, chunkRows: number, resumeFrom?: ReturnType<typeof linearStateFromJson>, stopAfter?: number) {
  const options = parseLogisticOptions(raw);
  let counts: Float64Array<ArrayBuffer> | undefined;
  for await (const chunk of readTransformedChunks(dir, 'train', chunkRows)) counts = countClasses(chunk.labels, options, counts);
  const epochs = streamLogisticRegression(() => readTransformedChunks(dir, 'train', chunkRows), width, options, { classCounts: counts!, resumeFrom });
  for (;;) {
    const next = await epochs.next();
    if (next.done) return { model: next.value, state: undefined };
    if (stopAfter !== undefined && next.value.epochsDone === stopAfter) return { model: undefined, state: next.value };
  }
}

test('multiclass: softmax over three classes learns the rule, probabilities sum to 1, and the ONNX export gives the same', async () => {
  const train = threeClasses(6000, 2);
  const held = threeClasses(2000, 2, 99);
  const options = { objective: 'multiclass' as const, numClasses: 3, epochs: 20, learningRate: 0.05, seed: 3 };
  const model = trainLogisticRegression(train.features, train.labels, train.width, options);
  assert.equal(model.outputs, 3);
  assert.equal(model.weights.length, train.width * 3);
  const probabilities = predictLogisticRegression(model, held.features);
  for (let i = 0; i < 50; i++) assert.ok(Math.abs(probabilities[3 * i] + probabilities[3 * i + 1] + probabilities[3 * i + 2] - 1) < 1e-12);
  const heldAccuracy = accuracy(probabilities, held.labels, 3);
  assert.ok(heldAccuracy > 0.93, `held-out accuracy ${heldAccuracy}`);
  assert.deepEqual(trainLogisticRegression(train.features, train.labels, train.width, options).weights, model.weights, 'a seed fixes the weights');

  const session = await ort.InferenceSession.create(exportLogisticRegression(model));
  const out = await session.run({ features: new ort.Tensor('float32', held.features.subarray(0, 100 * held.width), [100, held.width]) });
  await session.release();
  assert.deepEqual(out.probability!.dims, [100, 3]);
  (out.probability!.data as Float32Array).forEach((p, i) => assert.ok(Math.abs(p - probabilities[i]) < 1e-5, `value ${i}: ${p} vs ${probabilities[i]}`));

  const invalid = (error: unknown) => error instanceof LoomError && error.field === 'labels';
  assert.throws(() => trainLogisticRegression(train.features, train.labels, train.width, { ...options, numClasses: undefined }), /numClasses/);
  assert.throws(() => trainLogisticRegression(train.features, train.labels, train.width, { epochs: 1 }), invalid, 'class 2 is not a binary label');
});

test('L1 sets the weights of noise columns to exactly 0 and keeps the informative ones; L2 alone zeroes none', () => {
  const data = threeClasses(6000, 8);
  const base = { objective: 'multiclass' as const, numClasses: 3, epochs: 15, learningRate: 0.05, seed: 5 };
  const sparse = trainLogisticRegression(data.features, data.labels, data.width, { ...base, l1: 0.02 });
  const dense = trainLogisticRegression(data.features, data.labels, data.width, { ...base, l1: 0 });
  const row = (model: { weights: Float64Array }, j: number) => Array.from(model.weights.subarray(j * 3, j * 3 + 3));
  const noiseZeros = (model: { weights: Float64Array }) => Array.from({ length: 8 }, (_, n) => row(model, n + 2)).flat().filter((w) => w === 0).length;
  assert.ok(noiseZeros(sparse) >= 20, `${noiseZeros(sparse)} of 24 noise weights are exactly 0 with L1`);
  assert.equal(noiseZeros(dense), 0);
  for (const j of [0, 1]) assert.ok(row(sparse, j).some((w) => Math.abs(w) > 0.5), `informative column ${j} keeps its weight: ${row(sparse, j)}`);
  assert.ok(!sparse.weights.some((w) => Object.is(w, -0)), 'no -0 weights (JSON checkpoints would lose the sign)');
});

test('streamed from disk: one chunk equals the in-memory trainer bit for bit; small chunks learn as well; a resumed run ends bit-identical', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const data = threeClasses(5000, 3);
  await writeSplit(dir, data);
  const options = { objective: 'multiclass' as const, numClasses: 3, epochs: 6, learningRate: 0.05, l1: 0.001, seed: 9, batchSize: 128 };

  const inMemory = trainLogisticRegression(data.features, data.labels, data.width, options);
  const whole = (await stream(dir, data.width, options, 1_000_000)).model!;
  assert.deepEqual(whole.weights, inMemory.weights);
  assert.deepEqual(whole.bias, inMemory.bias);

  const chunked = (await stream(dir, data.width, options, 700)).model!;
  assert.notDeepEqual(chunked.weights, whole.weights, 'chunks are shuffled within themselves, not across');
  const scored = await scoreStreamed(chunked, () => readTransformedChunks(dir, 'train', 700));
  assert.equal(scored.rows, 5000);
  assert.ok(scored.accuracy > 0.93, `accuracy ${scored.accuracy}`);

  // Stopped after epoch 3, checkpointed through the JSON files, continued: the same weights.
  const { state } = await stream(dir, data.width, options, 700, undefined, 3);
  await writeCheckpoint(join(dir, 'ckpt'), state);
  const resumed = (await stream(dir, data.width, options, 700, linearStateFromJson(await readCheckpoint(join(dir, 'ckpt'))))).model!;
  assert.deepEqual(resumed.weights, chunked.weights);
  assert.deepEqual(resumed.bias, chunked.bias);
  assert.deepEqual(resumed.lossPerEpoch, chunked.lossPerEpoch);
});

test('a warm start reads an exported model back by feature name: known columns keep their weights, new ones start at 0', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = join(dir, 'model.onnx');
  await writeFile(path, exportLogisticRegression({ weights: [0.5, -1.25, 2], bias: 0.75 }, { featureNames: ['a', 'b', 'c'] }));
  const warm = await readWarmStart(path, ['c', 'new', 'a'], 1);
  assert.deepEqual(Array.from(warm.weights), [2, 0, 0.5]);
  assert.deepEqual(Array.from(warm.bias), [0.75]);
  assert.equal(warm.matchedColumns, 2);
  await assert.rejects(readWarmStart(path, ['a'], 3), /1 output/);
});

test('a warm start keeps its weights under L1: one batch touching few columns does not wipe the others', () => {
  // 200 one-hot columns, all with a learned weight; one batch of 64 rows touches 64 of them.
  const width = 200;
  const rows = 64;
  const features = new Float32Array(rows * width);
  const labels = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    features[i * width + i] = 1;
    labels[i] = i % 2;
  }
  const options = parseLogisticOptions({ epochs: 1, batchSize: rows, learningRate: 0.01, l1: 1e-4, l2: 0, seed: 1 });
  const state = initialState(width, options, [rows / 2, rows / 2], { weights: new Float64Array(width).fill(1.3), bias: [0] });
  trainChunk(state, { features, labels, width }, options, 0, 0);
  const zeros = Array.from(state.weights).filter((w) => w === 0).length;
  assert.equal(zeros, 0, `${zeros} of ${width} warm weights became exactly 0 after one batch`);
  const untouched = Array.from(state.weights.subarray(rows));
  assert.ok(untouched.every((w) => w === 1.3), 'columns the batch had no data for keep their weight');
});

test('a NaN in the streamed training data (a missing value with no imputer) is refused, naming the row and column', async () => {
  const width = 3;
  const features = Float32Array.from([0, 1, 2, 1, 0, 2, 2, Number.NaN, 0, 1, 1, 1]);
  const labels = Float32Array.from([0, 1, 0, 1]);
  const source = async function* () {
    yield { features: features.subarray(0, 6), labels: labels.subarray(0, 2), width, firstRow: 0 };
    yield { features: features.subarray(6), labels: labels.subarray(2), width, firstRow: 2 };
  };
  const options = parseLogisticOptions({ epochs: 1, batchSize: 2 });
  const epochs = streamLogisticRegression(source, width, options, { classCounts: [2, 2] });
  await assert.rejects(
    async () => {
      for await (const _ of epochs) void _;
    },
    (error: unknown) => error instanceof LoomError && error.field === 'features' && /row 2, column 1 is NaN/.test(error.message) && /imput/.test(error.fix ?? ''),
  );
});
