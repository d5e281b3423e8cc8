/**
 * Binary-classification metrics over P(label = 1) and 0/1 labels, with optional sample
 * weights. Each one is defined as scikit-learn defines it (same tie handling, same
 * clipping, same zero-division rule) so a Loom number can be checked against sklearn's
 * on the same predictions; `test/python/sklearn_metrics.py` does that in the suite.
 *
 * Usage: `const curve = thresholdCounts(scores, labels); aucFromCounts(curve);`
 */
import { LoomError } from '../core/errors.js';
import { descendingOrder } from './score-order.js';

/** Numbers in, by row. Float32Array, Float64Array and plain arrays all work. */
export type Values = ArrayLike<number>;

/**
 * Weighted true/false positive counts at each distinct score, highest score first: the
 * points of `sklearn.metrics.confusion_matrix_at_thresholds`. Rows of weight 0 are left
 * out, as sklearn does, so they add no point to a curve.
 */
export interface ThresholdCounts {
  thresholds: Float64Array;
  tps: Float64Array;
  fps: Float64Array;
}

export { ascendingOrder, descendingOrder } from './score-order.js';

/** The counts behind every ranking metric. Pass `order` from `descendingOrder` to skip the sort (the bootstrap does). */
export function thresholdCounts(scores: Values, labels: Values, weights?: Values, order?: Uint32Array): ThresholdCounts {
  checkLengths(scores, labels, weights);
  const sorted = order ?? descendingOrder(scores);
  // At most one point per row: fill preallocated arrays and return views of the used part.
  const thresholds = new Float64Array(sorted.length);
  const tps = new Float64Array(sorted.length);
  const fps = new Float64Array(sorted.length);
  let points = 0;
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < sorted.length; k++) {
    const i = sorted[k]!;
    const w = weights ? weights[i]! : 1;
    if (w === 0) continue;
    if (labels[i] === 1) tp += w;
    else fp += w;
    // A point ends where the next kept row has a different score (or the rows end).
    let next = k + 1;
    while (weights && next < sorted.length && weights[sorted[next]!] === 0) next++;
    if (next >= sorted.length || scores[sorted[next]!] !== scores[i]) {
      thresholds[points] = scores[i]!;
      tps[points] = tp;
      fps[points] = fp;
      points++;
    }
  }
  return { thresholds: thresholds.subarray(0, points), tps: tps.subarray(0, points), fps: fps.subarray(0, points) };
}

/** `sklearn.metrics.roc_curve` (drop_intermediate=True): fpr, tpr and thresholds, the first threshold +Infinity. */
export function rocCurve(scores: Values, labels: Values, weights?: Values): { fpr: number[]; tpr: number[]; thresholds: number[] } {
  const { thresholds, tps, fps } = thresholdCounts(scores, labels, weights);
  let keep = Array.from({ length: tps.length }, (_, i) => i);
  if (tps.length > 2) {
    // Points on a straight line between their neighbours add nothing to the curve.
    keep = keep.filter((i) => i === 0 || i === tps.length - 1 || fps[i - 1]! - 2 * fps[i]! + fps[i + 1]! !== 0 || tps[i - 1]! - 2 * tps[i]! + tps[i + 1]! !== 0);
  }
  const totalP = tps.length ? tps[tps.length - 1]! : 0;
  const totalN = fps.length ? fps[fps.length - 1]! : 0;
  // With one class absent its rate is undefined at every point (sklearn returns NaN throughout).
  const rate = (count: number, total: number) => (total > 0 ? count / total : Number.NaN);
  return {
    fpr: [rate(0, totalN), ...keep.map((i) => rate(fps[i]!, totalN))],
    tpr: [rate(0, totalP), ...keep.map((i) => rate(tps[i]!, totalP))],
    thresholds: [Number.POSITIVE_INFINITY, ...keep.map((i) => thresholds[i]!)],
  };
}

/** `sklearn.metrics.precision_recall_curve`: precision and recall by increasing threshold, ending at (1, 0). */
export function precisionRecallCurve(scores: Values, labels: Values, weights?: Values): { precision: number[]; recall: number[]; thresholds: number[] } {
  const { thresholds, tps, fps } = thresholdCounts(scores, labels, weights);
  const totalP = tps.length ? tps[tps.length - 1]! : 0;
  const precision: number[] = [];
  const recall: number[] = [];
  const ordered: number[] = [];
  for (let i = tps.length - 1; i >= 0; i--) {
    const predicted = tps[i]! + fps[i]!;
    precision.push(predicted !== 0 ? tps[i]! / predicted : 0);
    recall.push(totalP === 0 ? 1 : tps[i]! / totalP);
    ordered.push(thresholds[i]!);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds: ordered };
}

/** Area under the ROC curve by the trapezoid rule, ties forming one diagonal step (sklearn's `roc_auc_score`). NaN with one class. */
export function aucFromCounts({ tps, fps }: ThresholdCounts): number {
  const n = tps.length;
  if (n === 0) return Number.NaN;
  const totalP = tps[n - 1]!;
  const totalN = fps[n - 1]!;
  if (!(totalP > 0) || !(totalN > 0)) return Number.NaN;
  let area = 0;
  let prevX = 0;
  let prevY = 0;
  for (let i = 0; i < n; i++) {
    const x = fps[i]! / totalN;
    const y = tps[i]! / totalP;
    area += ((x - prevX) * (y + prevY)) / 2;
    prevX = x;
    prevY = y;
  }
  return area;
}

/** Average precision, sum over thresholds of (R_k - R_{k-1}) * P_k: sklearn's `average_precision_score`, not the interpolated area. */
export function averagePrecisionFromCounts({ tps, fps }: ThresholdCounts): number {
  const n = tps.length;
  if (n === 0) return Number.NaN;
  const totalP = tps[n - 1]!;
  // sklearn sets recall to 1 everywhere when there are no positives, so every step is 0.
  if (!(totalP > 0)) return 0;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < n; i++) {
    const recall = tps[i]! / totalP;
    const predicted = tps[i]! + fps[i]!;
    ap += (recall - prevRecall) * (predicted !== 0 ? tps[i]! / predicted : 0);
    prevRecall = recall;
  }
  return Math.max(0, ap);
}

/** AUC-ROC of scores against 0/1 labels. */
export function aucRoc(scores: Values, labels: Values, weights?: Values): number {
  return aucFromCounts(thresholdCounts(scores, labels, weights));
}

/** AUC-PR as average precision. */
export function averagePrecision(scores: Values, labels: Values, weights?: Values): number {
  return averagePrecisionFromCounts(thresholdCounts(scores, labels, weights));
}

/** Machine epsilon of float64: sklearn clips probabilities to [eps, 1 - eps] of the input's dtype. */
const EPS = Number.EPSILON;

/** Weighted mean log loss, probabilities clipped to [eps, 1 - eps] as sklearn's `log_loss` does for float64. */
export function logLoss(scores: Values, labels: Values, weights?: Values): number {
  checkLengths(scores, labels, weights);
  let total = 0;
  let weightSum = 0;
  for (let i = 0; i < scores.length; i++) {
    const w = weights ? weights[i]! : 1;
    const p = labels[i] === 1 ? clip(scores[i]!) : clip(1 - scores[i]!);
    total -= w * Math.log(p);
    weightSum += w;
  }
  return weightSum > 0 ? total / weightSum : Number.NaN;
}

/** Weighted mean squared error of the probability (sklearn's `brier_score_loss`). */
export function brierScore(scores: Values, labels: Values, weights?: Values): number {
  checkLengths(scores, labels, weights);
  let total = 0;
  let weightSum = 0;
  for (let i = 0; i < scores.length; i++) {
    const w = weights ? weights[i]! : 1;
    const d = labels[i]! - scores[i]!;
    total += w * d * d;
    weightSum += w;
  }
  return weightSum > 0 ? total / weightSum : Number.NaN;
}

/** Weighted counts at a decision threshold; a score equal to it is predicted positive. `matrix` is sklearn's [[tn, fp], [fn, tp]]. */
export interface ConfusionAtThreshold {
  threshold: number;
  tn: number;
  fp: number;
  fn: number;
  tp: number;
}

export function confusionAt(scores: Values, labels: Values, threshold: number, weights?: Values): ConfusionAtThreshold {
  checkLengths(scores, labels, weights);
  const c = { threshold, tn: 0, fp: 0, fn: 0, tp: 0 };
  for (let i = 0; i < scores.length; i++) {
    const w = weights ? weights[i]! : 1;
    const predicted = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (predicted) c.tp += w;
      else c.fn += w;
    } else if (predicted) c.fp += w;
    else c.tn += w;
  }
  return c;
}

/** Accuracy, precision, recall and F1 from a confusion; a zero denominator gives 0, sklearn's `zero_division` default. */
export function rates(c: ConfusionAtThreshold): { accuracy: number; precision: number; recall: number; f1: number } {
  const total = c.tp + c.tn + c.fp + c.fn;
  const f1Denominator = 2 * c.tp + c.fp + c.fn;
  return {
    accuracy: total > 0 ? (c.tp + c.tn) / total : Number.NaN,
    precision: c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0,
    recall: c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0,
    f1: f1Denominator > 0 ? (2 * c.tp) / f1Denominator : 0,
  };
}

/** One bin of a reliability diagram. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin (sklearn's `prob_pred`). */
  meanPrediction: number;
  /** Share of positives in the bin (sklearn's `prob_true`). */
  fractionPositive: number;
}

/**
 * The reliability curve of `sklearn.calibration.calibration_curve(strategy='uniform')`:
 * `bins` equal-width bins on [0, 1], a probability on an inner edge going to the lower
 * bin; empty bins are left out.
 */
export function calibrationCurve(scores: Values, labels: Values, bins = 10): CalibrationBin[] {
  checkLengths(scores, labels);
  // numpy.linspace(0, 1, bins + 1): edge i is i * (1 / bins).
  const step = 1 / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? 1 : i * step));
  const sums = new Float64Array(bins);
  const trues = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]!;
    let bin = 0;
    while (bin < bins - 1 && edges[bin + 1]! < p) bin++;
    sums[bin]! += p;
    trues[bin]! += labels[i] === 1 ? 1 : 0;
    counts[bin]! += 1;
  }
  const result: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (counts[b] === 0) continue;
    result.push({ lower: edges[b]!, upper: edges[b + 1]!, count: counts[b]!, meanPrediction: sums[b]! / counts[b]!, fractionPositive: trues[b]! / counts[b]! });
  }
  return result;
}

function clip(p: number): number {
  return Math.min(Math.max(p, EPS), 1 - EPS);
}

export function checkLengths(scores: Values, labels: Values, weights?: Values): void {
  if (scores.length !== labels.length || (weights && weights.length !== labels.length)) {
    throw new LoomError('INVALID_ARGUMENT', `${scores.length} predictions, ${labels.length} labels${weights ? ` and ${weights.length} weights` : ''}: they must be as many`);
  }
}
