/**
 * Score calibration for quality estimation: an isotonic map from a model's score to the
 * probability that the label is 1, fitted on labelled reference rows (the evaluation
 * split), and the check of whether calibrating helps at all.
 *
 * The map is scikit-learn's `IsotonicRegression(out_of_bounds='clip')`, which NannyML's
 * CBPE uses: equal scores are merged into their mean label, pool-adjacent-violators makes
 * the means non-decreasing, and a score between two fitted points is interpolated
 * linearly; scores outside the fitted range take the end values.
 *
 * Usage: `const map = fitIsotonic(evalScores, evalLabels); const p = calibrate(map, liveScores);`
 */
import { LoomError } from '../core/errors.js';
import { ascendingOrder, aucFromCounts, checkLengths, thresholdCounts, type Values } from '../evaluate/binary-metrics.js';

/** A fitted isotonic map: increasing scores and the calibrated probability at each. Plain data, so it can be stored as JSON. */
export interface IsotonicMap {
  scores: number[];
  probabilities: number[];
}

/** Fits the isotonic map of labels (0/1) on scores. Pass `order` from `ascendingOrder` when the caller has it (the sort is most of the fit). */
export function fitIsotonic(scores: Values, labels: Values, order: Uint32Array = ascendingOrder(scores)): IsotonicMap {
  checkLengths(scores, labels);
  if (scores.length === 0) throw new LoomError('INVALID_ARGUMENT', 'calibration needs at least one labelled row', { fix: 'evaluate the model on a non-empty split' });
  // Blocks of equal score first (their mean label, weighted by count), then pool violators.
  const xs: number[] = [];
  const means: number[] = [];
  const weights: number[] = [];
  for (const i of order) {
    const x = scores[i]!;
    if (!Number.isFinite(x)) throw new LoomError('INVALID_ARGUMENT', `score ${x} cannot be calibrated`, { fix: 'score the reference rows with the model; its scores are finite' });
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
  // Pool-adjacent-violators over the blocks: a stack of pooled runs, each the mean of its blocks.
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

/** The calibrated probability of each score: linear between fitted points, clipped outside them. */
export function calibrate(map: IsotonicMap, scores: Values): Float64Array {
  const { scores: xs, probabilities: ys } = map;
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i]!;
    if (x <= xs[0]!) out[i] = ys[0]!;
    else if (x >= xs[xs.length - 1]!) out[i] = ys[ys.length - 1]!;
    else {
      // The first fitted score above x, by binary search.
      let lo = 0;
      let hi = xs.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (xs[mid]! <= x) lo = mid;
        else hi = mid;
      }
      const t = (x - xs[lo]!) / (xs[hi]! - xs[lo]!);
      out[i] = ys[lo]! + t * (ys[hi]! - ys[lo]!);
    }
  }
  return out;
}

/**
 * `calibrate` for scores already ascending (NaN last, as a typed array sorts them): one walk
 * along the fitted points instead of a binary search per score; the same values.
 */
export function calibrateAscending(map: IsotonicMap, sorted: Float64Array): Float64Array {
  const { scores: xs, probabilities: ys } = map;
  const last = xs.length - 1;
  const out = new Float64Array(sorted.length);
  let lo = 0;
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    if (x <= xs[0]!) out[i] = ys[0]!;
    else if (x >= xs[last]!) out[i] = ys[last]!;
    else if (Number.isNaN(x)) out[i] = Number.NaN;
    else {
      // The last fitted score at or below x; x never falls, so neither does lo.
      while (xs[lo + 1]! <= x) lo++;
      const t = (x - xs[lo]!) / (xs[lo + 1]! - xs[lo]!);
      out[i] = ys[lo]! + t * (ys[lo + 1]! - ys[lo]!);
    }
  }
  return out;
}

/**
 * Whether calibrating the scores lowers their expected calibration error on rows it was
 * not fitted on. NannyML asks the same question with ten random stratified splits; here
 * the ten folds are every tenth row of the score order (deterministic, and each fold
 * spans the whole score range), and the error is measured over ten equal-count bins of
 * the held-out rows. A ranking that is already perfect (AUC > 0.999) or a reference with
 * one class is left alone, as NannyML does. The one sort of the scores (`order`, from
 * `ascendingOrder`; the caller's when it has it) serves every fold: a fold's rows taken in
 * that order are already ascending, and the AUC's descending pass is that order reversed
 * (tied rows in another order give the same counts per distinct score).
 */
export function needsCalibration(scores: Values, labels: Values, folds = 10, bins = 10, order: Uint32Array = ascendingOrder(scores)): boolean {
  checkLengths(scores, labels);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  if (positives === 0 || positives === labels.length) return false;
  if (aucFromCounts(thresholdCounts(scores, labels, undefined, order.slice().reverse())) > 0.999) return false;
  if (scores.length < folds * 2) return false;
  // The rows in score order, then each fold's held-out rows (every tenth rank) and the rest, as typed arrays.
  const n = order.length;
  const sortedScores = Float64Array.from(order, (row) => scores[row]!);
  const sortedLabels = Float64Array.from(order, (row) => labels[row]!);
  const heldScores = new Float64Array(n);
  const heldLabels = new Float64Array(n);
  const heldCalibrated = new Float64Array(n);
  let held = 0;
  for (let f = 0; f < folds; f++) {
    const testCount = Math.ceil((n - f) / folds);
    const fitScores = new Float64Array(n - testCount);
    const fitLabels = new Float64Array(n - testCount);
    const start = held;
    let fitted = 0;
    for (let rank = 0; rank < n; rank++) {
      if (rank % folds === f) {
        heldScores[held] = sortedScores[rank]!;
        heldLabels[held++] = sortedLabels[rank]!;
      } else {
        fitScores[fitted] = sortedScores[rank]!;
        fitLabels[fitted++] = sortedLabels[rank]!;
      }
    }
    // Ascending already, ties in row order: the order `ascendingOrder` would give, without its sort.
    const map = fitIsotonic(fitScores, fitLabels, identityOrder(fitScores.length));
    heldCalibrated.set(calibrateAscending(map, heldScores.subarray(start, held)), start);
  }
  return expectedCalibrationError(heldCalibrated, heldLabels, bins) < expectedCalibrationError(heldScores, heldLabels, bins);
}

/** 0, 1, …, n − 1: the order of values already ascending. */
function identityOrder(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/** Mean |mean score - share of positives| over equal-count bins of the rows sorted by score, weighted by bin size. */
export function expectedCalibrationError(scores: Values, labels: Values, bins = 10): number {
  checkLengths(scores, labels);
  const order = ascendingOrder(scores);
  const count = Math.max(1, Math.min(bins, Math.floor(scores.length / 2)));
  let error = 0;
  for (let b = 0; b < count; b++) {
    const from = Math.floor((b * order.length) / count);
    const to = Math.floor(((b + 1) * order.length) / count);
    let s = 0;
    let y = 0;
    for (let k = from; k < to; k++) {
      s += scores[order[k]!]!;
      y += labels[order[k]!]!;
    }
    const n = to - from;
    if (n > 0) error += (n / order.length) * Math.abs(s / n - y / n);
  }
  return error;
}
