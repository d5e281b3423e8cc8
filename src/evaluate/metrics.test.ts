import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { ascendingOrder, aucRoc, averagePrecision, confusionAt, descendingOrder, logLoss, rates } from './binary-metrics.js';
import { taskMetrics } from './metrics.js';
import { histogram } from './regression-metrics.js';

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

const near = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-12, `${what} ${actual} vs ${expected}`);

test('AUC of hand-computed cases', () => {
  near(aucRoc(f32([0.1, 0.4, 0.35, 0.8]), f32([0, 0, 1, 1])), 0.75);
  near(aucRoc(f32([0.1, 0.2, 0.8, 0.9]), f32([0, 0, 1, 1])), 1);
  near(aucRoc(f32([0.9, 0.8, 0.2, 0.1]), f32([0, 0, 1, 1])), 0);
  // Every score tied: every pair is half a win.
  near(aucRoc(f32([0.5, 0.5, 0.5, 0.5]), f32([0, 1, 0, 1])), 0.5);
  // One tied pair (0.5, 0.5) across classes among 2x2 pairs: (1 + 1 + 0.5 + 1) / 4.
  near(aucRoc(f32([0.2, 0.5, 0.5, 0.9]), f32([0, 0, 1, 1])), 0.875);
});

test('AUC is NaN with a single class; average precision is 0 without positives', () => {
  assert.ok(Number.isNaN(aucRoc(f32([0.1, 0.9]), f32([1, 1]))));
  assert.ok(Number.isNaN(aucRoc(f32([0.1, 0.9]), f32([0, 0]))));
  assert.equal(averagePrecision(f32([0.1, 0.9]), f32([0, 0])), 0);
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
    near(aucRoc(predictions, labels), pairwiseAuc(predictions, labels), `levels ${levels}`);
  }
});

test('average precision by hand: tied scores form one step', () => {
  // Descending: 0.9 (1), 0.5 (0), 0.5 (1), 0.1 (0). Steps: recall 0.5 at precision 1, recall 1 at precision 2/3.
  near(averagePrecision(f32([0.9, 0.5, 0.5, 0.1]), f32([1, 0, 1, 0])), 0.5 * 1 + 0.5 * (2 / 3));
});

test('log loss matches the formula and clips at machine epsilon, as sklearn does for float64', () => {
  const expected = -(Math.log(0.8) + Math.log(1 - 0.3) + Math.log(0.6)) / 3;
  near(logLoss(Float64Array.from([0.8, 0.3, 0.6]), Float64Array.from([1, 0, 1])), expected);
  // A certain mistake costs -ln(eps), not infinity.
  near(logLoss(f32([0]), f32([1])), -Math.log(Number.EPSILON));
  assert.ok(Number.isFinite(logLoss(f32([1]), f32([0]))));
});

test('decisions at the threshold count a score equal to it as positive; zero division gives 0', () => {
  const c = confusionAt(f32([0.5, 0.49, 0.9, 0.1]), f32([1, 0, 0, 0]), 0.5);
  assert.deepEqual([c.tn, c.fp, c.fn, c.tp], [2, 1, 0, 1]);
  assert.deepEqual(rates(c), { accuracy: 0.75, precision: 0.5, recall: 1, f1: 2 / 3 });
  assert.deepEqual(rates(confusionAt(f32([0.1]), f32([0]), 0.5)), { accuracy: 1, precision: 0, recall: 0, f1: 0 });
});

test('taskMetrics gathers the binary metrics and rejects non-binary labels', () => {
  const metrics = taskMetrics({ task: 'binary', scores: Float64Array.from([0.1, 0.4, 0.35, 0.8]), labels: Float64Array.from([0, 0, 1, 1]) });
  near(metrics.auc!, 0.75);
  assert.equal(metrics.accuracy, 0.75);
  assert.equal(metrics.positive_rate, 0.5);
  assert.equal(metrics.example_count, 4);
  near(metrics.mean_prediction!, 0.4125);
  assert.throws(
    () => taskMetrics({ task: 'binary', scores: Float64Array.from([0.1, 0.2]), labels: Float64Array.from([0, 2]) }),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && /row 1/.test(error.message),
  );
  assert.throws(() => aucRoc(f32([0.1]), f32([0, 1])), (error: unknown) => error instanceof LoomError);
});

test('weights act as repeated rows: weight 2 equals the row twice', () => {
  const scores = [0.2, 0.7, 0.4, 0.9, 0.3];
  const labels = [0, 1, 1, 0, 1];
  const weighted = taskMetrics({ task: 'binary', scores: Float64Array.from(scores), labels: Float64Array.from(labels), weights: Float64Array.from([1, 2, 1, 1, 2]) });
  const repeated = taskMetrics({ task: 'binary', scores: Float64Array.from([...scores, 0.7, 0.3]), labels: Float64Array.from([...labels, 1, 1]) });
  for (const name of ['auc', 'auc_pr', 'log_loss', 'accuracy', 'precision', 'recall', 'f1', 'brier_score']) near(weighted[name]!, repeated[name]!, name);
});

test('histogram bins like numpy: the last bin is closed, a constant widens to +-0.5', () => {
  assert.deepEqual(histogram([0, 1, 2, 3, 4], 4).counts, [1, 1, 1, 2]);
  assert.deepEqual(histogram([2, 2], 2), { edges: [1.5, 2, 2.5], counts: [0, 2] });
});

test('score orders equal a stable comparator sort: ties keep row order, -0 ties with 0', () => {
  let seed = 11;
  const scores = Array.from({ length: 5000 }, () => Math.round(((seed = (seed * 48271) % 2147483647) / 2147483647) * 40) / 8 - 2);
  scores[3] = -0;
  scores[7] = 0;
  const rows = scores.map((_, i) => i);
  assert.deepEqual([...ascendingOrder(scores)], [...rows].sort((a, b) => scores[a]! - scores[b]!));
  assert.deepEqual([...descendingOrder(scores)], [...rows].sort((a, b) => scores[b]! - scores[a]! || a - b));
});
