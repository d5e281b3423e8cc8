/**
 * Merging statistics: the statistics of two shards of a dataset (same columns) into the
 * statistics of their union, so statistics can be computed in parallel, by workers or per
 * span and combined later.
 *
 * Exact: rowCount, count, missing, zeros, NaN/±inf counts, min, max, mean and std (Chan et
 * al.'s pairwise update of the sum of squared deviations; equal up to float rounding),
 * the quantile sketch (bucket counts add), hence quantiles and histograms equal those of
 * the whole. Strings: when both value lists are `complete` the merged list, unique count
 * and top values are exact; when a list was truncated (more distinct values than
 * `histogramSize`) a value missing from it may be under-counted, so the merged list is
 * marked incomplete and `unique` becomes a lower bound (`uniqueExact: false`).
 *
 * Usage: `const whole = mergeStatistics(await computeStatistics(a), await computeStatistics(b))`
 */
import { LoomError } from '../core/errors.js';
import { summariseSketch } from './histograms.js';
import { mergeSketches } from './sketch.js';
import type { DatasetStatistics, FeatureStatistics, NumericStatistics, StringStatistics, TimestampStatistics } from './statistics.js';

export interface MergeOptions {
  /** Length of the merged `topValues`; default: the longer of the two inputs'. */
  topK?: number;
  /** Length limit of the merged `rankHistogram`; default 1000. */
  histogramSize?: number;
}

/** The statistics of the union of the rows `a` and `b` describe. */
export function mergeStatistics(a: DatasetStatistics, b: DatasetStatistics, options: MergeOptions = {}): DatasetStatistics {
  const names = (s: DatasetStatistics): string => s.features.map((f) => `${f.name}:${f.type}`).join(', ');
  if (names(a) !== names(b)) {
    throw new LoomError('INVALID_ARGUMENT', `cannot merge statistics of different columns: [${names(a)}] and [${names(b)}]`, {
      fix: 'merge statistics of shards of the same dataset',
    });
  }
  return {
    version: a.version,
    rowCount: a.rowCount + b.rowCount,
    features: a.features.map((fa, i) => mergeFeature(fa, b.features[i]!, options)),
  };
}

function mergeFeature(a: FeatureStatistics, b: FeatureStatistics, options: MergeOptions): FeatureStatistics {
  const count = a.count + b.count;
  const merged: FeatureStatistics = { name: a.name, type: a.type, sqlType: a.sqlType, count, missing: a.missing + b.missing };
  if (a.numeric && b.numeric) merged.numeric = mergeNumeric(a.numeric, a.count, b.numeric, b.count, a.type !== 'FLOAT');
  if (a.string && b.string) merged.string = mergeString(a.string, a.count, b.string, b.count, options);
  if (a.timestamp && b.timestamp) merged.timestamp = mergeTimestamp(a.timestamp, b.timestamp);
  return merged;
}

function mergeNumeric(a: NumericStatistics, na: number, b: NumericStatistics, nb: number, integer: boolean): NumericStatistics {
  // A side with no finite values still brings its NaN and infinity counts.
  const nonFinite = { nan: a.nan + b.nan, posInf: a.posInf + b.posInf, negInf: a.negInf + b.negInf };
  if (na === 0) return { ...b, ...nonFinite };
  if (nb === 0) return { ...a, ...nonFinite };
  const n = na + nb;
  const delta = b.mean - a.mean;
  const mean = a.mean + (delta * nb) / n;
  // Chan et al.: M2 = M2a + M2b + δ²·na·nb/n, with M2 = std²·count (population std).
  const m2 = a.std ** 2 * na + b.std ** 2 * nb + (delta * delta * na * nb) / n;
  const min = Math.min(a.min, b.min);
  const max = Math.max(a.max, b.max);
  const sketch = mergeSketches(a.sketch, b.sketch);
  return {
    mean,
    std: Math.sqrt(Math.max(0, m2 / n)),
    min,
    max,
    zeros: a.zeros + b.zeros,
    nan: a.nan + b.nan,
    posInf: a.posInf + b.posInf,
    negInf: a.negInf + b.negInf,
    ...summariseSketch(sketch, min, max, n, integer),
    sketch,
  };
}

function mergeString(a: StringStatistics, na: number, b: StringStatistics, nb: number, options: MergeOptions): StringStatistics {
  const limit = options.histogramSize ?? 1000;
  const topK = options.topK ?? Math.max(a.topValues.length, b.topValues.length, 1);
  const counts = new Map<string, number>();
  for (const v of [...a.rankHistogram, ...b.rankHistogram]) counts.set(v.value, (counts.get(v.value) ?? 0) + v.count);
  const all = [...counts].map(([value, count]) => ({ value, count })).sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
  const inputsComplete = a.complete && b.complete;
  const rankHistogram = all.slice(0, limit);
  const unique = inputsComplete ? all.length : Math.max(a.unique, b.unique, all.length);
  const n = na + nb;
  return {
    unique,
    uniqueExact: inputsComplete && a.uniqueExact && b.uniqueExact,
    topValues: rankHistogram.slice(0, topK),
    rankHistogram,
    complete: inputsComplete && rankHistogram.length === all.length,
    avgLength: n === 0 ? 0 : (a.avgLength * na + b.avgLength * nb) / n,
  };
}

function mergeTimestamp(a: TimestampStatistics, b: TimestampStatistics): TimestampStatistics {
  // ISO strings of one format order as their instants.
  const pick = (x: string | null, y: string | null, first: boolean): string | null => (x === null ? y : y === null ? x : (x < y) === first ? x : y);
  return { min: pick(a.min, b.min, true), max: pick(a.max, b.max, false) };
}
