/**
 * Drift (this span against the previous one) and skew (training against serving data),
 * measured per feature from statistics alone, by the comparator the schema names.
 *
 * How each measure is computed from statistics:
 * - Strings: categories are the values of both rank histograms, exact whenever the
 *   histograms are `complete` (at most `histogramSize` distinct values); otherwise the
 *   rows outside them form one extra "other" category.
 * - Numbers, binned measures (linf, jensen_shannon, psi, chi_squared): Evidently's bins,
 *   Sturges' rule (⌈log₂(n₁ + n₂)⌉ + 1 equal-width bins) over the joint [min, max]; each
 *   bin count is read from the quantile sketch, interpolating inside the one sketch bucket
 *   (0.5% wide) that a bin edge cuts (by the integers it holds, for INT and BOOL features:
 *   exact below 100 in magnitude).
 * - Numbers, ks and wasserstein: from the two quantile sketches, which share one bucket
 *   grid; the CDFs are linear inside each bucket. KS's D is evaluated at every bucket bound
 *   (exact for integers below 100, which get a bucket each); Wasserstein is ∫|F₁ − F₂|
 *   over the grid, divided by the baseline's std (Evidently's normalisation; by 1 when the
 *   std is 0).
 * - χ² of numbers is sensitive to bin counts that interpolation only approximates (on
 *   flights `distance`, January against March, 108.9 interpolated against 1,828 exact), so
 *   it is never computed from interpolated counts: the caller gives exact bin counts on
 *   `numericBinEdges` (monitoring counts them in the rows, `exactBinCounts`), or the counts
 *   are bounded from the sketch (`sketchBinCountBounds`), χ² is bounded in turn, and the
 *   result carries its `bounds`; where the p-value bounds straddle the threshold the test
 *   decides nothing, and is reported `inconclusive` with no value (NaN).
 * - Given exact bin counts, every binned measure (linf, jensen_shannon, psi, chi_squared)
 *   uses them instead of the sketch.
 * `value` is what the threshold applies to: a distance (drift when above) or, for ks and
 * chi_squared, a p-value (drift when below). An infinite χ² (a category the baseline never
 * had) is p = 0 with `statistic` left out (JSON has no infinity) and a `note` saying why.
 *
 * The baseline is the reference: the previous span for drift, the training data for skew.
 *
 * Usage: `const comparisons = compareStatistics(feb, jan, schema, 'drift')`
 */
import {
  chiSquaredBounds,
  chiSquaredSurvival,
  chiSquaredTest,
  jensenShannonDivergence,
  ksTest,
  linfDistance,
  populationStabilityIndex,
  wassersteinDistance,
} from './distance.js';
import { DEFAULT_THRESHOLDS, type Comparator, type DriftMeasure, type Schema } from './schema.js';
import { sketchBinCountBounds, sketchBinCounts, sketchBuckets } from './sketch.js';
import type { DatasetStatistics, FeatureStatistics, StringStatistics } from './statistics.js';

export type ComparisonKind = 'drift' | 'skew';

export type FeatureComparison = {
  feature: string;
  kind: ComparisonKind;
  measure: DriftMeasure;
  /** The distance, or the p-value for ks and chi_squared. */
  value: number;
  threshold: number;
  /** The test statistic behind a p-value (KS's D, χ²). */
  statistic?: number;
  /** Whether `value` is past `threshold`. */
  exceeded: boolean;
  /** For a χ² from sketch counts: the intervals the statistic and the p-value lie in. */
  bounds?: { statistic: [number, number]; value: [number, number] };
  /** The bounds straddle the threshold: no verdict, and `value` is NaN. */
  inconclusive?: boolean;
  /** Why a statistic is left out or a value is special. */
  note?: string;
};

/** Exact counts per numeric feature on `numericBinEdges`: [baseline, current]. */
export type ExactBinCounts = ReadonlyMap<string, [number[], number[]]>;

const P_VALUE_MEASURES: readonly string[] = ['ks', 'chi_squared'];

/** Whether a measure is a statistical test whose `value` is its p-value (small means drift). */
export function isPValueMeasure(measure: string): boolean {
  return P_VALUE_MEASURES.includes(measure);
}

/**
 * Compares `current` with `baseline` for every schema feature with a `kind` comparator
 * present in both (with the same type), skipping features not in `environment`.
 */
export function compareStatistics(
  current: DatasetStatistics,
  baseline: DatasetStatistics,
  schema: Schema,
  kind: ComparisonKind,
  environment?: string,
  options: { exactBins?: ExactBinCounts } = {},
): FeatureComparison[] {
  const now = new Map(current.features.map((f) => [f.name, f]));
  const before = new Map(baseline.features.map((f) => [f.name, f]));
  const comparisons: FeatureComparison[] = [];
  for (const feature of schema.features) {
    const comparator = feature[kind];
    if (!comparator) continue;
    if (environment !== undefined && feature.notInEnvironment?.includes(environment)) continue;
    // Skew compares training with serving data: a feature absent in serving has no skew.
    if (kind === 'skew' && feature.notInEnvironment?.includes('SERVING')) continue;
    const a = now.get(feature.name);
    const b = before.get(feature.name);
    if (!a || !b || a.type !== b.type) continue;
    const result = compareFeature(a, b, comparator, options.exactBins?.get(feature.name));
    if (result) comparisons.push({ feature: feature.name, kind, ...result });
  }
  return comparisons;
}

/** One feature's measure; undefined when either side has no values to compare. */
export function compareFeature(
  current: FeatureStatistics,
  baseline: FeatureStatistics,
  comparator: Comparator,
  exactBins?: [number[], number[]],
): Omit<FeatureComparison, 'feature' | 'kind'> | undefined {
  if (current.count === 0 || baseline.count === 0) return undefined;
  const { measure } = comparator;
  const threshold = comparator.threshold ?? DEFAULT_THRESHOLDS[measure];
  let value: number;
  let statistic: number | undefined;
  if (measure === 'ks' || measure === 'wasserstein') {
    if (!current.numeric || !baseline.numeric) return undefined;
    const ref = sketchBuckets(baseline.numeric.sketch);
    const cur = sketchBuckets(current.numeric.sketch);
    if (measure === 'ks') {
      const test = ksTest(ref, cur);
      value = test.pValue;
      statistic = test.statistic;
    } else {
      const std = baseline.numeric.std;
      value = wassersteinDistance(ref, cur) / (std > 0 ? std : 1);
    }
  } else if (measure === 'chi_squared' && current.numeric && baseline.numeric && !exactBins) {
    return boundedChiSquared(current, baseline, threshold);
  } else {
    const counts = exactBins ?? distributions(current, baseline);
    if (!counts) return undefined;
    const [ref, cur] = counts;
    if (measure === 'linf') value = linfDistance(ref, cur);
    else if (measure === 'jensen_shannon') value = jensenShannonDivergence(ref, cur);
    else if (measure === 'psi') value = populationStabilityIndex(ref, cur);
    else {
      const test = chiSquaredTest(ref, cur);
      value = test.pValue;
      statistic = test.statistic;
    }
  }
  const exceeded = isPValueMeasure(measure) ? value < threshold : value > threshold;
  if (statistic === Number.POSITIVE_INFINITY) {
    return { measure, value, threshold, exceeded, note: 'values the baseline never had: χ² is infinite' };
  }
  return { measure, value, threshold, ...(statistic === undefined ? {} : { statistic }), exceeded };
}

/**
 * The bin edges binned measures use for a numeric feature, as NumPy's
 * `histogram_bin_edges(both, 'sturges')`: ⌈log₂ n⌉ + 1 bins of equal width over the joint
 * [min, max], edge i at min + i·width and the last at max exactly (`linspace`).
 */
export function numericBinEdges(current: FeatureStatistics, baseline: FeatureStatistics): number[] | undefined {
  if (!current.numeric || !baseline.numeric || current.count === 0 || baseline.count === 0) return undefined;
  const min = Math.min(current.numeric.min, baseline.numeric.min);
  const max = Math.max(current.numeric.max, baseline.numeric.max);
  if (min === max) return [min, max];
  const bins = Math.ceil(Math.log2(current.count + baseline.count)) + 1;
  const step = (max - min) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : i * step + min));
}

/** χ² of a numeric feature from the two sketches: exact when the sketch decides every bin, else bounded. */
function boundedChiSquared(current: FeatureStatistics, baseline: FeatureStatistics, threshold: number): Omit<FeatureComparison, 'feature' | 'kind'> {
  const edges = numericBinEdges(current, baseline)!;
  const integer = current.type !== 'FLOAT' && baseline.type !== 'FLOAT';
  const ref = sketchBinCountBounds(sketchBuckets(baseline.numeric!.sketch), edges, integer);
  const cur = sketchBinCountBounds(sketchBuckets(current.numeric!.sketch), edges, integer);
  const { statistic, df } = chiSquaredBounds(ref, cur, baseline.count, current.count);
  const measure = 'chi_squared';
  if (df < 1) return { measure, value: 1, threshold, statistic: 0, exceeded: false };
  const value: [number, number] = [chiSquaredSurvival(statistic[1], df), chiSquaredSurvival(statistic[0], df)];
  if (statistic[0] === statistic[1]) {
    const exceeded = value[0] < threshold;
    if (statistic[0] === Number.POSITIVE_INFINITY) return { measure, value: 0, threshold, exceeded, note: 'values the baseline never had: χ² is infinite' };
    return { measure, value: value[0], threshold, statistic: statistic[0], exceeded };
  }
  const bounds = { statistic, value };
  if (value[1] < threshold) return { measure, value: value[1], threshold, exceeded: true, bounds, note: 'χ² from the sketch: the p-value is at most this' };
  if (value[0] >= threshold) return { measure, value: value[0], threshold, exceeded: false, bounds, note: 'χ² from the sketch: the p-value is at least this' };
  return { measure, value: Number.NaN, threshold, exceeded: false, bounds, inconclusive: true, note: 'χ² from the sketch is too loose to decide; compare the rows (loom monitor does)' };
}

/** Aligned [baseline, current] counts: categories for strings, Sturges bins for numbers. */
function distributions(current: FeatureStatistics, baseline: FeatureStatistics): [number[], number[]] | undefined {
  if (current.string && baseline.string) {
    const values = [...new Set([...baseline.string.rankHistogram, ...current.string.rankHistogram].map((v) => v.value))];
    const ref = categoryCounts(baseline.string, baseline.count, values);
    const cur = categoryCounts(current.string, current.count, values);
    return [ref, cur];
  }
  if (current.numeric && baseline.numeric) {
    const edges = numericBinEdges(current, baseline)!;
    if (edges.length === 2 && edges[0] === edges[1]) return [[baseline.count], [current.count]];
    const integer = current.type !== 'FLOAT' && baseline.type !== 'FLOAT';
    return [
      sketchBinCounts(sketchBuckets(baseline.numeric.sketch), edges, baseline.count, integer),
      sketchBinCounts(sketchBuckets(current.numeric.sketch), edges, current.count, integer),
    ];
  }
  return undefined;
}

function categoryCounts(stats: StringStatistics, count: number, values: string[]): number[] {
  const byValue = new Map(stats.rankHistogram.map((v) => [v.value, v.count]));
  const listed = values.map((v) => byValue.get(v) ?? 0);
  // Rows whose value is outside the (truncated) histogram: one "other" category.
  const other = count - stats.rankHistogram.reduce((sum, v) => sum + v.count, 0);
  return [...listed, Math.max(0, other)];
}
