/**
 * The quantile sketch of a numeric feature: a DDSketch-style log-bucketed histogram,
 * computed in SQL (one integer bucket key per value, counted by GROUP BY) and merged by
 * adding counts, so shard sketches merge into exactly the sketch of the whole.
 *
 * Buckets: a positive value x falls in bucket k = ceil(log_γ x), i.e. x ∈ (γ^(k-1), γ^k],
 * with γ = (1 + α)/(1 − α); negative values mirror that; |x| ≤ 1e-9 falls in the zero
 * bucket. Each bucket is represented by 2γ^k/(γ + 1), within relative distance α of every
 * value in it.
 *
 * Error bound (deterministic, any data, any merge order): the quantile estimate for q is
 * the representative of the bucket holding the exact quantile, the smallest value x with
 * F(x) ≥ q (0-based rank ⌈q·n⌉ − 1; DuckDB's `quantile_disc`), so
 * |estimate − exact| ≤ α·|exact| (α = 0.005: 0.5%), or ≤ 1e-9 for values within 1e-9 of
 * zero. Estimates are clamped to [min, max] (which only tightens them), and for INT
 * features rounded when the bound is below ½, which makes them exact there.
 * Size: at most one bucket per distinct key; keys span ⌈ln(1e308/1e-9)/ln γ⌉ ≈ 73k per
 * sign in the worst case, and typical data uses a few hundred to a few thousand.
 *
 * Usage: `sketchQuantile(stat.numeric.sketch, 0.5)`
 */

/** Relative accuracy α of every sketch Loom writes. */
export const SKETCH_RELATIVE_ACCURACY = 0.005;
const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
/** Magnitudes at or below this fall in the zero bucket. */
export const SKETCH_MIN_MAGNITUDE = 1e-9;
// SQL keys are one signed integer: 0 is the zero bucket, ±(k + OFFSET) a bucket of that sign.
const OFFSET = 1_000_000;

/** Bucket counts, sorted by key; `positive` holds keys k of buckets (γ^(k-1), γ^k], `negative` those of the magnitudes. */
export type QuantileSketch = {
  relativeAccuracy: number;
  zeroCount: number;
  positive: [number, number][];
  negative: [number, number][];
};

/** A bucket in value order with its bounds (lo, hi] and count. */
export type SketchBucket = { lo: number; hi: number; count: number };

/** The SQL expression of the bucket key of a finite DOUBLE expression (NULL stays NULL). */
export function sketchKeySql(value: string): string {
  const inv = 1 / LN_GAMMA;
  return (
    `CASE WHEN ${value} > ${SKETCH_MIN_MAGNITUDE} THEN ceil(ln(${value}) * ${inv})::INTEGER + ${OFFSET} ` +
    `WHEN ${value} < -${SKETCH_MIN_MAGNITUDE} THEN -(ceil(ln(-${value}) * ${inv})::INTEGER + ${OFFSET}) ` +
    `WHEN ${value} IS NOT NULL THEN 0 END`
  );
}

/** A sketch from `(SQL key, count)` pairs as the query returns them. */
export function sketchFromKeyCounts(pairs: Iterable<[number, number]>): QuantileSketch {
  const sketch: QuantileSketch = { relativeAccuracy: SKETCH_RELATIVE_ACCURACY, zeroCount: 0, positive: [], negative: [] };
  for (const [key, count] of pairs) {
    if (key === 0) sketch.zeroCount += count;
    else if (key > 0) sketch.positive.push([key - OFFSET, count]);
    else sketch.negative.push([-key - OFFSET, count]);
  }
  sketch.positive.sort((a, b) => a[0] - b[0]);
  sketch.negative.sort((a, b) => a[0] - b[0]);
  return sketch;
}

export function emptySketch(): QuantileSketch {
  return { relativeAccuracy: SKETCH_RELATIVE_ACCURACY, zeroCount: 0, positive: [], negative: [] };
}

/** The sketch of the union of both inputs' values: counts added bucket by bucket. */
export function mergeSketches(a: QuantileSketch, b: QuantileSketch): QuantileSketch {
  if (a.relativeAccuracy !== b.relativeAccuracy) {
    throw new Error(`cannot merge sketches of relative accuracy ${a.relativeAccuracy} and ${b.relativeAccuracy}`);
  }
  return { relativeAccuracy: a.relativeAccuracy, zeroCount: a.zeroCount + b.zeroCount, positive: addBins(a.positive, b.positive), negative: addBins(a.negative, b.negative) };
}

function addBins(a: [number, number][], b: [number, number][]): [number, number][] {
  const sums = new Map<number, number>(a.map(([k, n]) => [k, n]));
  for (const [k, n] of b) sums.set(k, (sums.get(k) ?? 0) + n);
  return [...sums].sort((x, y) => x[0] - y[0]);
}

export function sketchCount(sketch: QuantileSketch): number {
  let n = sketch.zeroCount;
  for (const [, c] of sketch.positive) n += c;
  for (const [, c] of sketch.negative) n += c;
  return n;
}

/** Every non-empty bucket in increasing value order, with its bounds. */
export function sketchBuckets(sketch: QuantileSketch): SketchBucket[] {
  const gamma = (1 + sketch.relativeAccuracy) / (1 - sketch.relativeAccuracy);
  const buckets: SketchBucket[] = [];
  for (let i = sketch.negative.length - 1; i >= 0; i--) {
    const [k, count] = sketch.negative[i]!;
    buckets.push({ lo: -(gamma ** k), hi: -(gamma ** (k - 1)), count });
  }
  if (sketch.zeroCount > 0) buckets.push({ lo: -SKETCH_MIN_MAGNITUDE, hi: SKETCH_MIN_MAGNITUDE, count: sketch.zeroCount });
  for (const [k, count] of sketch.positive) buckets.push({ lo: gamma ** (k - 1), hi: gamma ** k, count });
  return buckets;
}

/**
 * The value of quantile `q` (0..1), within the bound above; NaN for an empty sketch.
 * `min`/`max` clamp the estimate; `integer` rounds it where that makes it exact.
 */
export function sketchQuantile(sketch: QuantileSketch, q: number, clamp?: QuantileClamp): number {
  return bucketsQuantile(sketchBuckets(sketch), sketchCount(sketch), sketch.relativeAccuracy, q, clamp);
}

/** How `sketchQuantile` clamps and rounds its estimate. */
export interface QuantileClamp {
  min: number;
  max: number;
  integer?: boolean;
}

/**
 * `sketchQuantile` of a sketch given as its buckets (`sketchBuckets`), its count
 * (`sketchCount`) and its relative accuracy: for a caller taking many quantiles of one
 * sketch, which works the buckets out once (each is two powers).
 */
export function bucketsQuantile(buckets: readonly SketchBucket[], n: number, alpha: number, q: number, clamp?: QuantileClamp): number {
  if (n === 0) return Number.NaN;
  const rank = Math.max(0, Math.ceil(Math.min(Math.max(q, 0), 1) * n) - 1);
  const gamma = (1 + alpha) / (1 - alpha);
  let seen = 0;
  let estimate = 0;
  for (const bucket of buckets) {
    seen += bucket.count;
    if (seen > rank) {
      // Zero bucket: 0; otherwise the representative 2γ^k/(γ+1) with the bucket's sign.
      estimate = bucket.hi <= SKETCH_MIN_MAGNITUDE && bucket.lo >= -SKETCH_MIN_MAGNITUDE ? 0 : bucket.hi > 0 ? (2 * bucket.hi) / (gamma + 1) : (2 * bucket.lo) / (gamma + 1);
      break;
    }
  }
  if (clamp) {
    estimate = Math.min(Math.max(estimate, clamp.min), clamp.max);
    // |estimate - exact| ≤ α|exact| < ½ means the nearest integer is the exact value.
    if (clamp.integer && (Math.abs(estimate) * alpha) / (1 - alpha) < 0.5) estimate = Math.round(estimate);
  }
  return estimate;
}

/**
 * The number of values ≤ x, interpolating linearly inside the bucket that straddles x
 * (the error is at most that bucket's count). With `integer` the values are known to be
 * whole numbers: the straddling bucket's share is that of the integers it holds up to x,
 * which is exact for buckets holding one integer (all magnitudes below 1/(2α) = 100).
 */
export function sketchCdf(buckets: SketchBucket[], x: number, integer = false): number {
  let below = 0;
  for (const bucket of buckets) {
    if (bucket.hi <= x) below += bucket.count;
    else if (bucket.lo < x) below += bucket.count * straddledShare(bucket, x, integer);
    else break;
  }
  return below;
}

function straddledShare(bucket: SketchBucket, x: number, integer: boolean): number {
  if (!integer) return (x - bucket.lo) / (bucket.hi - bucket.lo);
  const all = Math.floor(bucket.hi) - Math.floor(bucket.lo);
  return all > 0 ? (Math.floor(x) - Math.floor(bucket.lo)) / all : 0;
}

/**
 * Counts of values in each bin [edges[i], edges[i+1]) (the last bin closed on the right,
 * as numpy's histogram), from the sketch; values outside the edges land in the end bins.
 */
export function sketchBinCounts(buckets: SketchBucket[], edges: number[], total: number, integer = false): number[] {
  const counts: number[] = [];
  let previous = 0;
  for (let i = 1; i < edges.length; i++) {
    const edge = edges[i]!;
    // Values below the edge: for integers, those ≤ ⌈edge⌉ − 1.
    const upTo = i === edges.length - 1 ? total : sketchCdf(buckets, integer ? Math.ceil(edge) - 1 : edge, integer);
    counts.push(Math.max(0, upTo - previous));
    previous = upTo;
  }
  return counts;
}

/**
 * Bounds on the counts of values in each bin (bins as `sketchBinCounts`): `low` counts the
 * values that are certainly in the bin (their sketch bucket lies inside it), `high` adds
 * the values that may be (their bucket straddles one of the bin's edges). Where the two
 * agree the count is exact: buckets that fit in a bin, and for integers buckets holding
 * integers of one bin only.
 */
export function sketchBinCountBounds(buckets: SketchBucket[], edges: number[], integer = false): { low: number[]; high: number[] } {
  const bins = edges.length - 1;
  const low = new Array<number>(bins).fill(0);
  const high = new Array<number>(bins).fill(0);
  // The bin holding x: [e_i, e_{i+1}), the last closed, values outside in the end bins.
  const binOf = (x: number): number => {
    let i = 0;
    while (i < bins - 1 && edges[i + 1]! <= x) i++;
    return i;
  };
  for (const bucket of buckets) {
    // Values in (lo, hi]; for integers the whole numbers in there.
    const first = integer ? binOf(Math.floor(bucket.lo) + 1) : binOf(bucket.lo === bucket.hi ? bucket.lo : nextUp(bucket.lo));
    const last = binOf(integer ? Math.floor(bucket.hi) : bucket.hi);
    if (first === last) low[first]! += bucket.count;
    for (let i = first; i <= last; i++) high[i]! += bucket.count;
  }
  return { low, high };
}

/** The smallest double above x (values in a bucket are above its lower bound). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}
