/**
 * Binary logistic regression by mini-batch Adam with L2 regularisation, on a dense
 * row-major float32 matrix. Pure: arrays in, weights out, no files and no artifacts.
 *
 * Deterministic for a seed: the seed drives the weight initialisation and each epoch's
 * shuffle, and the arithmetic runs in a fixed order in float64. Written for speed: typed
 * arrays only, no allocation per row or per batch. Transformed features are mostly
 * one-hot columns, so a mostly-zero matrix is first compressed to its non-zero entries
 * (CSR) and each row costs its non-zeros, not its width; skipping exact zeros changes no
 * sum, so both paths give the same weights.
 *
 * Usage: `const model = trainLogisticRegression(features, labels, width, { epochs: 5 });`
 */
import { LoomError } from '../core/errors.js';

export interface LogisticRegressionOptions {
  /** Passes over the data; default 5. */
  epochs?: number;
  /** Adam step size; default 0.01. */
  learningRate?: number;
  /** L2 penalty on the weights (not the bias), added to the mean gradient; default 1e-4. */
  l2?: number;
  /** Rows per update; default 1024. */
  batchSize?: number;
  /** Seed of the initialisation and the shuffles; default 42. */
  seed?: number;
  /** Called after each epoch with its mean training log loss. */
  onEpoch?(epoch: number, loss: number): void;
}

export interface LogisticRegressionModel {
  /** One weight per input column. */
  weights: Float64Array;
  bias: number;
  /** Mean log loss over each epoch's rows, each measured just before the update it contributed to. */
  lossPerEpoch: number[];
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/** One finished epoch of `logisticRegressionEpochs`. `weights` is the live array: copy it to keep it. */
export interface LogisticRegressionEpoch {
  epoch: number;
  /** Mean training log loss over the epoch. */
  loss: number;
  weights: Float64Array;
  bias: number;
}

export function trainLogisticRegression(
  features: Float32Array,
  labels: Float32Array,
  width: number,
  options: LogisticRegressionOptions = {},
): LogisticRegressionModel {
  const epochs = logisticRegressionEpochs(features, labels, width, options);
  for (;;) {
    const next = epochs.next();
    if (next.done) return next.value;
    options.onEpoch?.(next.value.epoch, next.value.loss);
  }
}

/**
 * The same training one epoch at a time: it yields after each epoch, so a caller can
 * log the epoch (the train component awaits a tracking write there) or stop, and it
 * returns the model. The weights are those of `trainLogisticRegression` with the same options.
 */
export function* logisticRegressionEpochs(
  features: Float32Array,
  labels: Float32Array,
  width: number,
  options: Omit<LogisticRegressionOptions, 'onEpoch'> = {},
): Generator<LogisticRegressionEpoch, LogisticRegressionModel, void> {
  const epochs = options.epochs ?? 5;
  const learningRate = options.learningRate ?? 0.01;
  const l2 = options.l2 ?? 1e-4;
  const batchSize = options.batchSize ?? 1024;
  const rows = labels.length;
  checkInputs(features, labels, width, { epochs, learningRate, l2, batchSize });

  const random = mulberry32(options.seed ?? 42);
  const weights = new Float64Array(width);
  for (let j = 0; j < width; j++) weights[j] = (random() - 0.5) * 0.02;
  // Starting the bias at the base rate's log-odds skips the first epoch's drift towards it.
  let positives = 0;
  for (let i = 0; i < rows; i++) positives += labels[i];
  const baseRate = Math.min(Math.max(positives / rows, 1e-6), 1 - 1e-6);
  let bias = Math.log(baseRate / (1 - baseRate));

  const gradient = new Float64Array(width);
  const m = new Float64Array(width);
  const v = new Float64Array(width);
  let mBias = 0;
  let vBias = 0;
  let step = 0;
  const sparse = compressIfSparse(features, rows, width);
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const lossPerEpoch: number[] = [];

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = rows - 1; i > 0; i--) {
      const k = Math.floor(random() * (i + 1));
      const swap = order[i];
      order[i] = order[k];
      order[k] = swap;
    }
    let lossSum = 0;
    for (let start = 0; start < rows; start += batchSize) {
      const end = Math.min(rows, start + batchSize);
      gradient.fill(0);
      let gradientBias = 0;
      for (let k = start; k < end; k++) {
        const row = order[k];
        const offset = row * width;
        let z = bias;
        if (sparse) {
          for (let p = sparse.start[row], last = sparse.start[row + 1]; p < last; p++) z += weights[sparse.columns[p]] * sparse.values[p];
        } else {
          for (let j = 0; j < width; j++) z += weights[j] * features[offset + j];
        }
        const y = labels[row];
        // log(1 + e^z) - y z, computed without overflow.
        lossSum += (z > 0 ? z : 0) - y * z + Math.log1p(Math.exp(-Math.abs(z)));
        const error = 1 / (1 + Math.exp(-z)) - y;
        if (error === 0) continue;
        if (sparse) {
          for (let p = sparse.start[row], last = sparse.start[row + 1]; p < last; p++) gradient[sparse.columns[p]] += error * sparse.values[p];
        } else {
          for (let j = 0; j < width; j++) gradient[j] += error * features[offset + j];
        }
        gradientBias += error;
      }
      step++;
      const scale = 1 / (end - start);
      const correction1 = 1 - Math.pow(BETA1, step);
      const correction2 = 1 - Math.pow(BETA2, step);
      const stepSize = (learningRate * Math.sqrt(correction2)) / correction1;
      for (let j = 0; j < width; j++) {
        const g = gradient[j] * scale + l2 * weights[j];
        m[j] = BETA1 * m[j] + (1 - BETA1) * g;
        v[j] = BETA2 * v[j] + (1 - BETA2) * g * g;
        weights[j] -= (stepSize * m[j]) / (Math.sqrt(v[j]) + EPSILON);
      }
      const gBias = gradientBias * scale;
      mBias = BETA1 * mBias + (1 - BETA1) * gBias;
      vBias = BETA2 * vBias + (1 - BETA2) * gBias * gBias;
      bias -= (stepSize * mBias) / (Math.sqrt(vBias) + EPSILON);
    }
    const loss = lossSum / rows;
    lossPerEpoch.push(loss);
    yield { epoch, loss, weights, bias };
  }
  return { weights, bias, lossPerEpoch };
}

/** Probabilities of the positive class for each row, in float64 (for tests and quick checks). */
export function predictLogisticRegression(model: Pick<LogisticRegressionModel, 'weights' | 'bias'>, features: Float32Array): Float64Array {
  const width = model.weights.length;
  const rows = Math.floor(features.length / Math.max(width, 1));
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = model.bias;
    for (let j = 0; j < width; j++) z += model.weights[j] * features[i * width + j];
    out[i] = 1 / (1 + Math.exp(-z));
  }
  return out;
}

interface SparseRows {
  /** Row i's entries are start[i] .. start[i + 1] - 1. */
  start: Float64Array;
  columns: Int32Array;
  values: Float32Array;
}

/** The matrix as CSR when at most a third of it is non-zero (where CSR is smaller and faster), else undefined. */
function compressIfSparse(features: Float32Array, rows: number, width: number): SparseRows | undefined {
  let nonZero = 0;
  for (let i = 0; i < features.length; i++) if (features[i] !== 0) nonZero++;
  if (nonZero * 3 > features.length) return undefined;
  const start = new Float64Array(rows + 1);
  const columns = new Int32Array(nonZero);
  const values = new Float32Array(nonZero);
  let p = 0;
  for (let row = 0; row < rows; row++) {
    start[row] = p;
    const offset = row * width;
    for (let j = 0; j < width; j++) {
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

function checkInputs(
  features: Float32Array,
  labels: Float32Array,
  width: number,
  options: { epochs: number; learningRate: number; l2: number; batchSize: number },
): void {
  const fail = (field: string, message: string): never => {
    throw new LoomError('INVALID_ARGUMENT', message, { field });
  };
  if (!Number.isInteger(width) || width < 1) fail('width', `width must be a positive integer, got ${width}`);
  if (labels.length === 0) fail('labels', 'there are no rows to train on');
  if (features.length !== labels.length * width) {
    fail('features', `features hold ${features.length} values, but ${labels.length} rows x ${width} columns need ${labels.length * width}`);
  }
  if (!Number.isInteger(options.epochs) || options.epochs < 1) fail('epochs', `epochs must be a positive integer, got ${options.epochs}`);
  if (!(options.learningRate > 0)) fail('learningRate', `learningRate must be positive, got ${options.learningRate}`);
  if (!(options.l2 >= 0)) fail('l2', `l2 must be zero or positive, got ${options.l2}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) fail('batchSize', `batchSize must be a positive integer, got ${options.batchSize}`);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new LoomError('INVALID_ARGUMENT', `${bad} label(s) are not 0 or 1 (first at row ${first + 1}: ${labels[first]})`, {
      field: 'labels',
      fix: 'binary logistic regression needs labels 0/1 (or booleans) with no missing values; filter or derive them upstream',
    });
  }
}

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
