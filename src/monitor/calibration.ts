/**
 * Score calibration for quality estimation: an isotonic map from a model's score to the
 * probability that the label is 1, fitted on labelled reference rows (the evaluation
 * split). The check of whether calibrating helps at all is in calibration-check.ts.
 *
 * The map is scikit-learn's `IsotonicRegression(out_of_bounds='clip')`, which NannyML's
 * CBPE uses: equal scores are merged into their mean label, pool-adjacent-violators makes
 * the means non-decreasing, and a score between two fitted points is interpolated
 * linearly; scores outside the fitted range take the end values.
 *
 * The rows are sorted once (`sortByScore`) and cut into blocks of equal score; the check's
 * ten fits (calibration-check.ts) and the map are all made from those blocks, so no fit
 * copies or sorts rows.
 *
 * Usage: `const map = fitIsotonic(evalScores, evalLabels); const p = calibrate(map, liveScores);`
 */
import { LoomError } from '../core/errors.js';
import { ascendingOrder, checkLengths, type Values } from '../evaluate/binary-metrics.js';

/** A fitted isotonic map: increasing scores and the calibrated probability at each. Plain data, so it can be stored as JSON. */
export interface IsotonicMap {
  scores: number[];
  probabilities: number[];
}

/**
 * Labelled rows by ascending score (ties in row order, NaN last, as `ascendingOrder` puts
 * them), cut into blocks of equal score: block b is the ranks `starts[b]` to
 * `starts[b + 1] - 1`, so `starts` has one entry more than there are blocks.
 */
export interface ScoreSortedRows {
  scores: Float64Array;
  labels: Float64Array;
  starts: Uint32Array;
}

/** The rows in score order and their blocks. Pass `order` from `ascendingOrder` when the caller has it. */
export function sortByScore(scores: Values, labels: Values, order: Uint32Array = ascendingOrder(scores)): ScoreSortedRows {
  checkLengths(scores, labels);
  const n = order.length;
  const sortedScores = new Float64Array(n);
  const sortedLabels = new Float64Array(n);
  const starts = new Uint32Array(n + 1);
  let blocks = 0;
  for (let k = 0; k < n; k++) {
    const row = order[k]!;
    const x = scores[row]!;
    sortedScores[k] = x;
    sortedLabels[k] = labels[row]!;
    // A NaN equals nothing, so each is a block of its own (as it is a point of its own in thresholdCounts).
    if (k === 0 || sortedScores[k - 1] !== x) starts[blocks++] = k;
  }
  starts[blocks] = n;
  return { scores: sortedScores, labels: sortedLabels, starts: starts.subarray(0, blocks + 1) };
}

/** Fits the isotonic map of labels (0/1) on scores. Pass `order` from `ascendingOrder` when the caller has it (the sort is most of the fit). */
export function fitIsotonic(scores: Values, labels: Values, order?: Uint32Array): IsotonicMap {
  return fitSortedIsotonic(sortByScore(scores, labels, order));
}

/** `fitIsotonic` of rows already sorted by `sortByScore`. */
export function fitSortedIsotonic(rows: ScoreSortedRows): IsotonicMap {
  const { scores, probabilities } = isotonicOfBlocks(rows, 1, -1);
  return { scores: Array.from(scores), probabilities: Array.from(probabilities) };
}

/**
 * The isotonic map of the sorted rows but those whose rank is `heldOut` modulo `folds` (−1:
 * none held out). Each block's mean label is a running mean over its rows in rank order
 * (the same arithmetic, so the same doubles, as merging one row at a time), taken from
 * `means` (`foldBlockMeans`) when given, and the block goes straight onto
 * pool-adjacent-violators' stack of pooled runs.
 */
export function isotonicOfBlocks(rows: ScoreSortedRows, folds: number, heldOut: number, means?: Float64Array): { scores: Float64Array; probabilities: Float64Array } {
  const { scores, labels, starts } = rows;
  const blocks = starts.length - 1;
  const xs = new Float64Array(blocks);
  const runValue = new Float64Array(blocks);
  const runWeight = new Float64Array(blocks);
  const runEnd = new Uint32Array(blocks);
  let runs = 0;
  let fitted = 0;
  // The next rank held out; ranks are visited in order, so it only moves forward.
  let nextHeld = heldOut < 0 ? scores.length : heldOut;
  for (let b = 0; b < blocks; b++) {
    const start = starts[b]!;
    const end = starts[b + 1]!;
    let r = start;
    let value: number;
    let weight: number;
    if (means) {
      const held = firstHeld(start, folds, heldOut);
      weight = end - start - (held < end ? Math.floor((end - 1 - held) / folds) + 1 : 0);
      if (weight === 0) continue;
      if (held === start) r++;
      value = means[b * folds + heldOut]!;
    } else {
      while (r < end && r === nextHeld) {
        nextHeld += folds;
        r++;
      }
      if (r >= end) continue;
      value = labels[r]!;
      weight = 1;
      for (let k = r + 1; k < end; k++) {
        if (k === nextHeld) nextHeld += folds;
        else {
          value = (value * weight + labels[k]!) / (weight + 1);
          weight += 1;
        }
      }
    }
    const x = scores[r]!;
    // Every row of a block has this score, so checking the block's first row checks them all.
    if (!Number.isFinite(x)) throw new LoomError('INVALID_ARGUMENT', `score ${x} cannot be calibrated`, { fix: 'score the reference rows with the model; its scores are finite' });
    xs[fitted] = x;
    while (runs > 0 && runValue[runs - 1]! >= value) {
      runs--;
      const w = runWeight[runs]!;
      value = (runValue[runs]! * w + value * weight) / (w + weight);
      weight += w;
    }
    runValue[runs] = value;
    runWeight[runs] = weight;
    runEnd[runs++] = fitted++;
  }
  if (fitted === 0) throw new LoomError('INVALID_ARGUMENT', 'calibration needs at least one labelled row', { fix: 'evaluate the model on a non-empty split' });
  const probabilities = new Float64Array(fitted);
  for (let run = 0, b = 0; run < runs; run++) for (; b <= runEnd[run]!; b++) probabilities[b] = runValue[run]!;
  return { scores: xs.subarray(0, fitted), probabilities };
}

/** The first rank at or after `start` that fold `fold` holds out. */
export function firstHeld(start: number, folds: number, fold: number): number {
  return start + ((fold - (start % folds) + folds) % folds);
}

/**
 * Every fold's mean label in every block (`means[b * folds + f]`: the running mean over the
 * block's rows but fold f's, in rank order), in one pass over the rows: the folds' divisions
 * do not wait on each other, as they do one fold at a time. Worth it where blocks are large
 * (a division per row); its table has a number per fold and block.
 */
export function foldBlockMeans({ labels, starts }: ScoreSortedRows, folds: number): Float64Array {
  const blocks = starts.length - 1;
  const means = new Float64Array(blocks * folds);
  const weights = new Float64Array(folds);
  for (let b = 0; b < blocks; b++) {
    const base = b * folds;
    weights.fill(0);
    let phase = starts[b]! % folds;
    for (let r = starts[b]!; r < starts[b + 1]!; r++) {
      const y = labels[r]!;
      for (let f = 0; f < folds; f++) {
        const w = weights[f]!;
        if (f === phase) continue;
        means[base + f] = w === 0 ? y : (means[base + f]! * w + y) / (w + 1);
        weights[f] = w + 1;
      }
      phase = phase + 1 === folds ? 0 : phase + 1;
    }
  }
  return means;
}

/** The points a map is made of: `IsotonicMap`, or the typed arrays of a fold's fit. */
interface MapPoints {
  scores: ArrayLike<number>;
  probabilities: ArrayLike<number>;
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
export function calibrateAscending(map: MapPoints, sorted: Float64Array): Float64Array {
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
