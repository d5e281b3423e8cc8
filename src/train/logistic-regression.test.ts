import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { fitTransform } from '../transform/analyzers.js';
import { applyTransform, FEATURES_FILE, LABELS_FILE } from '../transform/apply.js';
import { buildTransformGraph } from '../transform/graph.js';
import { aucRoc } from '../evaluate/binary-metrics.js';
import { hasConverged, predictLogisticRegression, trainLogisticRegression } from './logistic-regression.js';

interface Split {
  features: Float32Array;
  labels: Float32Array;
}

/** January flights, label delay > 15, features derived in SQL and transformed by the transform graph. */
async function flightsMatrices(dir: string, every = 25): Promise<{ train: Split; eval: Split; width: number }> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every });
  const derived = `SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination, delay > 15 AS delayed,
                          row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)})`;
  const paths = { train: join(dir, 'train.parquet'), eval: join(dir, 'eval.parquet') };
  await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT * EXCLUDE (rn) FROM (${derived}) WHERE rn % 5 <> 0) TO ${sqlString(paths.train)} (FORMAT PARQUET)`);
    await db.run(`COPY (SELECT * EXCLUDE (rn) FROM (${derived}) WHERE rn % 5 = 0) TO ${sqlString(paths.eval)} (FORMAT PARQUET)`);
  });
  const fitted = await fitTransform(paths.train, { labelColumn: 'delayed', topK: 50 });
  const graphPath = join(dir, 'transform.onnx');
  await writeFile(graphPath, buildTransformGraph(fitted));
  const read = async (split: 'train' | 'eval'): Promise<Split> => {
    const splitDir = join(dir, split);
    await applyTransform({ graphPath, parquetPath: paths[split], splitDir, labelColumn: 'delayed' });
    const f32 = async (file: string) => new Float32Array((await readFile(join(splitDir, file))).buffer.slice(0));
    return { features: await f32(FEATURES_FILE), labels: await f32(LABELS_FILE) };
  };
  return { train: await read('train'), eval: await read('eval'), width: fitted.outputWidth };
}

function logLoss(probabilities: ArrayLike<number>, labels: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(probabilities[i], 1e-12), 1 - 1e-12);
    sum -= labels[i] * Math.log(p) + (1 - labels[i]) * Math.log(1 - p);
  }
  return sum / labels.length;
}

test('on real flights it beats the base rate on held-out rows, its loss falls, and a seed fixes the weights', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { train, eval: held, width } = await flightsMatrices(dir);
  const options = { epochs: 4, learningRate: 0.01, l2: 1e-4, batchSize: 512, seed: 7 };
  const epochs: number[] = [];
  const model = trainLogisticRegression(train.features, train.labels, width, { ...options, onEpoch: (epoch) => epochs.push(epoch) });
  assert.deepEqual(epochs, [0, 1, 2, 3]);
  assert.equal(model.lossPerEpoch.length, 4);
  assert.ok(model.lossPerEpoch[3] < model.lossPerEpoch[0], `loss ${model.lossPerEpoch.join(' -> ')}`);

  const baseRate = train.labels.reduce((a, b) => a + b, 0) / train.labels.length;
  const baseline = logLoss(new Float64Array(held.labels.length).fill(baseRate), held.labels);
  const heldLoss = logLoss(predictLogisticRegression(model, held.features), held.labels);
  assert.ok(heldLoss < baseline - 0.005, `held-out log loss ${heldLoss} vs base rate ${baseline}`);

  const again = trainLogisticRegression(train.features, train.labels, width, options);
  assert.deepEqual(again.weights, model.weights);
  assert.deepEqual(again.bias, model.bias);
  assert.deepEqual(again.lossPerEpoch, model.lossPerEpoch);
  const otherSeed = trainLogisticRegression(train.features, train.labels, width, { ...options, seed: 8 });
  assert.notDeepEqual(otherSeed.weights, model.weights);
});

test('learns a known linear rule on synthetic data', () => {
  // y = 1 when 2a - b > 0.
  const rows = 4000;
  const features = new Float32Array(rows * 2);
  const labels = new Float32Array(rows);
  let state = 1;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647) * 2 - 1;
  for (let i = 0; i < rows; i++) {
    features[2 * i] = random();
    features[2 * i + 1] = random();
    labels[i] = 2 * features[2 * i] - features[2 * i + 1] > 0 ? 1 : 0;
  }
  const model = trainLogisticRegression(features, labels, 2, { epochs: 30, learningRate: 0.05, l2: 0 });
  assert.ok(model.weights[0] > 0 && model.weights[1] < 0);
  assert.ok(Math.abs(model.weights[0] / model.weights[1] + 2) < 0.3, `ratio ${model.weights[0] / model.weights[1]}`);
});

test('labels that are not 0/1 and inconsistent shapes are INVALID_ARGUMENT', () => {
  const invalid = (field: string) => (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.field === field;
  assert.throws(() => trainLogisticRegression(new Float32Array(4), new Float32Array([0, NaN]), 2), invalid('labels'));
  assert.throws(() => trainLogisticRegression(new Float32Array(4), new Float32Array([0, 2]), 2), invalid('labels'));
  assert.throws(() => trainLogisticRegression(new Float32Array(5), new Float32Array([0, 1]), 2), invalid('features'));
  assert.throws(() => trainLogisticRegression(new Float32Array(4), new Float32Array([0, 1]), 2, { epochs: 0 }), invalid('epochs'));
});

test('by default it trains until the loss converges, not for a fixed 5 epochs that leave it underfit', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // About a thousand training rows: one Adam step per epoch, so 5 epochs barely move the weights.
  const { train, eval: held, width } = await flightsMatrices(dir, 400);
  const auc = (model: ReturnType<typeof trainLogisticRegression>) => aucRoc(predictLogisticRegression(model, held.features), held.labels);
  const five = trainLogisticRegression(train.features, train.labels, width, { epochs: 5, seed: 7 });
  const model = trainLogisticRegression(train.features, train.labels, width, { seed: 7 });
  const epochs = model.lossPerEpoch.length;
  assert.ok(epochs > 5 && epochs <= 100, `${epochs} epochs`);
  assert.ok(hasConverged(model.lossPerEpoch, { tol: 1e-4, nIterNoChange: 5 }) || epochs === 100, 'it stops on convergence or at the bound');
  assert.ok(!hasConverged(model.lossPerEpoch.slice(0, -1), { tol: 1e-4, nIterNoChange: 5 }), 'and not before');
  assert.ok(auc(model) > auc(five) + 0.02, `AUC ${auc(model)} by default vs ${auc(five)} after 5 epochs`);
  assert.deepEqual(trainLogisticRegression(train.features, train.labels, width, { seed: 7 }).weights, model.weights, 'deterministic for a seed');
});

test('convergence: nIterNoChange epochs in a row without improving the best loss by more than tol', () => {
  const options = { tol: 0.01, nIterNoChange: 2 };
  assert.equal(hasConverged([1, 0.5, 0.495, 0.494], options), true);
  assert.equal(hasConverged([1, 0.5, 0.495, 0.48], options), false, 'an improvement resets the count');
  assert.equal(hasConverged([1, 0.5, 0.6, 0.499], options), true, 'a worse epoch counts as no improvement');
  assert.equal(hasConverged([1, 0.5, 0.5, 0.5], { tol: 0, nIterNoChange: 2 }), false, 'tol 0 runs every epoch');
  assert.equal(hasConverged([], options), false);
});
