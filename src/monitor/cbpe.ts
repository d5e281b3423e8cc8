/**
 * Confidence-based performance estimation (NannyML's CBPE) for binary classifiers: the
 * quality of a window of predictions estimated from the model's scores alone, before any
 * label arrives. With calibrated scores, a row predicted positive with probability p is a
 * true positive with probability p and a false positive with 1 - p (a row predicted
 * negative: a false negative with p, a true negative with 1 - p); summing those gives the
 * expected confusion matrix of the window, and accuracy, precision, recall and F1 follow
 * from it. ROC AUC is the area under the curve traced by the expected true and false
 * positives as the threshold falls through the model's scores.
 *
 * The estimator is fitted once per model version on its evaluation split (scores and
 * labels) and is plain data, so it can be stored and reused for every window.
 *
 * Usage:
 *   const estimator = fitCbpe(evalScores, evalLabels, { threshold: 0.5 });
 *   const estimate = estimateQuality(estimator, windowScores);
 *   // or, the scores left in the database: only distinct scores and their counts read
 *   const estimate = estimateQualityOfCounts(estimator, await readScoreCounts(db, relation, 'outputs.probability'));
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { LoomError } from '../core/errors.js';
import { numberColumn, queryChunks, queryRows } from '../data/duckdb.js';
import { checkLengths, type Values } from '../evaluate/binary-metrics.js';
import { calibrateAscending, fitSortedIsotonic, sortByScore, type IsotonicMap } from './calibration.js';
import { sortedNeedsCalibration } from './calibration-check.js';

/** The metrics CBPE estimates, named as Loom's evaluation names them. */
export const ESTIMATED_METRICS = ['auc', 'accuracy', 'precision', 'recall', 'f1'] as const;
export type EstimatedMetric = (typeof ESTIMATED_METRICS)[number];

/** A fitted estimator: the decision threshold and, when calibrating helps, the isotonic map. */
export interface CbpeEstimator {
  threshold: number;
  /** Absent when the reference scores were already as calibrated as isotonic regression makes them. */
  calibration?: IsotonicMap;
  /** Labelled rows the estimator was fitted on. */
  referenceRows: number;
}

export interface CbpeOptions {
  /** A score at or above it is predicted positive; default 0.5, as in Loom's evaluation. */
  threshold?: number;
  /** Calibrate always, never, or when it lowers the held-out calibration error (default). */
  calibration?: 'auto' | 'always' | 'never';
}

/** Fits the estimator on labelled reference rows (the model's scores on its evaluation split). */
export function fitCbpe(scores: Values, labels: Values, options: CbpeOptions = {}): CbpeEstimator {
  checkLengths(scores, labels);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new LoomError('INVALID_ARGUMENT', `reference label at row ${i} is ${labels[i]}; quality estimation needs 0/1 labels`, { fix: 'estimate quality only for binary classifiers' });
    }
  }
  const threshold = options.threshold ?? 0.5;
  const mode = options.calibration ?? 'auto';
  if (mode === 'never') return { threshold, calibration: undefined, referenceRows: scores.length };
  // One sort of the reference rows for the calibration check's folds and the map itself.
  const rows = sortByScore(scores, labels);
  const calibrated = mode === 'always' || sortedNeedsCalibration(rows);
  return { threshold, calibration: calibrated ? fitSortedIsotonic(rows) : undefined, referenceRows: scores.length };
}

/** Estimated metrics of one window; NaN where a window cannot define one (no rows; AUC when the scores expect one class only). */
export type QualityEstimate = Record<EstimatedMetric, number> & { rows: number };

/**
 * A window's scores as each distinct score, ascending (NaN last, each NaN row its own entry:
 * NaN equals nothing, not even itself), with how many rows have it. The estimate depends only
 * on these: the calibrated probability is a function of the score, and equal scores form one
 * step of the curve.
 */
export interface ScoreCounts {
  scores: Float64Array;
  counts: Float64Array;
}

/**
 * Estimates the window's quality from its scores (the model's own, uncalibrated), sorted once
 * (a native sort) and counted per distinct score: no row order is kept.
 */
export function estimateQuality(estimator: CbpeEstimator, scores: Values): QualityEstimate {
  return estimateQualityOfCounts(estimator, countScores(scores));
}

/** Scores held in JS as `readScoreCounts` reads them from the database: sorted once (a native sort), counted per distinct score. */
export function countScores(scores: Values): ScoreCounts {
  return countSorted(Float64Array.from(scores as ArrayLike<number>).sort());
}

/**
 * The window's scores read from the database as distinct scores and their counts (`score`: a
 * SQL expression over `relation`'s rows; rows without a score are left out). DuckDB groups
 * and sorts them, so only the distinct scores cross into JS: the same estimate as reading
 * every row, for far fewer values when scores repeat.
 */
export async function readScoreCounts(db: DuckDBConnection, relation: string, score: string): Promise<ScoreCounts> {
  return (await countedScores(db, relation, score)).get(0) ?? { scores: new Float64Array(0), counts: new Float64Array(0) };
}

/**
 * Rows whose scores decide how they are counted: whether scores repeat is judged on the
 * first of them (DuckDB stops reading there), not on a scan of the whole window. A prefix
 * has at least the whole's share of distinct scores, so a window whose scores repeat is
 * grouped unless its first rows mostly differ; either way the counts are the same.
 */
export const SCORE_SAMPLE_ROWS = 65_536;

/**
 * `readScoreCounts` for every window at once: `window` is a SQL expression of each row's
 * window key (a number; rows whose key is NULL are left out), and the answer maps each key
 * with a scored row to its scores counted. When scores repeat (on average at least twice
 * among the first `SCORE_SAMPLE_ROWS` scored rows, by DuckDB's approximate distinct count),
 * one GROUP BY of window and score counts them in DuckDB; when they mostly differ, grouping
 * saves nothing, so the scores are read as they are (with their window keys) and counted in
 * JS. Either way the same counts.
 */
export async function readWindowScoreCounts(db: DuckDBConnection, relation: string, score: string, window: string): Promise<Map<number, ScoreCounts>> {
  return countedScores(db, relation, score, window);
}

/** Both of the above: without `window`, every row is in window 0 and no key is read. */
async function countedScores(db: DuckDBConnection, relation: string, score: string, window?: string): Promise<Map<number, ScoreCounts>> {
  const scored = `SELECT w, s FROM (SELECT (${window ?? '0'})::DOUBLE AS w, (${score})::DOUBLE AS s FROM (${relation})) WHERE s IS NOT NULL AND w IS NOT NULL`;
  const [sample] = await queryRows(db, `SELECT count(*)::DOUBLE AS n, approx_count_distinct(s)::DOUBLE AS distinct FROM (${scored} LIMIT ${SCORE_SAMPLE_ROWS})`);
  const [rows, distinct] = [Number(sample!.n), Number(sample!.distinct)];
  if (rows === 0) return new Map();
  if (distinct * 2 > rows) {
    if (window === undefined) {
      const scores = numberColumn(await queryChunks(db, `SELECT s FROM (${scored})`), 0);
      return scores.length > 0 ? new Map([[0, countScores(scores)]]) : new Map();
    }
    const read = await queryChunks(db, scored);
    const keys = numberColumn(read, 0);
    // One window (the usual case): its scores counted as they are, no per-key lists.
    if (keys.every((key) => key === keys[0])) return new Map([[keys[0]!, countScores(numberColumn(read, 1))]]);
    return countByWindow(keys, numberColumn(read, 1));
  }
  // GROUP BY puts -0 with 0 (equal, as in the sort) and every NaN of a window in one group, split below.
  const read = await queryChunks(db, `SELECT w, s, count(*)::DOUBLE FROM (${scored}) GROUP BY w, s ORDER BY w, s`);
  const [keys, scores, counts] = [0, 1, 2].map((column) => numberColumn(read, column)) as [Float64Array, Float64Array, Float64Array];
  const counted = new Map<number, ScoreCounts>();
  for (let start = 0, end = 0; start < keys.length; start = end) {
    while (end < keys.length && keys[end] === keys[start]) end++;
    counted.set(keys[start]!, splitNaN(scores.subarray(start, end), counts.subarray(start, end)));
  }
  return counted;
}

/** Each window's scores counted, from every row's window key and score (in no set order). */
function countByWindow(keys: Float64Array, scores: Float64Array): Map<number, ScoreCounts> {
  const byKey = new Map<number, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const rows = byKey.get(keys[i]!);
    if (rows) rows.push(scores[i]!);
    else byKey.set(keys[i]!, [scores[i]!]);
  }
  return new Map([...byKey].sort((a, b) => a[0] - b[0]).map(([key, rows]) => [key, countScores(rows)]));
}

/** Distinct scores ascending (NaN last, as one group) and their counts, as `ScoreCounts`: the NaN group split into one entry per row. */
export function groupedScoreCounts(scores: Float64Array, counts: Float64Array): ScoreCounts {
  return splitNaN(scores, counts);
}

/** A window's counted scores with its NaN group (last, as DuckDB sorts NaN) split into one entry per row: NaN equals nothing. */
function splitNaN(scores: Float64Array, counts: Float64Array): ScoreCounts {
  const last = scores.length - 1;
  if (last < 0 || !Number.isNaN(scores[last])) return { scores, counts };
  const nan = counts[last]!;
  const split = { scores: new Float64Array(last + nan).fill(Number.NaN), counts: new Float64Array(last + nan).fill(1) };
  split.scores.set(scores.subarray(0, last));
  split.counts.set(counts.subarray(0, last));
  return split;
}

/** Sorted scores counted per distinct score (a NaN never equals the previous score, so each is its own entry). */
function countSorted(sorted: Float64Array): ScoreCounts {
  const scores = new Float64Array(sorted.length);
  const counts = new Float64Array(sorted.length);
  let k = -1;
  for (let i = 0; i < sorted.length; i++) {
    if (k >= 0 && scores[k] === sorted[i]) counts[k]! += 1;
    else {
      scores[++k] = sorted[i]!;
      counts[k] = 1;
    }
  }
  return { scores: scores.subarray(0, k + 1), counts: counts.subarray(0, k + 1) };
}

/**
 * The estimate from distinct scores and their counts. Each row's probability is still added
 * once per row (not multiplied by its count), so the sums are the very sums a pass over the
 * sorted rows makes: the same figures to the last bit.
 */
export function estimateQualityOfCounts(estimator: CbpeEstimator, { scores, counts }: ScoreCounts): QualityEstimate {
  checkCounts(scores, counts);
  const probability = estimator.calibration ? calibrateAscending(estimator.calibration, scores) : scores;
  let n = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  // The expected positives, every row's probability added in this same order (the AUC's total): in this pass, not one more.
  let positives = 0;
  for (let g = 0; g < scores.length; g++) {
    // A group's values read once, outside the rows' loop (the same doubles added: twice as fast).
    const p = probability[g]!;
    const q = 1 - p;
    const c = counts[g]!;
    n += c;
    if (scores[g]! >= estimator.threshold) {
      for (let j = 0; j < c; j++) {
        tp += p;
        fp += q;
        positives += p;
      }
    } else {
      for (let j = 0; j < c; j++) {
        fn += p;
        tn += q;
        positives += p;
      }
    }
  }
  // A zero denominator gives 0, as scikit-learn's zero_division default does for the measured figures.
  return {
    rows: n,
    auc: estimatedAuc(probability, counts, n, positives),
    accuracy: n > 0 ? (tp + tn) / n : Number.NaN,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
    f1: 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0,
  };
}

/** Refuses counts that are not a window's: unequal lengths, a count that is not a positive integer, scores not strictly ascending. */
function checkCounts(scores: Float64Array, counts: Float64Array): void {
  const fix = { fix: 'pass the distinct scores ascending with their row counts, as readScoreCounts returns them' };
  if (scores.length !== counts.length) throw new LoomError('INVALID_ARGUMENT', `${scores.length} distinct scores but ${counts.length} counts`, fix);
  for (let g = 0; g < scores.length; g++) {
    if (!Number.isInteger(counts[g]) || counts[g]! < 1) throw new LoomError('INVALID_ARGUMENT', `the count of score ${scores[g]} is ${counts[g]}, not a positive integer`, fix);
    if (g > 0 && !(scores[g - 1]! < scores[g]!) && !Number.isNaN(scores[g])) throw new LoomError('INVALID_ARGUMENT', `score ${scores[g]} follows ${scores[g - 1]}: the scores are not distinct and ascending`, fix);
  }
}

/**
 * The expected ROC curve's area: rows by model score, highest first (the distinct scores read
 * from their end); each row adds its probability to the expected true positives and the rest
 * to the false positives. Rows of equal score form one step (a diagonal segment), as the
 * measured AUC treats ties, so the result does not depend on the order of tied rows.
 * `totalP`: every row's probability added, lowest score first (the caller's pass over the rows).
 */
function estimatedAuc(probability: Float64Array, counts: Float64Array, rows: number, totalP: number): number {
  const totalN = rows - totalP;
  if (!(totalP > 0) || !(totalN > 0)) return Number.NaN;
  let area = 0;
  let tp = 0;
  let fp = 0;
  let prevX = 0;
  let prevY = 0;
  for (let g = probability.length - 1; g >= 0; g--) {
    const p = probability[g]!;
    const q = 1 - p;
    const c = counts[g]!;
    for (let j = 0; j < c; j++) {
      tp += p;
      fp += q;
    }
    const x = fp / totalN;
    const y = tp / totalP;
    area += ((x - prevX) * (y + prevY)) / 2;
    prevX = x;
    prevY = y;
  }
  return area;
}
