/**
 * The calibration fit from blocks of equal score against the straightforward fit it
 * replaced (kept below as the reference: each fold's rows copied and fitted row by row, the
 * held-out rows calibrated and sorted for the error): the same map and the same held-out
 * errors to the last bit, on scores with many ties, with none, with ±0 and negative
 * scores, in Float32Array, for several fold and bin counts (many bins put bin edges inside
 * blocks, where the order of the held-out rows within a block decides the error).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { mulberry32 } from '../core/random.js';
import { ascendingOrder, checkLengths, type Values } from '../evaluate/binary-metrics.js';
import { calibrateAscending, fitIsotonic, sortByScore, type IsotonicMap } from './calibration.js';
import { expectedCalibrationError, heldOutCalibrationErrors, needsCalibration } from './calibration-check.js';
import { fitCbpe } from './cbpe.js';

/** The reference isotonic fit: blocks merged one row at a time in `order`, then pool-adjacent-violators over JS arrays. */
function referenceIsotonic(scores: Values, labels: Values, order: Uint32Array = ascendingOrder(scores)): IsotonicMap {
  checkLengths(scores, labels);
  if (scores.length === 0) throw new LoomError('INVALID_ARGUMENT', 'calibration needs at least one labelled row');
  const xs: number[] = [];
  const means: number[] = [];
  const weights: number[] = [];
  for (const i of order) {
    const x = scores[i]!;
    if (!Number.isFinite(x)) throw new LoomError('INVALID_ARGUMENT', `score ${x} cannot be calibrated`);
    const last = xs.length - 1;
    if (last >= 0 && xs[last] === x) {
      means[last] = (means[last]! * weights[last]! + labels[i]!) / (weights[last]! + 1);
      weights[last]! += 1;
    } else {
      xs.push(x);
      means.push(labels[i]!);
      weights.push(1);
    }
  }
  const runValue: number[] = [];
  const runWeight: number[] = [];
  const runEnd: number[] = [];
  for (let b = 0; b < xs.length; b++) {
    let value = means[b]!;
    let weight = weights[b]!;
    while (runValue.length > 0 && runValue[runValue.length - 1]! >= value) {
      const w = runWeight.pop()!;
      value = (runValue.pop()! * w + value * weight) / (w + weight);
      weight += w;
      runEnd.pop();
    }
    runValue.push(value);
    runWeight.push(weight);
    runEnd.push(b);
  }
  const probabilities = new Array<number>(xs.length);
  let start = 0;
  for (let r = 0; r < runValue.length; r++) {
    for (let b = start; b <= runEnd[r]!; b++) probabilities[b] = runValue[r]!;
    start = runEnd[r]! + 1;
  }
  return { scores: xs, probabilities };
}

/** The reference held-out errors: every `folds`-th rank held out, the rest copied and fitted, the held-out rows calibrated, then sorted and binned. */
function referenceHeldOutErrors(scores: Values, labels: Values, folds: number, bins: number): { raw: number; calibrated: number } {
  const order = ascendingOrder(scores);
  const n = order.length;
  const sortedScores = Float64Array.from(order, (row) => scores[row]!);
  const sortedLabels = Float64Array.from(order, (row) => labels[row]!);
  const heldScores = new Float64Array(n);
  const heldLabels = new Float64Array(n);
  const heldCalibrated = new Float64Array(n);
  let held = 0;
  for (let f = 0; f < folds; f++) {
    const fitScores: number[] = [];
    const fitLabels: number[] = [];
    const start = held;
    for (let rank = 0; rank < n; rank++) {
      if (rank % folds === f) {
        heldScores[held] = sortedScores[rank]!;
        heldLabels[held++] = sortedLabels[rank]!;
      } else {
        fitScores.push(sortedScores[rank]!);
        fitLabels.push(sortedLabels[rank]!);
      }
    }
    const map = referenceIsotonic(fitScores, fitLabels, Uint32Array.from(fitScores, (_, i) => i));
    heldCalibrated.set(calibrateAscending(map, heldScores.subarray(start, held)), start);
  }
  return { raw: expectedCalibrationError(heldScores, heldLabels, bins), calibrated: expectedCalibrationError(heldCalibrated, heldLabels, bins) };
}

/** Labelled rows: scores from `score` (ties when it rounds), label 1 with probability `truth(score)`. */
function sample(rows: number, seed: number, score: (u: number) => number, truth: (s: number) => number): { scores: Float64Array; labels: Float64Array } {
  const random = mulberry32(seed);
  const scores = new Float64Array(rows);
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    scores[i] = score(random());
    labels[i] = random() < truth(Math.min(1, Math.max(0, scores[i]!))) ? 1 : 0;
  }
  return { scores, labels };
}

const cases: [string, { scores: Values; labels: Float64Array }][] = [
  ['1,000 distinct scores (many ties), miscalibrated', sample(20_003, 1, (u) => Math.round(u * 1000) / 1000, (s) => s ** 3)],
  ['20 distinct scores (large blocks)', sample(9_999, 2, (u) => Math.round(u * 20) / 20, (s) => Math.sqrt(s))],
  ['every score distinct', sample(12_345, 3, (u) => u, (s) => s)],
  ['every score distinct, miscalibrated', sample(12_345, 4, (u) => u * 0.6, (s) => s ** 0.3)],
  ['singletons among blocks, with negative scores, −0 and 0', sample(7_777, 5, (u) => (u < 0.3 ? u - 0.5 : u < 0.4 ? (u < 0.35 ? -0 : 0) : Math.round(u * 50) / 50), (s) => s ** 2)],
  ['float32 scores', (() => {
    const { scores, labels } = sample(8_191, 6, (u) => Math.round(u * 3000) / 3000, (s) => s ** 2);
    return { scores: Float32Array.from(scores), labels };
  })()],
  ['few rows', sample(23, 7, (u) => Math.round(u * 5) / 5, (s) => s)],
];

test('the isotonic map from blocks is the reference fit to the last bit, on ties, distinct scores, ±0 and float32', () => {
  for (const [name, { scores, labels }] of cases) {
    assert.deepStrictEqual(fitIsotonic(scores, labels), referenceIsotonic(scores, labels), name);
  }
  // The reference keeps the first score of a block: −0 where it sorts first, and deepStrictEqual tells −0 from 0.
  const signed = fitIsotonic([0, -0, 1], [0, 1, 1]);
  assert.ok(Object.is(signed.scores[0], 0), 'the first of the tied zeros, in row order, is kept');
  assert.deepStrictEqual(fitIsotonic([-0, 0, 1], [0, 1, 1]), referenceIsotonic([-0, 0, 1], [0, 1, 1]));
});

test("the held-out errors from blocks are the reference folds' errors to the last bit, for several fold and bin counts", () => {
  let calibrates = 0;
  let checked = 0;
  for (const [name, { scores, labels }] of cases) {
    for (const [folds, bins] of [[10, 10], [3, 7], [7, 13], [2, 1], [10, 4_000], [3, 100_000]] as const) {
      if (scores.length < folds * 2) continue;
      const errors = heldOutCalibrationErrors(sortByScore(scores, labels), folds, bins);
      const reference = referenceHeldOutErrors(scores, labels, folds, bins);
      assert.ok(Object.is(errors.raw, reference.raw), `${name}, ${folds} folds, ${bins} bins: raw ${errors.raw} vs ${reference.raw}`);
      assert.ok(Object.is(errors.calibrated, reference.calibrated), `${name}, ${folds} folds, ${bins} bins: calibrated ${errors.calibrated} vs ${reference.calibrated}`);
      assert.equal(needsCalibration(scores, labels, folds, bins), errors.calibrated < errors.raw);
      if (errors.calibrated < errors.raw) calibrates++;
      checked++;
    }
  }
  assert.ok(calibrates > 0 && calibrates < checked, `both decisions are exercised (${calibrates} of ${checked} cases calibrate)`);
});

test('CBPE fitted from blocks stores the reference map, and the same decision, on every case', () => {
  for (const [name, { scores, labels }] of cases) {
    const estimator = fitCbpe(scores, labels);
    const reference = referenceHeldOutErrors(scores, labels, 10, 10);
    if (scores.length >= 20) assert.equal(estimator.calibration !== undefined, reference.calibrated < reference.raw, name);
    if (estimator.calibration) assert.deepStrictEqual(estimator.calibration, referenceIsotonic(scores, labels), name);
  }
});

/** The message a call throws with. */
function thrown(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  return 'nothing thrown';
}

test('a score that cannot be calibrated is refused naming the score the reference names', () => {
  const { scores, labels } = sample(200, 8, (u) => u, (s) => s);
  for (const [first, second] of [[Number.NaN, Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], [Number.NEGATIVE_INFINITY, Number.NaN]]) {
    const withBad = Float64Array.from(scores);
    withBad[17] = first!;
    withBad[90] = second!;
    const message = thrown(() => referenceHeldOutErrors(withBad, labels, 10, 10));
    assert.match(message, /cannot be calibrated/);
    assert.equal(thrown(() => needsCalibration(withBad, labels)), message);
    assert.equal(thrown(() => fitIsotonic(withBad, labels)), thrown(() => referenceIsotonic(withBad, labels)));
  }
});
