/**
 * Rows in score order, the sort under every ranking metric (AUC, curves, CBPE's estimate and
 * calibration): a stable least-significant-digit radix sort of the scores' bits, so ties keep
 * row order as sklearn's stable sort does.
 *
 * Usage: `const order = descendingOrder(scores); // row indexes, highest score first`
 */
/** Numbers in, by row (what binary-metrics calls `Values`). */
type Values = ArrayLike<number>;

/** Row indices by score, highest first; ties keep row order (a stable sort, like sklearn's). */
export function descendingOrder(scores: Values): Uint32Array {
  return ascendingOrder(Float64Array.from(scores, (score) => -score));
}

/**
 * Row indexes by ascending score, ties in row order: the order a stable comparator sort
 * gives (NaN last, −0 tied with 0), from a least-significant-digit radix sort of the
 * scores' bits (up to eight stable passes of a byte; several times faster on a million rows
 * than a native sort plus placing each row, which is what a monitoring window's
 * calibration and AUC sort).
 */
export function ascendingOrder(scores: Values): Uint32Array {
  const n = scores.length;
  let [high, low] = sortableBits(scores);
  const passes = digitCounts(high, low);
  // Each pass moves the keys with the rows, so the next reads them in order (the cache's way); a key no later pass reads stays put.
  let order: Uint32Array = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let [nextHigh, nextLow, nextOrder]: Uint32Array[] = [new Uint32Array(n), new Uint32Array(n), new Uint32Array(n)];
  for (let p = 0; p < passes.length; p++) {
    const { pass, starts } = passes[p]!;
    const word = pass < 4 ? low : high;
    const shift = (pass % 4) * 8;
    const moveLow = passes.slice(p + 1).some((later) => later.pass < 4);
    const moveHigh = p < passes.length - 1;
    for (let k = 0; k < n; k++) {
      const to = starts[(word[k]! >>> shift) & MASK]!++;
      if (moveHigh) nextHigh[to] = high[k]!;
      if (moveLow) nextLow[to] = low[k]!;
      nextOrder[to] = order[k]!;
    }
    [high, low, order, nextHigh, nextLow, nextOrder] = [nextHigh, nextLow, nextOrder, high, low, order];
  }
  return order;
}

/**
 * Every byte's counts from one read of the keys, as each pass's first position per digit
 * (byte 0 the lowest of `low`, byte 7 the highest of `high`); a byte that every row shares
 * would leave the order as it is, so it has no pass.
 */
function digitCounts(high: Uint32Array, low: Uint32Array): { pass: number; starts: Uint32Array }[] {
  const n = high.length;
  const counts = new Uint32Array(8 * RADIX);
  for (let i = 0; i < n; i++) {
    const l = low[i]!;
    const h = high[i]!;
    counts[l & MASK]!++;
    counts[RADIX + ((l >>> 8) & MASK)]!++;
    counts[2 * RADIX + ((l >>> 16) & MASK)]!++;
    counts[3 * RADIX + (l >>> 24)]!++;
    counts[4 * RADIX + (h & MASK)]!++;
    counts[5 * RADIX + ((h >>> 8) & MASK)]!++;
    counts[6 * RADIX + ((h >>> 16) & MASK)]!++;
    counts[7 * RADIX + (h >>> 24)]!++;
  }
  const passes: { pass: number; starts: Uint32Array }[] = [];
  for (let pass = 0; pass < 8; pass++) {
    const starts = counts.subarray(pass * RADIX, (pass + 1) * RADIX);
    if (starts.includes(n)) continue;
    for (let d = 0, sum = 0; d < RADIX; d++) {
      const count = starts[d]!;
      starts[d] = sum;
      sum += count;
    }
    passes.push({ pass, starts });
  }
  return passes;
}

const RADIX = 1 << 8;
const MASK = RADIX - 1;
/** Whether a float's low 32 bits come first in memory (they do on every platform Node runs on; checked, not assumed). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Each score's IEEE 754 bits as two unsigned words whose order is the numbers' order:
 * negative numbers have every bit flipped, others their sign bit set. −0 is read as 0 and
 * every NaN as one NaN, which then sorts after +∞.
 */
function sortableBits(scores: Values): [Uint32Array, Uint32Array] {
  const n = scores.length;
  const high = new Uint32Array(n);
  const low = new Uint32Array(n);
  const float = new Float64Array(1);
  const words = new Uint32Array(float.buffer);
  const [hi, lo] = LITTLE_ENDIAN ? [1, 0] : [0, 1];
  for (let i = 0; i < n; i++) {
    const x = scores[i]!;
    float[0] = x === 0 ? 0 : x === x ? x : Number.NaN;
    const h = words[hi]!;
    const negative = h >>> 31 === 1;
    high[i] = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    low[i] = negative ? ~words[lo]! >>> 0 : words[lo]!;
  }
  return [high, low];
}
