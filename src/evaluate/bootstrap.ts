/**
 * Confidence intervals by the bootstrap: resample the rows with replacement (seeded),
 * recompute the headline metrics on each resample, and take percentiles. A resample is
 * expressed as per-row counts used as weights, so the scores are sorted and the per-row
 * losses computed once, and every resample costs a linear pass, not a sort.
 *
 * Usage: `bootstrapIntervals(predictions, { resamples: 200, seed: 1, confidence: 0.95 })`
 */
import { mulberry32 } from '../core/random.js';
import { binaryRowTerms, taskMetrics, type MetricOptions, type Predictions } from './metrics.js';

export interface BootstrapOptions {
  resamples: number;
  seed: number;
  /** Central coverage, e.g. 0.95 for the 2.5th..97.5th percentiles. */
  confidence: number;
}

export interface ConfidenceInterval {
  lower: number;
  upper: number;
  /** Resamples where the metric was defined (AUC needs both classes). */
  resamples: number;
}

/** Intervals for every headline metric except the example count; empty when resamples is 0 or there are no rows. */
export function bootstrapIntervals(p: Predictions, options: BootstrapOptions, metricOptions: MetricOptions = {}): Record<string, ConfidenceInterval> {
  const n = p.labels.length;
  if (options.resamples === 0 || n === 0) return {};
  const random = mulberry32(options.seed);
  const terms = p.task === 'binary' ? binaryRowTerms(p.scores, p.labels, metricOptions.threshold ?? 0.5) : undefined;
  const samples = new Map<string, number[]>();
  const counts = new Float64Array(n);
  for (let r = 0; r < options.resamples; r++) {
    counts.fill(0);
    for (let k = 0; k < n; k++) counts[Math.floor(random() * n)]! += 1;
    const weights = p.weights ? counts.map((c, i) => c * p.weights![i]!) : counts;
    const metrics = taskMetrics({ ...p, weights }, metricOptions, terms);
    for (const [name, value] of Object.entries(metrics)) {
      if (name === 'example_count' || !Number.isFinite(value)) continue;
      const list = samples.get(name);
      if (list) list.push(value);
      else samples.set(name, [value]);
    }
  }
  const tail = ((1 - options.confidence) / 2) * 100;
  const result: Record<string, ConfidenceInterval> = {};
  for (const [name, values] of samples) {
    values.sort((a, b) => a - b);
    result[name] = { lower: percentile(values, tail), upper: percentile(values, 100 - tail), resamples: values.length };
  }
  return result;
}

/** numpy.percentile's default ("linear") interpolation over sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (q / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}
