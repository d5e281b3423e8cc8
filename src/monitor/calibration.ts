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
 * The rows are sorted once (`sortByScore`) and cut into blocks of equal score; the check's
 * ten fits and the map are all made from those blocks, so no fit copies or sorts rows.
 *
 * Usage: `const map = fitIsotonic(evalScores, evalLabels); const p = calibrate(map, liveScores);`
 */
import { LoomError } from '../core/errors.js';
import { ascendingOrder, aucFromCounts, checkLengths, type Values } from '../evaluate/binary-metrics.js';

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
function isotonicOfBlocks(rows: ScoreSortedRows, folds: number, heldOut: number, means?: Float64Array): { scores: Float64Array; probabilities: Float64Array } {
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
function firstHeld(start: number, folds: number, fold: number): number {
  return start + ((fold - (start % folds) + folds) % folds);
}

/**
 * Every fold's mean label in every block (`means[b * folds + f]`: the running mean over the
 * block's rows but fold f's, in rank order), in one pass over the rows: the folds' divisions
 * do not wait on each other, as they do one fold at a time. Worth it where blocks are large
 * (a division per row); its table has a number per fold and block.
 */
function foldBlockMeans({ labels, starts }: ScoreSortedRows, folds: number): Float64Array {
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

/**
 * Whether calibrating the scores lowers their expected calibration error on rows it was
 * not fitted on. NannyML asks the same question with ten random stratified splits; here
 * the ten folds are every tenth row of the score order (deterministic, and each fold
 * spans the whole score range), and the error is measured over ten equal-count bins of
 * the held-out rows. A ranking that is already perfect (AUC > 0.999) or a reference with
 * one class is left alone, as NannyML does. Labels are 0/1 (`fitCbpe` checks them). The one
 * sort of the scores (`order`, from `ascendingOrder`; the caller's when it has it) serves
 * every fold.
 */
export function needsCalibration(scores: Values, labels: Values, folds = 10, bins = 10, order?: Uint32Array): boolean {
  return sortedNeedsCalibration(sortByScore(scores, labels, order), folds, bins);
}

/**
 * `needsCalibration` of rows already sorted by `sortByScore`. It gives, to the last bit, what
 * fitting each fold's rows with `fitIsotonic`, calibrating its held-out rows and measuring
 * `expectedCalibrationError` over all of them gives, without copying a fold's rows or
 * sorting the held-out ones: the held-out rows in score order are the blocks' rows, fold by
 * fold within a block (the stable sort of the folds one after another), and a fold's rows
 * in a block share one calibrated probability, so only those groups are sorted.
 */
export function sortedNeedsCalibration(rows: ScoreSortedRows, folds = 10, bins = 10): boolean {
  if (!Number.isInteger(folds) || folds < 2) throw new LoomError('INVALID_ARGUMENT', `${folds} folds cannot hold rows out`, { fix: 'check calibration with at least 2 folds' });
  const { labels } = rows;
  const n = labels.length;
  let positives = 0;
  for (let k = 0; k < n; k++) positives += labels[k]!;
  if (positives === 0 || positives === n) return false;
  if (blocksAuc(rows) > 0.999) return false;
  if (n < folds * 2) return false;
  const errors = heldOutCalibrationErrors(rows, folds, bins);
  return errors.calibrated < errors.raw;
}

/**
 * The expected calibration error of every row while held out, of its score (`raw`) and of
 * its score calibrated by the map fitted on the other folds (`calibrated`). Needs at least
 * one row per fold to fit on.
 */
export function heldOutCalibrationErrors(rows: ScoreSortedRows, folds: number, bins: number): { raw: number; calibrated: number } {
  const groups = heldOutGroups(rows, folds);
  return {
    raw: binnedError(groups.byBlock, groups.scores, groups, rows.labels, folds, bins),
    calibrated: binnedError(ascendingOrder(groups.calibrated), groups.calibrated, groups, rows.labels, folds, bins),
  };
}

/** The AUC of the scores as `thresholdCounts` and `aucFromCounts` give it: one point per block, highest score first. */
function blocksAuc({ scores, labels, starts }: ScoreSortedRows): number {
  const blocks = starts.length - 1;
  const thresholds = new Float64Array(blocks);
  const tps = new Float64Array(blocks);
  const fps = new Float64Array(blocks);
  let tp = 0;
  let fp = 0;
  for (let b = blocks - 1, point = 0; b >= 0; b--, point++) {
    for (let r = starts[b]!; r < starts[b + 1]!; r++) {
      if (labels[r] === 1) tp += 1;
      else fp += 1;
    }
    thresholds[point] = scores[starts[b]!]!;
    tps[point] = tp;
    fps[point] = fp;
  }
  return aucFromCounts({ thresholds, tps, fps });
}

/**
 * Each fold's held-out rows in one block (ranks `first`, `first + folds`, …; `count` of
 * them, `ones` labelled 1), with the block's score and its probability as calibrated by the
 * map fitted on the fold's other rows. Groups are numbered fold by fold, block by block (the
 * held-out rows' order, one fold after another); `byBlock` lists them block by block, fold by
 * fold (the held-out rows in score order).
 */
interface HeldOutGroups {
  first: Uint32Array;
  count: Uint32Array;
  ones: Float64Array;
  scores: Float64Array;
  calibrated: Float64Array;
  byBlock: Uint32Array;
}

function heldOutGroups(rows: ScoreSortedRows, folds: number): HeldOutGroups {
  const { scores, labels, starts } = rows;
  const blocks = starts.length - 1;
  // Where each fold's groups begin: a fold has a group in every block that holds one of its ranks.
  const foldStarts = new Uint32Array(folds + 1);
  for (let b = 0; b < blocks; b++) {
    const start = starts[b]!;
    const size = starts[b + 1]! - start;
    for (let j = 0; j < Math.min(size, folds); j++) foldStarts[((start + j) % folds) + 1]!++;
  }
  for (let fold = 0; fold < folds; fold++) foldStarts[fold + 1]! += foldStarts[fold]!;
  const groups = foldStarts[folds]!;
  const first = new Uint32Array(groups);
  const count = new Uint32Array(groups);
  const ones = new Float64Array(groups);
  const groupScores = new Float64Array(groups);
  const byBlock = new Uint32Array(groups);
  // One pass over the rows, block by block: each fold's labelled-1 rows counted by rank modulo folds.
  const next = foldStarts.slice(0, folds);
  const onesByFold = new Float64Array(folds);
  for (let b = 0, k = 0; b < blocks; b++) {
    const start = starts[b]!;
    const end = starts[b + 1]!;
    if (end - start < folds) {
      // Fewer rows than folds: each row is its fold's group; in fold order, the ranks from the one whose fold is 0 come first.
      const size = end - start;
      const wrap = Math.min(size, (folds - (start % folds)) % folds);
      for (let i = 0; i < size; i++) {
        const held = start + (wrap + i < size ? wrap + i : wrap + i - size);
        const g = next[held % folds]!++;
        first[g] = held;
        count[g] = 1;
        ones[g] = labels[held]!;
        groupScores[g] = scores[held]!;
        byBlock[k++] = g;
      }
      continue;
    }
    onesByFold.fill(0);
    for (let r = start, fold = start % folds; r < end; r++, fold = fold + 1 === folds ? 0 : fold + 1) onesByFold[fold]! += labels[r]!;
    for (let fold = 0; fold < folds; fold++) {
      const held = firstHeld(start, folds, fold);
      if (held >= end) continue;
      const g = next[fold]!++;
      first[g] = held;
      count[g] = Math.floor((end - 1 - held) / folds) + 1;
      ones[g] = onesByFold[fold]!;
      groupScores[g] = scores[held]!;
      byBlock[k++] = g;
    }
  }
  // Large blocks (ten rows a block on average): every fold's block means in one pass, in a table no larger than the rows.
  const means = blocks * folds <= scores.length ? foldBlockMeans(rows, folds) : undefined;
  const calibrated = new Float64Array(groups);
  for (let fold = 0; fold < folds; fold++) {
    const map = isotonicOfBlocks(rows, folds, fold, means);
    // A fold's groups ascend by score: one walk along its map.
    calibrated.set(calibrateAscending(map, groupScores.subarray(foldStarts[fold]!, foldStarts[fold + 1]!)), foldStarts[fold]!);
  }
  return { first, count, ones, scores: groupScores, calibrated, byBlock };
}

/**
 * `expectedCalibrationError` of the held-out rows, each with its group's value (`values`),
 * taken group by group in `order`: each row's value is added once (the sums of a pass over
 * the rows, to the last bit), and labels are counted per group except where a bin's edge
 * falls inside one.
 */
function binnedError(order: Uint32Array, values: Float64Array, groups: HeldOutGroups, labels: Float64Array, folds: number, bins: number): number {
  const n = labels.length;
  const binCount = Math.max(1, Math.min(bins, Math.floor(n / 2)));
  let error = 0;
  let k = 0;
  let used = 0;
  for (let bin = 0; bin < binCount; bin++) {
    const size = Math.floor(((bin + 1) * n) / binCount) - Math.floor((bin * n) / binCount);
    let s = 0;
    let y = 0;
    for (let need = size; need > 0; ) {
      const g = order[k]!;
      const rows = groups.count[g]!;
      const take = Math.min(need, rows - used);
      const v = values[g]!;
      for (let j = 0; j < take; j++) s += v;
      if (take === rows) y += groups.ones[g]!;
      else for (let j = used; j < used + take; j++) y += labels[groups.first[g]! + j * folds]!;
      used += take;
      need -= take;
      if (used === rows) {
        k++;
        used = 0;
      }
    }
    if (size > 0) error += (size / n) * Math.abs(s / size - y / size);
  }
  return error;
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
