/**
 * The string hash of the hash analyzer, the out-of-vocabulary buckets and hashed crosses:
 * 32-bit MurmurHash3 (x86_32, seed 0) of the value's UTF-8 bytes, read as an unsigned
 * integer, modulo the bucket count. Integers hash their decimal text, so the integer 12
 * and the string "12" share a bucket.
 *
 * The transform graph computes the same thing at serving time with ONNX Runtime's
 * `com.microsoft.MurmurHash3` op (graph-ops.ts), which onnxruntime-node and
 * onnxruntime-web (WebAssembly) both run; so a value never seen in training gets its
 * own bucket, the same one here, on the server and in a browser. MurmurHash3 also has
 * published test vectors and implementations in every language (Python `mmh3.hash(value,
 * signed=False)`), so another tool can reproduce a Loom bucket.
 *
 * A crossed pair hashes each side, packs the two 32-bit hashes into one int64
 * `(hash(a) << 32) | hash(b)` and hashes its 8 little-endian bytes: integer arithmetic
 * the graph can do (ONNX has no string concatenation before opset 20).
 *
 * Usage: `hashBucket('ORD', 16)`, `crossBucket(8, 'ORD', 32)`
 */

const encoder = new TextEncoder();

/** The seed of every Loom hash (the `seed` attribute of the MurmurHash3 node). */
export const HASH_SEED = 0;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
const mixK = (k: number): number => Math.imul(rotl(Math.imul(k, C1), 15), C2);

/** MurmurHash3 x86_32 of `bytes` as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = HASH_SEED): number {
  let h = seed | 0;
  const tail = bytes.length & ~3;
  for (let i = 0; i < tail; i += 4) {
    h ^= mixK(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    h = (Math.imul(rotl(h, 13), 5) + 0xe6546b64) | 0;
  }
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = bytes[tail];
    if (rest > 1) k |= bytes[tail + 1] << 8;
    if (rest > 2) k |= bytes[tail + 2] << 16;
    h ^= mixK(k);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The unsigned hash of a category value: its UTF-8 text (integers: decimal text). */
export function hashValue(value: string | number | bigint): number {
  // An integral number beyond 2^53 prints rounded in JavaScript ("1152921504606847000") but
  // exactly in the graph's int64 Cast: hash the exact decimal digits, as the graph does.
  const text = typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) ? BigInt(value).toString() : String(value);
  return murmur3(encoder.encode(text));
}

/** The bucket in [0, buckets) of a category value. */
export function hashBucket(value: string | number | bigint, buckets: number): number {
  return hashValue(value) % buckets;
}

/** The unsigned hash of a crossed pair: MurmurHash3 of the int64 `(hash(a) << 32) | hash(b)`, little-endian. */
export function hashPair(a: string | number | bigint, b: string | number | bigint): number {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, hashValue(b), true);
  view.setUint32(4, hashValue(a), true);
  return murmur3(bytes);
}

/** The bucket in [0, buckets) of a crossed pair. */
export function crossBucket(a: string | number | bigint, b: string | number | bigint, buckets: number): number {
  return hashPair(a, b) % buckets;
}
