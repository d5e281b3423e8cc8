/**
 * Stable partitioning of a leaf's rows, in shards that threads run at once: each shard moves
 * its rows going left to the front of its own range and copies the rest to the same range of
 * a scratch array; `mergePartitions` then lays out every shard's left rows in shard order,
 * then every shard's right rows. The result is the row order of one pass over the whole
 * range, whatever the number of shards or threads.
 */

/** Rows of a partition shard (at most PARTITION_SHARDS shards): enough to outweigh a claim. */
const PARTITION_SHARD_ROWS = 1 << 12;
const PARTITION_SHARDS = 32;

/** Partition shards of a leaf of `rows` rows. */
export function partitionShardCount(rows: number): number {
  return Math.max(1, Math.min(PARTITION_SHARDS, Math.floor(rows / PARTITION_SHARD_ROWS)));
}

/** Where shard `shard` of `count` over [start, end) begins. */
export function shardStart(start: number, end: number, shard: number, count: number): number {
  return start + Math.floor(((end - start) * shard) / count);
}

/**
 * Moves rows of rowIndex[from, to) going left (goesLeft[column[row]] is 1) to the front of the
 * range, keeping order, and copies the others, in order, to scratch[from, ...). Returns the
 * number going left.
 */
export function partitionRange(rowIndex: Uint32Array, scratch: Uint32Array, column: Uint16Array | Uint32Array, goesLeft: Uint8Array, from: number, to: number): number {
  let left = from;
  let right = from;
  // Branch-free: a row is written to both sides and only one side's end moves (rowIndex
  // position `left` was already read), since which side a row takes cannot be predicted.
  for (let k = from; k < to; k++) {
    const i = rowIndex[k];
    const l = goesLeft[column[i]];
    rowIndex[left] = i;
    scratch[right] = i;
    left += l;
    right += l ^ 1;
  }
  return left - from;
}

/**
 * Joins `count` partitioned shards of [start, end) (`lefts[s]` rows going left in shard s):
 * left rows in shard order, then right rows in shard order. Returns the first right row's position.
 */
export function mergePartitions(rowIndex: Uint32Array, scratch: Uint32Array, lefts: Int32Array, start: number, end: number, count: number): number {
  // Each shard's left rows move down (never past a later shard's), so copyWithin in shard order is safe.
  let at = start + lefts[0];
  for (let s = 1; s < count; s++) {
    const from = shardStart(start, end, s, count);
    if (at !== from) rowIndex.copyWithin(at, from, from + lefts[s]);
    at += lefts[s];
  }
  const middle = at;
  for (let s = 0; s < count; s++) {
    const from = shardStart(start, end, s, count);
    const to = shardStart(start, end, s + 1, count);
    const rights = to - from - lefts[s];
    rowIndex.set(scratch.subarray(from, from + rights), at);
    at += rights;
  }
  return middle;
}
