/**
 * Gradient histograms and the best split of a leaf (LightGBM's histogram algorithm).
 * A histogram holds, per global bin, the sums of gradient, hessian and row count,
 * interleaved in one Float64Array (stride 3), plus a spare bin that collects the groups
 * whose features are all at default (nobody reads it: adding to it costs less than a
 * branch that cannot be predicted). It is built from the rows' group bins; each feature's
 * default bin is then the leaf total minus the feature's other bins.
 * A sibling's histogram is its parent's minus the other child's (the subtraction trick).
 */
import type { BinnedMatrix } from './binning.js';

export const STRIDE = 3;

export interface LeafTotals {
  gradient: number;
  hessian: number;
  count: number;
}

export interface SplitRules {
  /** Fewest rows a child may have (LightGBM `min_data_in_leaf`). */
  minDataInLeaf: number;
  /** Smallest hessian sum a child may have (`min_sum_hessian_in_leaf`). */
  minSumHessian: number;
  /** L2 penalty on leaf values (`lambda_l2`). */
  lambdaL2: number;
  /** Smallest gain worth a split (`min_gain_to_split`). */
  minGain: number;
}

export interface Split {
  feature: number;
  /** Index (within the feature) of the last value bin that goes left. */
  thresholdBin: number;
  /** Rows with x <= threshold go left. */
  threshold: number;
  /** Whether NaN goes left. */
  missingLeft: boolean;
  /** A categorical split: rows with x == threshold go left, all others right. */
  categorical: boolean;
  gain: number;
  left: LeafTotals;
  right: LeafTotals;
}

/** Length of a histogram's array: every global bin and the spare one, STRIDE numbers each. */
export function histogramLength(binned: BinnedMatrix): number {
  return (binned.totalBins + 1) * STRIDE;
}

/**
 * Adds rows rowIndex[from..to) into `out` (which the caller zeroes) and returns their
 * gradient and hessian sums. The loop every histogram runs; kept free of the matrix object so
 * worker threads (histogram-pool.ts) run it over shared buffers too.
 */
export function accumulateRows(
  bins: Uint16Array | Uint32Array,
  groups: number,
  rowIndex: Uint32Array,
  from: number,
  to: number,
  gradient: Float64Array,
  hessian: Float64Array,
  out: Float64Array,
): [number, number] {
  let g = 0;
  let h = 0;
  for (let k = from; k < to; k++) {
    const i = rowIndex[k];
    const gi = gradient[i];
    const hi = hessian[i];
    g += gi;
    h += hi;
    for (let e = i * groups, stop = e + groups; e < stop; e++) {
      const b = bins[e] * STRIDE;
      out[b] += gi;
      out[b + 1] += hi;
      out[b + 2] += 1;
    }
  }
  return [g, h];
}

/** Each feature's default bin: the leaf totals minus the feature's other bins. */
export function fillDefaultBins(binned: BinnedMatrix, hist: Float64Array, totals: LeafTotals): void {
  for (let f = 0; f < binned.width; f++) {
    let g = totals.gradient;
    let h = totals.hessian;
    let c = totals.count;
    const first = binned.binStart[f];
    const stop = first + binned.binCount[f];
    const skip = binned.defaultBin[f];
    for (let b = first; b < stop; b++) {
      if (b === skip) continue;
      g -= hist[b * STRIDE];
      h -= hist[b * STRIDE + 1];
      c -= hist[b * STRIDE + 2];
    }
    hist[skip * STRIDE] = g;
    hist[skip * STRIDE + 1] = h;
    hist[skip * STRIDE + 2] = c;
  }
}

/** parent - child, written into `out` (which may be `parent`). */
export function subtractHistogram(parent: Float64Array, child: Float64Array, out: Float64Array): void {
  for (let k = 0; k < parent.length; k++) out[k] = parent[k] - child[k];
}

export function leafValue(totals: LeafTotals, rules: SplitRules): number {
  return -totals.gradient / (totals.hessian + rules.lambdaL2);
}

function score(g: number, h: number, lambda: number): number {
  return (g * g) / (h + lambda);
}

/** The split of highest gain over every feature and bin, or undefined if none passes the rules. */
export function findBestSplit(binned: BinnedMatrix, hist: Float64Array, totals: LeafTotals, rules: SplitRules): Split | undefined {
  const parentScore = score(totals.gradient, totals.hessian, rules.lambdaL2);
  let best: Split | undefined;
  for (let f = 0; f < binned.width; f++) {
    if (binned.categorical[f]) {
      best = bestCategorySplit(binned, hist, totals, rules, f, parentScore, best);
      continue;
    }
    const first = binned.binStart[f];
    const valueBins = binned.binCount[f] - 1;
    const nan = (first + valueBins) * STRIDE;
    const nanCount = hist[nan + 2];
    // With NaNs present, try them on each side; otherwise one pass suffices.
    for (const missingLeft of nanCount > 0 ? [false, true] : [false]) {
      let gl = missingLeft ? hist[nan] : 0;
      let hl = missingLeft ? hist[nan + 1] : 0;
      let cl = missingLeft ? nanCount : 0;
      for (let t = 0; t < valueBins - 1; t++) {
        const b = (first + t) * STRIDE;
        gl += hist[b];
        hl += hist[b + 1];
        cl += hist[b + 2];
        if (cl < rules.minDataInLeaf || hl < rules.minSumHessian) continue;
        const cr = totals.count - cl;
        const hr = totals.hessian - hl;
        if (cr < rules.minDataInLeaf) break;
        if (hr < rules.minSumHessian) continue;
        const gr = totals.gradient - gl;
        const gain = score(gl, hl, rules.lambdaL2) + score(gr, hr, rules.lambdaL2) - parentScore;
        if (gain > rules.minGain && (best === undefined || gain > best.gain)) {
          best = {
            feature: f,
            thresholdBin: t,
            threshold: binned.upper[f][t],
            missingLeft,
            categorical: false,
            gain,
            left: { gradient: gl, hessian: hl, count: cl },
            right: { gradient: gr, hessian: hr, count: cr },
          };
        }
      }
    }
  }
  return best;
}

/**
 * One category against the rest (LightGBM's one-hot categorical splits; the ONNX
 * TreeEnsemble's BRANCH_EQ): each category has its own bin, whose value is the category.
 */
function bestCategorySplit(
  binned: BinnedMatrix,
  hist: Float64Array,
  totals: LeafTotals,
  rules: SplitRules,
  f: number,
  parentScore: number,
  best: Split | undefined,
): Split | undefined {
  const first = binned.binStart[f];
  const categories = binned.categoryValues[f];
  for (let t = 0; t < categories.length; t++) {
    const b = (first + t) * STRIDE;
    const gl = hist[b];
    const hl = hist[b + 1];
    const cl = hist[b + 2];
    const cr = totals.count - cl;
    const hr = totals.hessian - hl;
    if (cl < rules.minDataInLeaf || hl < rules.minSumHessian || cr < rules.minDataInLeaf || hr < rules.minSumHessian) continue;
    const gr = totals.gradient - gl;
    const gain = score(gl, hl, rules.lambdaL2) + score(gr, hr, rules.lambdaL2) - parentScore;
    if (gain > rules.minGain && (best === undefined || gain > best.gain)) {
      best = {
        feature: f,
        thresholdBin: t,
        threshold: categories[t],
        missingLeft: false,
        categorical: true,
        gain,
        left: { gradient: gl, hessian: hl, count: cl },
        right: { gradient: gr, hessian: hr, count: cr },
      };
    }
  }
  return best;
}
