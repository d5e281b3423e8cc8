/**
 * Logistic regression, binary (sigmoid) or multiclass (softmax over K classes labelled
 * 0..K-1), by mini-batch Adam with L2 and L1 penalties. Pure: arrays in, weights out.
 *
 * Training consumes the rows chunk by chunk (`trainChunk`), so the same arithmetic serves a
 * matrix in memory (one chunk: `trainLogisticRegression`) and a split streamed from disk
 * (`src/train/logistic-stream.ts`), and each epoch needs only one chunk at a time. Within a
 * chunk the rows are shuffled by a permutation drawn from (seed, epoch, chunk), so a run
 * resumed from a checkpoint after epoch N sees the very batches of an uninterrupted one.
 *
 * L1 is a proximal step after each Adam update (soft-thresholding by the coordinate's own
 * step size), so weights that do not earn their penalty become exactly 0; L2 is added to the
 * gradient. Sums run in a fixed order in float64: deterministic for a seed. Transformed
 * features are mostly one-hot, so a mostly-zero chunk is compressed to CSR first and a row
 * costs its non-zeros, not its width (skipping exact zeros changes no sum).
 *
 * Training stops on convergence, as scikit-learn's SGD does: once the epoch's training loss
 * has not improved on the best so far by more than `tol` for `nIterNoChange` epochs in a row,
 * or after `epochs` (the bound). The test reads only the loss history, so a run resumed from
 * a checkpoint stops where an uninterrupted one does.
 *
 * Usage: `const model = trainLogisticRegression(features, labels, width, { epochs: 5 });`
 */
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { requireClassCount } from './gbdt/objectives.js';
import { mixSeed, mulberry32, permutation } from '../core/random.js';
import { compressIfSparse, logits, toErrors } from './linear-math.js';
import type { LabelledMatrix } from './transformed-data.js';

export const logisticOptionsObject = z
  .object({
    objective: z.enum(['binary', 'multiclass']).default('binary'),
    /** Classes of a multiclass objective (labels 0..numClasses-1). */
    numClasses: z.number().int().min(3).optional(),
    /** The most epochs; training stops earlier once the loss has converged (`tol`, `nIterNoChange`). */
    epochs: z.number().int().positive().default(100),
    /** Converged: the loss has not improved on its best by more than this for `nIterNoChange` epochs (0: run all epochs). */
    tol: z.number().nonnegative().default(1e-4),
    nIterNoChange: z.number().int().positive().default(5),
    learningRate: z.number().positive().default(0.01),
    /** L1 penalty on the weights (not the biases): drives weak weights to exactly 0. */
    l1: z.number().nonnegative().default(0),
    /** L2 penalty on the weights (not the biases), added to the mean gradient. */
    l2: z.number().nonnegative().default(1e-4),
    batchSize: z.number().int().positive().default(1024),
    seed: z.number().int().default(42),
  })
  .strict();
export const logisticOptionsSchema = requireClassCount(logisticOptionsObject);
export type LogisticRegressionOptions = z.input<typeof logisticOptionsSchema> & {
  /** Called after each epoch with its mean training log loss. */
  onEpoch?(epoch: number, loss: number): void;
};
export type ResolvedLogisticOptions = z.output<typeof logisticOptionsSchema>;

export interface LogisticRegressionModel {
  /** Row-major [width, outputs]: one weight per input column and output. */
  weights: Float64Array;
  /** One bias per output. */
  bias: Float64Array;
  /** 1 for binary (the output is P(label = 1)), else the class count. */
  outputs: number;
  /** Mean log loss over each epoch's rows, each measured just before the update it contributed to. */
  lossPerEpoch: number[];
}

/** Everything training needs to continue exactly: the model, Adam's moments and step count. */
export interface LinearState extends LogisticRegressionModel {
  width: number;
  epochsDone: number;
  m: Float64Array;
  v: Float64Array;
  mBias: Float64Array;
  vBias: Float64Array;
  step: number;
}

/** Weights to start from instead of random ones (an incremental update of an earlier model). */
export interface WarmStart {
  weights: ArrayLike<number>;
  bias: ArrayLike<number>;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;
/** The most base Adam steps one L1 shrink may take (see trainChunk). */
const L1_MAX_STEPS = 10;

export function parseLogisticOptions(raw: Omit<LogisticRegressionOptions, 'onEpoch'>): ResolvedLogisticOptions {
  return parseInput(logisticOptionsSchema, raw, {
    what: 'logistic regression',
    fix: 'logistic regression takes objective, numClasses, epochs, tol, nIterNoChange, learningRate, l1, l2, batchSize and seed',
  });
}

/**
 * True once the last `nIterNoChange` epochs each failed to improve the best loss before them
 * by more than `tol` (scikit-learn's `n_iter_no_change` rule). A function of the history
 * alone, so resuming from a checkpoint decides as an uninterrupted run would.
 */
export function hasConverged(lossPerEpoch: readonly number[], options: Pick<ResolvedLogisticOptions, 'tol' | 'nIterNoChange'>): boolean {
  if (options.tol <= 0) return false;
  let best = Infinity;
  let noImprovement = 0;
  for (const loss of lossPerEpoch) {
    noImprovement = loss > best - options.tol ? noImprovement + 1 : 0;
    best = Math.min(best, loss);
  }
  return noImprovement >= options.nIterNoChange;
}

/** Why training ended: 'converged' (the loss stopped improving) or 'completed' (all `epochs` ran). */
export function stoppedBecause(lossPerEpoch: readonly number[], options: ResolvedLogisticOptions): 'converged' | 'completed' {
  return hasConverged(lossPerEpoch, options) ? 'converged' : 'completed';
}

export function outputsOf(options: ResolvedLogisticOptions): number {
  return options.objective === 'multiclass' ? (options.numClasses as number) : 1;
}

/**
 * The state before the first epoch: small seeded random weights and biases at the classes'
 * log frequencies (which skips the first epoch's drift towards the base rate), or a warm start.
 */
export function initialState(width: number, options: ResolvedLogisticOptions, classCounts: ArrayLike<number>, warm?: WarmStart): LinearState {
  const outputs = outputsOf(options);
  const random = mulberry32(options.seed);
  const weights = new Float64Array(width * outputs);
  for (let j = 0; j < weights.length; j++) weights[j] = (random() - 0.5) * 0.02;
  const bias = new Float64Array(outputs);
  let total = 0;
  for (let k = 0; k < classCounts.length; k++) total += classCounts[k];
  if (outputs === 1) {
    const rate = Math.min(Math.max(classCounts[1] / total, 1e-6), 1 - 1e-6);
    bias[0] = Math.log(rate / (1 - rate));
  } else {
    let mean = 0;
    for (let k = 0; k < outputs; k++) mean += (bias[k] = Math.log(Math.max(classCounts[k], 1) / total)) / outputs;
    for (let k = 0; k < outputs; k++) bias[k] -= mean;
  }
  if (warm) {
    if (warm.weights.length !== weights.length || warm.bias.length !== outputs) {
      throw new LoomError('FAILED_PRECONDITION', `the warm-start model has ${warm.weights.length} weights and ${warm.bias.length} outputs, this training ${weights.length} and ${outputs}`, {
        field: 'warmStartFrom',
        fix: 'update a logistic regression with the same objective and class count',
      });
    }
    weights.set(warm.weights);
    bias.set(warm.bias);
  }
  const size = width * outputs;
  return {
    width, outputs, weights, bias, lossPerEpoch: [], epochsDone: 0, step: 0,
    m: new Float64Array(size), v: new Float64Array(size), mBias: new Float64Array(outputs), vBias: new Float64Array(outputs),
  };
}

/** Rows per label value: [count of 0, count of 1] for binary, one per class for multiclass. Refuses labels the objective cannot use. */
export function countClasses(labels: Float32Array, options: ResolvedLogisticOptions, counts: Float64Array<ArrayBuffer> = new Float64Array(Math.max(outputsOf(options), 2)), firstRow = 0): Float64Array<ArrayBuffer> {
  const classes = counts.length;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < classes)) {
      const want = classes === 2 ? '0 or 1 (or booleans)' : `integers 0..${classes - 1}`;
      throw new LoomError('INVALID_ARGUMENT', `label at row ${firstRow + i + 1} is ${y}; ${options.objective} logistic regression needs ${want}`, {
        field: 'labels',
        fix: options.objective === 'binary' ? 'derive a 0/1 label upstream with no missing values, or use objective multiclass with numClasses' : 'encode the classes as 0..numClasses-1 with no missing values, or raise numClasses',
      });
    }
    counts[y]++;
  }
  return counts;
}

/** Scratch arrays reused across chunks (no allocation per batch or row). */
export interface Scratch {
  gradient: Float64Array;
  gradientBias: Float64Array;
  z: Float64Array;
}

export function scratchFor(state: LinearState): Scratch {
  return { gradient: new Float64Array(state.weights.length), gradientBias: new Float64Array(state.outputs), z: new Float64Array(state.outputs) };
}

/**
 * One epoch's pass over one chunk: its rows in a seeded order, `batchSize` at a time, one
 * Adam step (and L1 proximal step) per batch. Returns the chunk's summed log loss.
 */
export function trainChunk(state: LinearState, chunk: LabelledMatrix, options: ResolvedLogisticOptions, epoch: number, chunkIndex: number, scratch = scratchFor(state)): number {
  const { width, outputs, weights, bias, m, v, mBias, vBias } = state;
  const { gradient, gradientBias, z } = scratch;
  const rows = chunk.labels.length;
  const sparse = compressIfSparse(chunk.features, rows, width);
  const order = permutation(rows, mixSeed(options.seed, epoch, chunkIndex));
  let lossSum = 0;
  for (let start = 0; start < rows; start += options.batchSize) {
    const end = Math.min(rows, start + options.batchSize);
    gradient.fill(0);
    gradientBias.fill(0);
    for (let b = start; b < end; b++) {
      const row = order[b];
      const y = chunk.labels[row];
      logits(weights, bias, outputs, chunk.features, sparse, row, width, z);
      lossSum += toErrors(z, outputs, y);
      for (let k = 0; k < outputs; k++) {
        const error = z[k];
        if (error === 0) continue;
        gradientBias[k] += error;
        if (sparse) {
          for (let p = sparse.start[row], last = sparse.start[row + 1]; p < last; p++) gradient[sparse.columns[p] * outputs + k] += error * sparse.values[p];
        } else {
          for (let j = 0, offset = row * width; j < width; j++) gradient[j * outputs + k] += error * chunk.features[offset + j];
        }
      }
    }
    const step = ++state.step;
    const scale = 1 / (end - start);
    const stepSize = (options.learningRate * Math.sqrt(1 - Math.pow(BETA2, step))) / (1 - Math.pow(BETA1, step));
    for (let j = 0; j < weights.length; j++) {
      const g = gradient[j] * scale + options.l2 * weights[j];
      m[j] = BETA1 * m[j] + (1 - BETA1) * g;
      v[j] = BETA2 * v[j] + (1 - BETA2) * g * g;
      const rate = stepSize / (Math.sqrt(v[j]) + EPSILON);
      const w = weights[j] - rate * m[j];
      // Proximal L1: shrink towards 0 by this coordinate's step, and stop exactly at 0 (+0, never -0).
      // Only where this batch had data for the coordinate, and never by more than ten base
      // steps: right after a warm start the moments are fresh, and a coordinate with a tiny or
      // no gradient would otherwise get an unbounded rate and lose its learned weight at once.
      const shrink = gradient[j] === 0 ? 0 : Math.min(options.l1 * rate, L1_MAX_STEPS * stepSize);
      weights[j] = w > shrink ? w - shrink : w < -shrink ? w + shrink : 0;
    }
    for (let k = 0; k < outputs; k++) {
      const g = gradientBias[k] * scale;
      mBias[k] = BETA1 * mBias[k] + (1 - BETA1) * g;
      vBias[k] = BETA2 * vBias[k] + (1 - BETA2) * g * g;
      bias[k] -= (stepSize * mBias[k]) / (Math.sqrt(vBias[k]) + EPSILON);
    }
  }
  return lossSum;
}

/**
 * In memory: the whole matrix is one chunk. The same weights as the streamed trainer over
 * one chunk of at least all rows.
 */
export function trainLogisticRegression(features: Float32Array, labels: Float32Array, width: number, options: LogisticRegressionOptions = {}): LogisticRegressionModel {
  const epochs = logisticRegressionEpochs(features, labels, width, options);
  for (;;) {
    const next = epochs.next();
    if (next.done) return next.value;
    options.onEpoch?.(next.value.epochsDone - 1, next.value.lossPerEpoch.at(-1) as number);
  }
}

/** The in-memory training one epoch at a time: yields the live state after each epoch, returns the model. */
export function* logisticRegressionEpochs(
  features: Float32Array,
  labels: Float32Array,
  width: number,
  raw: Omit<LogisticRegressionOptions, 'onEpoch'> = {},
): Generator<LinearState, LogisticRegressionModel, void> {
  const { onEpoch: _ignored, ...rest } = raw as LogisticRegressionOptions;
  const options = parseLogisticOptions(rest);
  checkShape({ features, labels, width });
  const state = initialState(width, options, countClasses(labels, options));
  const scratch = scratchFor(state);
  while (state.epochsDone < options.epochs && !hasConverged(state.lossPerEpoch, options)) {
    const loss = trainChunk(state, { features, labels, width }, options, state.epochsDone, 0, scratch) / labels.length;
    state.lossPerEpoch.push(loss);
    state.epochsDone++;
    yield state;
  }
  return { weights: state.weights, bias: state.bias, outputs: state.outputs, lossPerEpoch: state.lossPerEpoch };
}

export function checkShape(data: LabelledMatrix): void {
  const fail = (field: string, message: string): never => {
    throw new LoomError('INVALID_ARGUMENT', message, { field });
  };
  if (!Number.isInteger(data.width) || data.width < 1) fail('width', `width must be a positive integer, got ${data.width}`);
  if (data.labels.length === 0) fail('labels', 'there are no rows to train on');
  if (data.features.length !== data.labels.length * data.width) {
    fail('features', `features hold ${data.features.length} values, but ${data.labels.length} rows x ${data.width} columns need ${data.labels.length * data.width}`);
  }
}

/**
 * Probabilities in float64: binary models give P(label = 1) per row [rows]; multiclass
 * models one probability per class, row-major [rows, classes].
 */
export function predictLogisticRegression(model: { weights: ArrayLike<number>; bias: number | ArrayLike<number> }, features: Float32Array): Float64Array {
  const bias = Float64Array.from(typeof model.bias === 'number' ? [model.bias] : model.bias);
  const outputs = bias.length;
  const weights = Float64Array.from(model.weights);
  const width = weights.length / outputs;
  const rows = Math.floor(features.length / Math.max(width, 1));
  const out = new Float64Array(rows * outputs);
  const z = new Float64Array(outputs);
  for (let i = 0; i < rows; i++) {
    logits(weights, bias, outputs, features, undefined, i, width, z);
    if (outputs === 1) out[i] = 1 / (1 + Math.exp(-z[0]));
    else {
      toErrors(z, outputs, -1);
      for (let k = 0; k < outputs; k++) out[i * outputs + k] = z[k];
    }
  }
  return out;
}

/** Mean log loss and accuracy of probabilities from `predictLogisticRegression`, summed (divide by rows). */
export function scoreSums(probabilities: Float64Array, labels: Float32Array, outputs: number): { loss: number; correct: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (outputs === 1) {
      const p = Math.min(Math.max(probabilities[i], 1e-15), 1 - 1e-15);
      loss -= y === 1 ? Math.log(p) : Math.log(1 - p);
      if ((p >= 0.5 ? 1 : 0) === y) correct++;
    } else {
      let best = 0;
      for (let k = 1; k < outputs; k++) if (probabilities[i * outputs + k] > probabilities[i * outputs + best]) best = k;
      loss -= Math.log(Math.max(probabilities[i * outputs + y], 1e-15));
      if (best === y) correct++;
    }
  }
  return { loss, correct };
}

