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
 */
import { LoomError } from '../core/errors.js';
import { ascendingOrder, checkLengths, type Values } from '../evaluate/binary-metrics.js';
import { calibrateAscending, fitIsotonic, needsCalibration, type IsotonicMap } from './calibration.js';

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
  // One sort of the reference scores for the calibration check's folds and the map itself.
  const order = mode === 'never' ? undefined : ascendingOrder(scores);
  const calibrated = mode === 'always' || (mode === 'auto' && needsCalibration(scores, labels, undefined, undefined, order));
  return { threshold, calibration: calibrated ? fitIsotonic(scores, labels, order) : undefined, referenceRows: scores.length };
}

/** Estimated metrics of one window; NaN where a window cannot define one (no rows; AUC when the scores expect one class only). */
export type QualityEstimate = Record<EstimatedMetric, number> & { rows: number };

/**
 * Estimates the window's quality from its scores (the model's own, uncalibrated). The
 * calibrated probability is a function of the score, so the scores sorted once (a native
 * sort) are all the counts and the curve need: no row order is kept.
 */
export function estimateQuality(estimator: CbpeEstimator, scores: Values): QualityEstimate {
  const n = scores.length;
  const sorted = Float64Array.from(scores as ArrayLike<number>).sort();
  const probability = estimator.calibration ? calibrateAscending(estimator.calibration, sorted) : sorted;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < n; i++) {
    const p = probability[i]!;
    if (sorted[i]! >= estimator.threshold) {
      tp += p;
      fp += 1 - p;
    } else {
      fn += p;
      tn += 1 - p;
    }
  }
  // A zero denominator gives 0, as scikit-learn's zero_division default does for the measured figures.
  return {
    rows: n,
    auc: estimatedAuc(sorted, probability),
    accuracy: n > 0 ? (tp + tn) / n : Number.NaN,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
    f1: 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0,
  };
}

/**
 * The expected ROC curve's area: rows by model score, highest first (`sorted` read from its
 * end); each row adds its probability to the expected true positives and the rest to the
 * false positives. Rows of equal score form one step (a diagonal segment), as the measured
 * AUC treats ties, so the result does not depend on the order of tied rows.
 */
function estimatedAuc(sorted: Float64Array, probability: Float64Array): number {
  let totalP = 0;
  for (let i = 0; i < probability.length; i++) totalP += probability[i]!;
  const totalN = probability.length - totalP;
  if (!(totalP > 0) || !(totalN > 0)) return Number.NaN;
  let area = 0;
  let tp = 0;
  let fp = 0;
  let prevX = 0;
  let prevY = 0;
  for (let k = sorted.length - 1; k >= 0; k--) {
    tp += probability[k]!;
    fp += 1 - probability[k]!;
    if (k > 0 && sorted[k - 1] === sorted[k]) continue;
    const x = fp / totalN;
    const y = tp / totalP;
    area += ((x - prevX) * (y + prevY)) / 2;
    prevX = x;
    prevY = y;
  }
  return area;
}
