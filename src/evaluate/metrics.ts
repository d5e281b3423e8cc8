/**
 * Binary-classification metrics over predicted probabilities and 0/1 labels. Pure
 * functions over typed arrays: the evaluate component, monitoring and tests all call
 * these, so there is one definition of each metric.
 *
 * Usage: `const m = binaryMetrics(probabilities, labels); m.auc; m.log_loss;`
 */
import { LoomError } from '../core/errors.js';

/** The metrics evaluation records for a binary classifier; names as they appear in JSON and in the registry. */
export interface BinaryMetrics {
  /** Area under the ROC curve; NaN when only one class is present (it is undefined then). */
  auc: number;
  /** Mean negative log-likelihood, with predictions clipped to [1e-15, 1 - 1e-15]. */
  log_loss: number;
  /** Share of rows where (prediction >= 0.5) equals the label. */
  accuracy: number;
  /** Share of rows with label 1. */
  positive_rate: number;
  /** Mean prediction, to set beside the positive rate (calibration at a glance). */
  mean_prediction: number;
  row_count: number;
}

/** The metric names a blessing may compare. */
export const COMPARABLE_METRICS = ['auc', 'log_loss', 'accuracy'] as const;
export type ComparableMetric = (typeof COMPARABLE_METRICS)[number];

const EPSILON = 1e-15;

/**
 * AUC-ROC, exact: the probability that a random positive scores above a random negative,
 * counting ties as one half. Computed from average ranks (Mann–Whitney U), which equals
 * the trapezoid area under the ROC curve with tied scores forming one diagonal step.
 * O(n log n). Returns NaN when either class is absent.
 */
export function aucRoc(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(predictions, labels);
  const n = predictions.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => predictions[a] - predictions[b]);
  let positives = 0;
  let positiveRankSum = 0;
  let i = 0;
  while (i < n) {
    // A run of equal scores shares the average of the ranks it spans (1-based).
    let j = i;
    while (j + 1 < n && predictions[order[j + 1]] === predictions[order[i]]) j++;
    const averageRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  const u = positiveRankSum - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}

/** Mean log loss with predictions clipped to [1e-15, 1 - 1e-15] so a confident mistake is large but finite. */
export function logLoss(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(predictions, labels);
  if (predictions.length === 0) return Number.NaN;
  let total = 0;
  for (let i = 0; i < predictions.length; i++) {
    const p = Math.min(Math.max(predictions[i], EPSILON), 1 - EPSILON);
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / predictions.length;
}

/** Share of rows classified correctly at `threshold` (a prediction equal to it counts as positive). */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  checkLengths(predictions, labels);
  if (predictions.length === 0) return Number.NaN;
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) {
    if ((predictions[i] >= threshold ? 1 : 0) === labels[i]) correct++;
  }
  return correct / predictions.length;
}

/** Share of labels equal to 1. */
export function positiveRate(labels: ArrayLike<number>): number {
  if (labels.length === 0) return Number.NaN;
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  return positives / labels.length;
}

/** Every metric at once. Labels must be 0 or 1: anything else is INVALID_ARGUMENT naming the row. */
export function binaryMetrics(predictions: ArrayLike<number>, labels: ArrayLike<number>): BinaryMetrics {
  checkLengths(predictions, labels);
  checkLabels(labels);
  let sum = 0;
  for (let i = 0; i < predictions.length; i++) sum += predictions[i];
  return {
    auc: aucRoc(predictions, labels),
    log_loss: logLoss(predictions, labels),
    accuracy: accuracy(predictions, labels),
    positive_rate: positiveRate(labels),
    mean_prediction: predictions.length === 0 ? Number.NaN : sum / predictions.length,
    row_count: predictions.length,
  };
}

function checkLengths(predictions: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (predictions.length !== labels.length) {
    throw new LoomError('INVALID_ARGUMENT', `${predictions.length} predictions but ${labels.length} labels`);
  }
}

function checkLabels(labels: ArrayLike<number>): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new LoomError('INVALID_ARGUMENT', `label at row ${i} is ${labels[i]}; a binary classifier needs labels 0 or 1`, {
        field: 'labelColumn',
        fix: 'derive a 0/1 (or boolean) label column',
      });
    }
  }
}
