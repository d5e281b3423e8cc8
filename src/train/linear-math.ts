/**
 * The arithmetic under logistic regression: logits of a row (dense or CSR), their softmax or
 * sigmoid errors and log loss, the CSR compression of a mostly-zero chunk, and the seeded
 * shuffles. Float64 throughout, in a fixed order, so training is deterministic for a seed.
 */

/** z[k] = bias[k] + row . weights[:, k]. */
export function logits(weights: Float64Array, bias: Float64Array, outputs: number, features: Float32Array, sparse: SparseRows | undefined, row: number, width: number, z: Float64Array): void {
  for (let k = 0; k < outputs; k++) z[k] = bias[k];
  if (sparse) {
    for (let p = sparse.start[row], last = sparse.start[row + 1]; p < last; p++) {
      const base = sparse.columns[p] * outputs;
      for (let k = 0; k < outputs; k++) z[k] += weights[base + k] * sparse.values[p];
    }
  } else {
    for (let j = 0, offset = row * width; j < width; j++) {
      const x = features[offset + j];
      for (let k = 0; k < outputs; k++) z[k] += weights[j * outputs + k] * x;
    }
  }
}

/**
 * Turns logits into the gradient of the log loss with respect to them, in place (p - y), and
 * returns the row's log loss. With y = -1 (multiclass only) it leaves the softmax probabilities.
 */
export function toErrors(z: Float64Array, outputs: number, y: number): number {
  if (outputs === 1) {
    const logit = z[0];
    z[0] = 1 / (1 + Math.exp(-logit)) - y;
    // log(1 + e^z) - y z, without overflow.
    return (logit > 0 ? logit : 0) - y * logit + Math.log1p(Math.exp(-Math.abs(logit)));
  }
  let max = -Infinity;
  for (let k = 0; k < outputs; k++) if (z[k] > max) max = z[k];
  let sum = 0;
  for (let k = 0; k < outputs; k++) sum += Math.exp(z[k] - max);
  const logSum = max + Math.log(sum);
  const loss = y >= 0 ? logSum - z[y] : 0;
  for (let k = 0; k < outputs; k++) z[k] = Math.exp(z[k] - logSum) - (k === y ? 1 : 0);
  return loss;
}

export interface SparseRows {
  /** Row i's entries are start[i] .. start[i + 1] - 1. */
  start: Float64Array;
  columns: Int32Array;
  values: Float32Array;
}

/** The matrix as CSR when at most a third of it is non-zero (where CSR is smaller and faster), else undefined. */
export function compressIfSparse(features: Float32Array, rows: number, width: number): SparseRows | undefined {
  let nonZero = 0;
  for (let i = 0; i < features.length; i++) if (features[i] !== 0) nonZero++;
  if (nonZero * 3 > features.length) return undefined;
  const start = new Float64Array(rows + 1);
  const columns = new Int32Array(nonZero);
  const values = new Float32Array(nonZero);
  let p = 0;
  for (let row = 0; row < rows; row++) {
    start[row] = p;
    for (let j = 0, offset = row * width; j < width; j++) {
      const value = features[offset + j];
      if (value !== 0) {
        columns[p] = j;
        values[p++] = value;
      }
    }
  }
  start[rows] = p;
  return { start, columns, values };
}

