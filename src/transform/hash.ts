/**
 * The stable string hash of the hash and out-of-vocabulary buckets: 32-bit FNV-1a over
 * the value's UTF-8 bytes (integers hash their decimal text), modulo the bucket count.
 *
 * ONNX has no op that reads a string's bytes, so no graph can hash a string it has never
 * seen. The buckets are therefore assigned here, at fit time, to every value the training
 * split holds, and the graph carries the result as a LabelEncoder table. A value the
 * training split never showed (and a missing one) goes to bucket 0. FNV-1a is chosen
 * because it is tiny, has published test vectors and gives the same answer in any
 * language, so another tool can reproduce a Loom bucket.
 *
 * Usage: `hashBucket('ORD', 16)`
 */

const encoder = new TextEncoder();

/** 32-bit FNV-1a of the UTF-8 bytes of `value` (an unsigned 32-bit integer). */
export function fnv1a32(value: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(value)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The bucket in [0, buckets) of a category value. */
export function hashBucket(value: string | number, buckets: number): number {
  return fnv1a32(String(value)) % buckets;
}

/** Separator of the two values of a crossed pair before hashing (ASCII unit separator, absent from real categories). */
export const CROSS_SEPARATOR = '\u001f';
