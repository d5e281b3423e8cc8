import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.js';
import { ascendingOrder, aucRoc, confusionAt, rates } from '../evaluate/binary-metrics.js';
import { calibrate, calibrateAscending, fitIsotonic } from './calibration.js';
import { expectedCalibrationError, needsCalibration } from './calibration-check.js';
import { estimateQuality, fitCbpe } from './cbpe.js';

/** Rows whose label is 1 with probability `truth(score)`: a model whose scores mean `truth`. */
function sample(rows: number, seed: number, truth: (score: number) => number, skew = 1): { scores: Float64Array; labels: Float64Array } {
  const random = mulberry32(seed);
  const scores = new Float64Array(rows);
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    scores[i] = Math.round(random() ** skew * 1000) / 1000;
    labels[i] = random() < truth(scores[i]!) ? 1 : 0;
  }
  return { scores, labels };
}

test('the isotonic map pools violators, interpolates between fitted scores and clips outside them', () => {
  const map = fitIsotonic([0.1, 0.3, 0.2, 0.4, 0.4], [0, 0, 1, 1, 0]);
  // 0.2 -> 1 and 0.3 -> 0 violate the order and pool to 0.5; the two rows at 0.4 average to 0.5 too.
  assert.deepEqual(map, { scores: [0.1, 0.2, 0.3, 0.4], probabilities: [0, 0.5, 0.5, 0.5] });
  const steep = fitIsotonic([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]);
  assert.deepEqual([...calibrate(steep, [0, 0.1, 0.25, 0.3, 0.9])], [0, 0, 0.5, 1, 1]);
});

test('calibration is judged needed for distorted scores, and not for a perfect ranking or one class', () => {
  const distorted = sample(20_000, 2, (s) => s ** 3);
  assert.equal(needsCalibration(distorted.scores, distorted.labels), true);
  assert.equal(needsCalibration([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9].concat(new Array(20).fill(0.95)), [0, 0, 0, 0, 1, 1, 1, 1].concat(new Array(20).fill(1))), false);
  assert.equal(needsCalibration(distorted.scores, new Float64Array(distorted.scores.length)), false);
  const map = fitIsotonic(distorted.scores, distorted.labels);
  assert.ok(expectedCalibrationError(calibrate(map, distorted.scores), distorted.labels) < expectedCalibrationError(distorted.scores, distorted.labels) / 5);
});

test('the estimate of a window drawn like the reference matches its measured quality', () => {
  const truth = (s: number) => s ** 2;
  const reference = sample(20_000, 3, truth);
  const estimator = fitCbpe(reference.scores, reference.labels);
  assert.ok(estimator.calibration, 'the distorted scores are calibrated');
  // A shifted window: more high scores than the reference (covariate shift, same score meaning).
  const window = sample(20_000, 4, truth, 0.5);
  const estimate = estimateQuality(estimator, window.scores);
  const measured = { auc: aucRoc(window.scores, window.labels), ...rates(confusionAt(window.scores, window.labels, 0.5)) };
  assert.equal(estimate.rows, 20_000);
  for (const metric of ['auc', 'accuracy', 'precision', 'recall', 'f1'] as const) {
    // Sampling error of the measured figure on 20k rows is well under 0.02.
    assert.ok(Math.abs(estimate[metric] - measured[metric]) < 0.02, `${metric}: estimated ${estimate[metric]}, measured ${measured[metric]}`);
  }
  // Without calibration the estimate would believe the distorted scores, and be far off.
  const naive = estimateQuality(fitCbpe(reference.scores, reference.labels, { calibration: 'never' }), window.scores);
  assert.ok(Math.abs(naive.accuracy - measured.accuracy) > 0.05);
});

test('tied scores form one step of the estimated curve, so their order does not matter', () => {
  const estimator = fitCbpe([0.2, 0.8], [0, 1], { calibration: 'never' });
  const a = estimateQuality(estimator, [0.5, 0.5, 0.9, 0.1]);
  const b = estimateQuality(estimator, [0.9, 0.5, 0.1, 0.5]);
  assert.equal(a.auc, b.auc);
  // By hand: 2 expected positives and 2 negatives; the steps are the row at 0.9, the two at 0.5
  // together, then 0.1, giving the points (fp/2, tp/2) below.
  const points = [
    [0, 0],
    [0.05, 0.45],
    [0.55, 0.95],
    [1, 1],
  ];
  let area = 0;
  for (let k = 1; k < points.length; k++) area += ((points[k]![0]! - points[k - 1]![0]!) * (points[k]![1]! + points[k - 1]![1]!)) / 2;
  assert.ok(Math.abs(a.auc - area) < 1e-12);
  assert.equal(a.accuracy, (0.9 + 0.5 + 0.5 + 0.9) / 4);
});

test('an empty window has no estimate, and a non-binary reference is refused', () => {
  const estimator = fitCbpe([0.2, 0.8], [0, 1], { calibration: 'never' });
  const empty = estimateQuality(estimator, []);
  assert.equal(empty.rows, 0);
  assert.ok(Number.isNaN(empty.accuracy) && Number.isNaN(empty.auc));
  assert.throws(() => fitCbpe([0.1, 0.2], [0, 2]), { code: 'INVALID_ARGUMENT' });
});

test("the calibration check and the map give the same answers from the caller's one sort as from their own", () => {
  for (const [seed, truth] of [[5, (s: number) => s ** 3], [6, (s: number) => s], [7, (s: number) => Math.sqrt(s)]] as const) {
    const { scores, labels } = sample(5_000, seed, truth);
    const order = ascendingOrder(scores);
    assert.equal(needsCalibration(scores, labels, 10, 10, order), needsCalibration(Array.from(scores), Array.from(labels)));
    assert.deepEqual(fitIsotonic(scores, labels, order), fitIsotonic(Array.from(scores), Array.from(labels)));
  }
});

test('calibrating ascending scores in one walk gives what a search per score gives, on the fitted points, between and outside them', () => {
  const { scores, labels } = sample(20_000, 8, (s) => s ** 2);
  const map = fitIsotonic(scores, labels);
  const random = mulberry32(9);
  const values = [...Array.from({ length: 5_000 }, () => random() * 1.2 - 0.1), ...map.scores, map.scores[0]! - 1, map.scores.at(-1)! + 1, Number.NaN];
  const live = Float64Array.from(values).sort();
  const walked = calibrateAscending(map, live);
  const searched = calibrate(map, live);
  assert.deepEqual([...walked.subarray(0, -1)], [...searched.subarray(0, -1)]);
  assert.ok(Number.isNaN(walked.at(-1)!), 'a NaN score has no calibrated probability');
  assert.ok(walked.some((p, i) => p !== walked[0] && i < walked.length - 1), 'the scores span the map, so the check is not vacuous');
});

test("the window's estimate depends on its scores, not on their order", () => {
  const reference = sample(20_000, 10, (s) => s ** 2);
  const estimator = fitCbpe(reference.scores, reference.labels, { calibration: 'always' });
  const window = sample(10_000, 11, (s) => s).scores;
  const reversed = window.slice().reverse();
  assert.deepEqual(estimateQuality(estimator, reversed), estimateQuality(estimator, window));
});
