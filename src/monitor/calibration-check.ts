/**
 * Whether calibrating a model's scores helps (calibration.ts fits and applies the map): the
 * expected calibration error of the reference rows while held out, raw and calibrated by the
 * map fitted on the other folds, as NannyML's CBPE decides whether to calibrate. Every fold's
 * fit is made from the blocks of the one sort of the rows (`sortByScore`).
 *
 * Usage: `if (needsCalibration(evalScores, evalLabels)) map = fitIsotonic(evalScores, evalLabels)`
 */
import { LoomError } from '../core/errors.js';
import { ascendingOrder, aucFromCounts, checkLengths, type Values } from '../evaluate/binary-metrics.js';
import { calibrateAscending, firstHeld, foldBlockMeans, isotonicOfBlocks, sortByScore, type ScoreSortedRows } from './calibration.js';

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
