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
 * scores' bits (eight stable passes of a byte; several times faster on a million rows
 * than a native sort plus placing each row, which is what a monitoring window's
 * calibration and AUC sort).
 */
export function ascendingOrder(scores: Values): Uint32Array {
  const n = scores.length;
  // Each pass moves the keys with the rows, so it reads them in order (the cache's way).
  let [high, low] = sortableBits(scores);
  let order: Uint32Array = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let [nextHigh, nextLow, nextOrder]: Uint32Array[] = [new Uint32Array(n), new Uint32Array(n), new Uint32Array(n)];
  const counts = new Uint32Array(RADIX + 1);
  for (let pass = 0; pass < 8; pass++) {
    const word = pass < 4 ? low : high;
    const shift = (pass % 4) * 8;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((word[i]! >>> shift) & MASK) + 1]!++;
    // A digit shared by every row leaves the order as it is.
    if (counts.includes(n)) continue;
    for (let d = 1; d <= RADIX; d++) counts[d]! += counts[d - 1]!;
    for (let k = 0; k < n; k++) {
      const to = counts[(word[k]! >>> shift) & MASK]!++;
      nextHigh[to] = high[k]!;
      nextLow[to] = low[k]!;
      nextOrder[to] = order[k]!;
    }
    [high, low, order, nextHigh, nextLow, nextOrder] = [nextHigh, nextLow, nextOrder, high, low, order];
  }
  return order;
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
