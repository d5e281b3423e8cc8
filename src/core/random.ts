/**
 * Seeded randomness for training and analysis: every shuffle, initialisation and resample
 * in Loom is drawn from these, so a seed gives the same model or interval on any machine.
 */

/** A small, fast, seedable PRNG (Mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A permutation of 0..rows-1 (Fisher-Yates with mulberry32). */
export function permutation(rows: number, seed: number): Uint32Array {
  const random = mulberry32(seed);
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  for (let i = rows - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    const swap = order[i];
    order[i] = order[k];
    order[k] = swap;
  }
  return order;
}

/** One 32-bit seed per (seed, epoch, chunk), so every chunk of every epoch has its own shuffle. */
export function mixSeed(seed: number, epoch: number, chunk: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(epoch + 1, 0xc2b2ae35) ^ Math.imul(chunk + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}
