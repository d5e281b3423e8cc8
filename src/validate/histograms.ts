/**
 * The parts of numeric statistics derived from the quantile sketch: median, quantiles and
 * TFDV's two histograms. Computing them from the sketch (not from the rows) is what lets
 * merged statistics recompute them exactly as the statistics of the whole would.
 *
 * - Quantiles and the median: within the sketch's bound (sketch.ts).
 * - Quantile histogram (TFDV's QUANTILES histogram): 10 buckets between consecutive
 *   deciles, each holding a tenth of the values.
 * - Equal-width histogram (TFDV's STANDARD histogram): 10 buckets of equal width between
 *   min and max; each count is interpolated from the sketch, so a bucket boundary may
 *   misplace at most the values of the one sketch bucket (0.5% wide) it cuts.
 */
import { bucketsQuantile, sketchBinCounts, sketchBuckets, sketchCount, type QuantileSketch } from './sketch.js';

export type HistogramBucket = { low: number; high: number; count: number };

/** The quantiles every numeric feature reports. */
export const REPORTED_QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] as const;
/** Buckets of both histograms, as TFDV. */
export const HISTOGRAM_BUCKETS = 10;

export type SketchSummary = {
  median: number;
  quantiles: { q: number; value: number }[];
  histogram: HistogramBucket[];
  quantileHistogram: HistogramBucket[];
};

/** Median, quantiles and histograms of `count` values in [min, max] summarised by `sketch`. */
export function summariseSketch(sketch: QuantileSketch, min: number, max: number, count: number, integer: boolean): SketchSummary {
  if (count === 0) return { median: 0, quantiles: [], histogram: [], quantileHistogram: [] };
  const clamp = { min, max, integer };
  // The buckets and count worked out once for the twenty-odd quantiles and the histogram, not once per quantile.
  const buckets = sketchBuckets(sketch);
  const n = sketchCount(sketch);
  const quantile = (q: number): number => (q === 0 ? min : q === 1 ? max : bucketsQuantile(buckets, n, sketch.relativeAccuracy, q, clamp));
  const deciles = Array.from({ length: HISTOGRAM_BUCKETS + 1 }, (_, i) => quantile(i / HISTOGRAM_BUCKETS));
  const quantileHistogram = deciles.slice(1).map((high, i) => ({ low: deciles[i]!, high, count: count / HISTOGRAM_BUCKETS }));
  let histogram: HistogramBucket[];
  if (min === max) {
    histogram = [{ low: min, high: max, count }];
  } else {
    const width = (max - min) / HISTOGRAM_BUCKETS;
    const edges = Array.from({ length: HISTOGRAM_BUCKETS + 1 }, (_, i) => (i === HISTOGRAM_BUCKETS ? max : min + i * width));
    const counts = sketchBinCounts(buckets, edges, count, integer);
    histogram = counts.map((n, i) => ({ low: edges[i]!, high: edges[i + 1]!, count: round6(n) }));
  }
  return { median: quantile(0.5), quantiles: REPORTED_QUANTILES.map((q) => ({ q, value: quantile(q) })), histogram, quantileHistogram };
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
