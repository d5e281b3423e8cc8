import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { accuracy, aucRoc, binaryMetrics, logLoss, positiveRate } from './metrics.js';

const f32 = (values: number[]): Float32Array => Float32Array.from(values);

/** The definition itself: over every positive/negative pair, 1 if ordered right, 1/2 on a tie. */
function pairwiseAuc(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < predictions.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < predictions.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (predictions[i] > predictions[j]) wins += 1;
      else if (predictions[i] === predictions[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('AUC of hand-computed cases', () => {
  assert.equal(aucRoc(f32([0.1, 0.4, 0.35, 0.8]), f32([0, 0, 1, 1])), 0.75);
  assert.equal(aucRoc(f32([0.1, 0.2, 0.8, 0.9]), f32([0, 0, 1, 1])), 1);
  assert.equal(aucRoc(f32([0.9, 0.8, 0.2, 0.1]), f32([0, 0, 1, 1])), 0);
  // Every score tied: every pair is half a win.
  assert.equal(aucRoc(f32([0.5, 0.5, 0.5, 0.5]), f32([0, 1, 0, 1])), 0.5);
  // One tied pair (0.5, 0.5) across classes among 2x2 pairs: (1 + 1 + 0.5 + 1) / 4.
  assert.equal(aucRoc(f32([0.2, 0.5, 0.5, 0.9]), f32([0, 0, 1, 1])), 0.875);
});

test('AUC is NaN with a single class', () => {
  assert.ok(Number.isNaN(aucRoc(f32([0.1, 0.9]), f32([1, 1]))));
  assert.ok(Number.isNaN(aucRoc(f32([0.1, 0.9]), f32([0, 0]))));
});

test('AUC equals brute-force pairwise AUC on random points, with and without ties', () => {
  const random = lcg(42);
  for (const levels of [0, 10, 3]) {
    const n = 400;
    const predictions = new Float32Array(n);
    const labels = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // With `levels`, scores are quantised so many ties cross the classes.
      const score = random();
      predictions[i] = levels ? Math.floor(score * levels) / levels : score;
      labels[i] = random() < 0.3 + 0.4 * score ? 1 : 0;
    }
    const expected = pairwiseAuc(predictions, labels);
    assert.ok(Math.abs(aucRoc(predictions, labels) - expected) < 1e-12, `levels ${levels}`);
  }
});

test('log loss matches the formula and clips at 1e-15', () => {
  const expected = -(Math.log(0.8) + Math.log(1 - 0.3) + Math.log(0.6)) / 3;
  const actual = logLoss(Float64Array.from([0.8, 0.3, 0.6]), Float64Array.from([1, 0, 1]));
  assert.ok(Math.abs(actual - expected) < 1e-15);
  // A certain mistake costs -ln(1e-15), not infinity.
  assert.ok(Math.abs(logLoss(f32([0]), f32([1])) + Math.log(1e-15)) < 1e-9);
  assert.ok(Math.abs(logLoss(f32([1]), f32([0])) - -Math.log(1 - (1 - 1e-15))) < 1e-6);
  assert.ok(Number.isFinite(logLoss(f32([1]), f32([0]))));
});

test('accuracy at 0.5 counts 0.5 as positive; positive rate', () => {
  assert.equal(accuracy(f32([0.5, 0.49, 0.9, 0.1]), f32([1, 0, 0, 0])), 0.75);
  assert.equal(positiveRate(f32([1, 0, 0, 1, 1])), 0.6);
});

test('binaryMetrics gathers every metric and rejects non-binary labels', () => {
  const metrics = binaryMetrics(f32([0.1, 0.4, 0.35, 0.8]), f32([0, 0, 1, 1]));
  assert.equal(metrics.auc, 0.75);
  assert.equal(metrics.accuracy, 0.75);
  assert.equal(metrics.positive_rate, 0.5);
  assert.equal(metrics.row_count, 4);
  assert.ok(Math.abs(metrics.mean_prediction - 0.4125) < 1e-7);
  assert.throws(
    () => binaryMetrics(f32([0.1, 0.2]), f32([0, 2])),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && /row 1/.test(error.message),
  );
  assert.throws(() => binaryMetrics(f32([0.1]), f32([0, 1])), (error: unknown) => error instanceof LoomError);
});
