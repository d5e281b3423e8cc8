/**
 * Regression metrics over predictions and numeric labels, defined as scikit-learn
 * defines them, and a residual histogram binned as `numpy.histogram` bins.
 *
 * Usage: `regressionMetrics(predictions, labels)`
 */
import { checkLengths, type Values } from './binary-metrics.js';

export interface RegressionResult {
  rmse: number;
  mae: number;
  r2: number;
  mape: number;
  example_count: number;
}

export function regressionMetrics(predictions: Values, labels: Values, weights?: Values): RegressionResult {
  checkLengths(predictions, labels, weights);
  let weightSum = 0;
  let labelSum = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = weights ? weights[i]! : 1;
    weightSum += w;
    labelSum += w * labels[i]!;
  }
  const mean = labelSum / weightSum;
  let squared = 0;
  let absolute = 0;
  let percentage = 0;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = weights ? weights[i]! : 1;
    const error = labels[i]! - predictions[i]!;
    squared += w * error * error;
    absolute += w * Math.abs(error);
    // sklearn divides by max(|y|, eps) so a zero label gives a huge, finite term.
    percentage += (w * Math.abs(error)) / Math.max(Math.abs(labels[i]!), Number.EPSILON);
    total += w * (labels[i]! - mean) ** 2;
  }
  // sklearn's force_finite: a constant label scores 1 when predicted exactly, else 0.
  const r2 = total !== 0 ? 1 - squared / total : squared === 0 ? 1 : 0;
  return {
    rmse: Math.sqrt(squared / weightSum),
    mae: absolute / weightSum,
    r2,
    mape: percentage / weightSum,
    example_count: labels.length,
  };
}

/** Counts of values in equal-width bins over [min, max], the last bin closed: `numpy.histogram(values, bins)`. */
export function histogram(values: Values, bins = 10): { edges: number[]; counts: number[] } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    first = Math.min(first, values[i]!);
    last = Math.max(last, values[i]!);
  }
  if (values.length === 0) {
    first = 0;
    last = 1;
  } else if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const step = (last - first) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? last : i * step + first));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // numpy's fast path: scale to a bin, then correct by comparing with the edges.
    let index = Math.trunc(((v - first) / (last - first)) * bins);
    if (index === bins) index--;
    if (v < edges[index]!) index--;
    if (index !== bins - 1 && v >= edges[index + 1]!) index++;
    counts[index]!++;
  }
  return { edges, counts };
}
