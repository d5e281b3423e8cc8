/**
 * Distances and tests between two distributions, as TFDV and Evidently define them. Pure
 * functions over counts (categories or bins) or over quantile-sketch buckets; drift.ts
 * decides which inputs each feature gets.
 *
 * - `linfDistance`: max over values of |p − q| on the normalised counts (TFDV, categories).
 * - `jensenShannonDivergence`: ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2, log base 2, in [0, 1] (TFDV).
 * - `populationStabilityIndex`: Σ (p − q)·ln(p/q), zero shares replaced by 0.0001 (Evidently).
 * - `chiSquaredTest`: Pearson's χ² of the current counts against the reference shares
 *   scaled to the current total, df = categories − 1, p-value from the χ² survival
 *   function (Evidently's `chisquare` test, SciPy's `chisquare`); a category the reference
 *   never had makes χ² infinite and p 0. `chiSquaredBounds` bounds it for counts known
 *   only within intervals.
 * - `ksTest`: two-sample Kolmogorov–Smirnov statistic D = max |F₁ − F₂| with the asymptotic
 *   p-value (Stephens' small-sample correction of the Kolmogorov distribution).
 * - `wassersteinDistance`: ∫ |F₁ − F₂| dx (Evidently normalises it by the reference std).
 */
import type { SketchBucket } from './sketch.js';

/** Evidently replaces empty shares by this before PSI. */
export const PSI_EMPTY_SHARE = 0.0001;

function normalise(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

export function linfDistance(reference: number[], current: number[]): number {
  const p = normalise(reference);
  const q = normalise(current);
  return p.reduce((max, pi, i) => Math.max(max, Math.abs(pi - q[i]!)), 0);
}

export function jensenShannonDivergence(reference: number[], current: number[]): number {
  const p = normalise(reference);
  const q = normalise(current);
  let divergence = 0;
  p.forEach((pi, i) => {
    const qi = q[i]!;
    const m = (pi + qi) / 2;
    if (pi > 0) divergence += 0.5 * pi * Math.log2(pi / m);
    if (qi > 0) divergence += 0.5 * qi * Math.log2(qi / m);
  });
  return Math.max(0, divergence);
}

export function populationStabilityIndex(reference: number[], current: number[]): number {
  const p = normalise(reference).map((x) => (x === 0 ? PSI_EMPTY_SHARE : x));
  const q = normalise(current).map((x) => (x === 0 ? PSI_EMPTY_SHARE : x));
  return p.reduce((sum, pi, i) => sum + (pi - q[i]!) * Math.log(pi / q[i]!), 0);
}

export function chiSquaredTest(reference: number[], current: number[]): { statistic: number; pValue: number } {
  const refTotal = reference.reduce((a, b) => a + b, 0);
  const curTotal = current.reduce((a, b) => a + b, 0);
  let statistic = 0;
  let categories = 0;
  reference.forEach((r, i) => {
    const observed = current[i]!;
    const expected = refTotal > 0 ? (r * curTotal) / refTotal : 0;
    if (expected === 0 && observed === 0) return;
    categories++;
    // A category the reference never had makes χ² infinite (p = 0), as SciPy's `chisquare`.
    statistic += expected === 0 ? Number.POSITIVE_INFINITY : (observed - expected) ** 2 / expected;
  });
  const df = categories - 1;
  if (df < 1) return { statistic, pValue: 1 };
  return { statistic, pValue: chiSquaredSurvival(statistic, df) };
}

/** P(χ²_df ≥ x): 0 for an infinite statistic. */
export function chiSquaredSurvival(x: number, df: number): number {
  return x === Number.POSITIVE_INFINITY ? 0 : gammaQ(df / 2, x / 2);
}

/**
 * Bounds on Pearson's χ² (as `chiSquaredTest`) when each count is only known to lie in
 * [low, high] (bins counted from a quantile sketch): each bin's term is bounded on its own,
 * which only widens the interval (the bins' counts are tied by their totals). A term
 * (o − e)²/e is convex in (o, e), so its largest value is at a corner of the box and its
 * smallest is 0 when the ranges of o and e meet, else at the nearest corner.
 */
export function chiSquaredBounds(
  reference: { low: number[]; high: number[] },
  current: { low: number[]; high: number[] },
  refTotal: number,
  curTotal: number,
): { statistic: [number, number]; df: number } {
  const scale = refTotal > 0 ? curTotal / refTotal : 0;
  let min = 0;
  let max = 0;
  let categories = 0;
  const term = (o: number, e: number) => (e === 0 ? (o === 0 ? 0 : Number.POSITIVE_INFINITY) : (o - e) ** 2 / e);
  reference.low.forEach((_, i) => {
    const [eLow, eHigh] = [reference.low[i]! * scale, reference.high[i]! * scale];
    const [oLow, oHigh] = [current.low[i]!, current.high[i]!];
    if (eHigh === 0 && oHigh === 0) return;
    categories++;
    max += Math.max(term(oLow, eLow), term(oLow, eHigh), term(oHigh, eLow), term(oHigh, eHigh));
    if (oLow > eHigh) min += term(oLow, eHigh);
    else if (oHigh < eLow) min += term(oHigh, eLow);
  });
  return { statistic: [min, max], df: categories - 1 };
}

/** KS over two sketches' buckets on the same grid: D is evaluated at every bucket bound. */
export function ksTest(reference: SketchBucket[], current: SketchBucket[]): { statistic: number; pValue: number } {
  const n = total(reference);
  const m = total(current);
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  const grid = gridOf(reference, current);
  const f = cdfOnGrid(reference, grid);
  const g = cdfOnGrid(current, grid);
  let d = 0;
  grid.forEach((_, i) => (d = Math.max(d, Math.abs(f[i]! / n - g[i]! / m))));
  const en = (n * m) / (n + m);
  const sqrtEn = Math.sqrt(en);
  return { statistic: d, pValue: kolmogorovQ((sqrtEn + 0.12 + 0.11 / sqrtEn) * d) };
}

/** ∫|F₁ − F₂| dx with both CDFs linear inside sketch buckets; exact for those CDFs. */
export function wassersteinDistance(reference: SketchBucket[], current: SketchBucket[]): number {
  const n = total(reference);
  const m = total(current);
  if (n === 0 || m === 0) return 0;
  const grid = gridOf(reference, current);
  const f = cdfOnGrid(reference, grid);
  const g = cdfOnGrid(current, grid);
  let area = 0;
  let previousX = grid[0]!;
  let previousD = f[0]! / n - g[0]! / m;
  for (let i = 1; i < grid.length; i++) {
    const x = grid[i]!;
    const d = f[i]! / n - g[i]! / m;
    const width = x - previousX;
    // Linear in between: a sign change splits the trapezoid into two triangles.
    area += previousD * d >= 0 ? (width * (Math.abs(previousD) + Math.abs(d))) / 2 : (width * (previousD ** 2 + d ** 2)) / (2 * (Math.abs(previousD) + Math.abs(d)));
    previousX = x;
    previousD = d;
  }
  return area;
}

function total(buckets: SketchBucket[]): number {
  return buckets.reduce((sum, b) => sum + b.count, 0);
}

/** The CDF (count ≤ x) at each point of a sorted grid, in one sweep; linear inside buckets. */
function cdfOnGrid(buckets: SketchBucket[], grid: number[]): number[] {
  const out: number[] = [];
  let j = 0;
  let below = 0;
  for (const x of grid) {
    while (j < buckets.length && buckets[j]!.hi <= x) below += buckets[j++]!.count;
    const b = buckets[j];
    out.push(b && b.lo < x ? below + (b.count * (x - b.lo)) / (b.hi - b.lo) : below);
  }
  return out;
}

function gridOf(a: SketchBucket[], b: SketchBucket[]): number[] {
  return [...new Set([...a, ...b].flatMap((bucket) => [bucket.lo, bucket.hi]))].sort((x, y) => x - y);
}

/** Kolmogorov's survival function Q(λ) = 2 Σ (−1)^(j−1) e^(−2j²λ²). */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (j % 2 === 1 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/** The regularised upper incomplete gamma function Q(a, x) (Numerical Recipes' series and continued fraction). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPrefix) * h);
}

/** ln Γ(x), Lanczos approximation (g = 7, n = 9). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}
