/**
 * Metrics by task, over one set of predictions: the headline numbers (a flat
 * name -> number record, as evaluation.json and the registry store them) and the plots
 * (curves, confusion matrices, calibration, residuals). Pure: evaluation, slices,
 * bootstrap, monitoring and tests all call these, so each metric has one definition.
 *
 * Usage: `const metrics = taskMetrics({ task: 'binary', scores, labels }); metrics.auc;`
 */
import { LoomError } from '../core/errors.js';
import {
  aucFromCounts,
  averagePrecisionFromCounts,
  calibrationCurve,
  checkLengths,
  confusionAt,
  descendingOrder,
  precisionRecallCurve,
  rates,
  rocCurve,
  thresholdCounts,
  type CalibrationBin,
  type ConfusionAtThreshold,
  type Values,
} from './binary-metrics.js';
import { multiclassMetrics } from './multiclass-metrics.js';
import { histogram, regressionMetrics } from './regression-metrics.js';

export const TASKS = ['binary', 'multiclass', 'regression'] as const;
export type Task = (typeof TASKS)[number];

/** Every metric name each task reports; thresholds may name only these. */
export const METRICS_BY_TASK = {
  binary: ['auc', 'auc_pr', 'log_loss', 'accuracy', 'precision', 'recall', 'f1', 'brier_score', 'positive_rate', 'mean_prediction', 'example_count'],
  multiclass: ['accuracy', 'macro_f1', 'micro_f1', 'log_loss', 'example_count'],
  regression: ['rmse', 'mae', 'r2', 'mape', 'mean_prediction', 'example_count'],
} as const satisfies Record<Task, readonly string[]>;

/** Metrics where a smaller number is a better model. */
const LOWER_IS_BETTER = new Set(['log_loss', 'brier_score', 'rmse', 'mae', 'mape']);
/** Metrics that describe the data, not the model: no direction is better. */
const DESCRIPTIVE = new Set(['positive_rate', 'mean_prediction', 'example_count']);

/** 'higher' or 'lower' is better, or undefined for descriptive numbers (a change threshold on those needs an explicit direction). */
export function metricDirection(metric: string): 'higher' | 'lower' | undefined {
  if (DESCRIPTIVE.has(metric)) return undefined;
  return LOWER_IS_BETTER.has(metric) ? 'lower' : 'higher';
}

/**
 * One model's predictions for a set of rows. `scores` is P(label = 1) for binary, the
 * prediction for regression, and row-major class probabilities (rows x classes) for
 * multiclass. Labels are 0/1, numbers, or class indices.
 */
export interface Predictions {
  task: Task;
  scores: Float64Array;
  labels: Float64Array;
  classes?: number;
  weights?: Float64Array;
}

export interface MetricOptions {
  /** Binary decision threshold for accuracy, precision, recall, F1 and the confusion matrix; default 0.5. */
  threshold?: number;
  /** Bins of the calibration curve and the residual histogram; default 10. */
  bins?: number;
}

/** The headline numbers. `terms` (binary, from `binaryRowTerms`) lets the bootstrap skip the per-row work of each resample. */
export function taskMetrics(p: Predictions, options: MetricOptions = {}, terms?: BinaryRowTerms): Record<string, number> {
  if (p.task === 'binary') return binaryScalars(p.scores, p.labels, options.threshold ?? 0.5, p.weights, terms);
  if (p.task === 'multiclass') {
    const { confusion: _confusion, ...scalars } = multiclassMetrics(p.scores, p.labels, classCount(p), p.weights);
    return { ...scalars };
  }
  return { ...regressionMetrics(p.scores, p.labels, p.weights), mean_prediction: mean(p.scores, p.weights) };
}

/** Curves and tables for the model card and the dashboard. */
export interface MetricPlots {
  roc?: { fpr: number[]; tpr: number[]; thresholds: number[] };
  pr?: { precision: number[]; recall: number[]; thresholds: number[] };
  calibration?: CalibrationBin[];
  confusion?: ConfusionAtThreshold;
  confusionMatrix?: number[][];
  residuals?: { edges: number[]; counts: number[] };
}

export function metricPlots(p: Predictions, options: MetricOptions = {}): MetricPlots {
  const bins = options.bins ?? 10;
  if (p.task === 'binary') {
    return {
      roc: rocCurve(p.scores, p.labels, p.weights),
      pr: precisionRecallCurve(p.scores, p.labels, p.weights),
      calibration: calibrationCurve(p.scores, p.labels, bins),
      confusion: confusionAt(p.scores, p.labels, options.threshold ?? 0.5, p.weights),
    };
  }
  if (p.task === 'multiclass') return { confusionMatrix: multiclassMetrics(p.scores, p.labels, classCount(p), p.weights).confusion };
  const residuals = new Float64Array(p.labels.length);
  for (let i = 0; i < residuals.length; i++) residuals[i] = p.labels[i]! - p.scores[i]!;
  return { residuals: histogram(residuals, bins) };
}

/** The rows `indices` of a set of predictions (a slice, a group, a resample). */
export function subset(p: Predictions, indices: ArrayLike<number>): Predictions {
  const width = p.task === 'multiclass' ? classCount(p) : 1;
  const scores = new Float64Array(indices.length * width);
  const labels = new Float64Array(indices.length);
  const weights = p.weights ? new Float64Array(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    for (let c = 0; c < width; c++) scores[k * width + c] = p.scores[i * width + c]!;
    labels[k] = p.labels[i]!;
    if (weights) weights[k] = p.weights![i]!;
  }
  return { task: p.task, scores, labels, classes: p.classes, weights };
}

/**
 * The per-row parts of the binary metrics that weights do not change: the score order,
 * each row's log loss and squared error, and its decision. The bootstrap computes them
 * once and re-weights them per resample; a plain evaluation computes them once too.
 */
export interface BinaryRowTerms {
  order: Uint32Array;
  logLoss: Float64Array;
  squaredError: Float64Array;
  decision: Uint8Array;
}

export function binaryRowTerms(scores: Values, labels: Values, threshold: number): BinaryRowTerms {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new LoomError('INVALID_ARGUMENT', `label at row ${i} is ${labels[i]}; a binary classifier needs labels 0 or 1`, {
        field: 'labelColumn',
        fix: 'derive a 0/1 (or boolean) label column',
      });
    }
  }
  const n = labels.length;
  const terms = { order: descendingOrder(scores), logLoss: new Float64Array(n), squaredError: new Float64Array(n), decision: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    // sklearn clips probabilities to [eps, 1 - eps] of float64 before the log.
    const p = labels[i] === 1 ? scores[i]! : 1 - scores[i]!;
    terms.logLoss[i] = -Math.log(Math.min(Math.max(p, Number.EPSILON), 1 - Number.EPSILON));
    const d = labels[i]! - scores[i]!;
    terms.squaredError[i] = d * d;
    terms.decision[i] = scores[i]! >= threshold ? 1 : 0;
  }
  return terms;
}

function binaryScalars(scores: Values, labels: Values, threshold: number, weights?: Values, rowTerms?: BinaryRowTerms): Record<string, number> {
  checkLengths(scores, labels, weights);
  const terms = rowTerms ?? binaryRowTerms(scores, labels, threshold);
  const confusion = { threshold, tn: 0, fp: 0, fn: 0, tp: 0 };
  let weightSum = 0;
  let loss = 0;
  let brier = 0;
  let labelSum = 0;
  let scoreSum = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = weights ? weights[i]! : 1;
    weightSum += w;
    loss += w * terms.logLoss[i]!;
    brier += w * terms.squaredError[i]!;
    labelSum += w * labels[i]!;
    scoreSum += w * scores[i]!;
    if (labels[i] === 1) {
      if (terms.decision[i]) confusion.tp += w;
      else confusion.fn += w;
    } else if (terms.decision[i]) confusion.fp += w;
    else confusion.tn += w;
  }
  const counts = thresholdCounts(scores, labels, weights, terms.order);
  const decided = rates(confusion);
  const average = (total: number) => (weightSum > 0 ? total / weightSum : Number.NaN);
  return {
    auc: aucFromCounts(counts),
    auc_pr: averagePrecisionFromCounts(counts),
    log_loss: average(loss),
    accuracy: decided.accuracy,
    precision: decided.precision,
    recall: decided.recall,
    f1: decided.f1,
    brier_score: average(brier),
    positive_rate: average(labelSum),
    mean_prediction: average(scoreSum),
    example_count: labels.length,
  };
}

function mean(values: Values, weights?: Values): number {
  let total = 0;
  let weightSum = 0;
  for (let i = 0; i < values.length; i++) {
    const w = weights ? weights[i]! : 1;
    total += w * values[i]!;
    weightSum += w;
  }
  return weightSum > 0 ? total / weightSum : Number.NaN;
}

function classCount(p: Predictions): number {
  if (!p.classes) throw new LoomError('INVALID_ARGUMENT', 'multiclass predictions need the number of classes', { field: 'classes' });
  return p.classes;
}
