/**
 * A multilayer perceptron trained with TensorFlow.js on its WebAssembly backend
 * (`@tensorflow/tfjs-node` cannot install here: it downloads libtensorflow). Dense layers
 * with ReLU, then a sigmoid (binary), softmax (multiclass) or linear (regression) output;
 * Adam with an optional L2 penalty.
 *
 * Deterministic for a seed: the seed drives the weight initialisers and each epoch's
 * shuffle (a permutation from seed and epoch number, so a resumed run sees the same
 * batches), and the wasm backend runs single-threaded. A checkpoint after an epoch holds
 * the weights and the optimizer's moments; resuming from it continues bit for bit.
 *
 * The data is a matrix in memory or a stream of chunks (`MlpStream`, e.g. a split read from
 * disk by `readTransformedChunks`): each epoch takes one pass over the chunks, shuffling
 * within each chunk, so a split larger than memory trains. A matrix is a stream of one chunk.
 *
 * Usage: `const model = await trainMlp({ features, labels, width }, { hiddenUnits: [64, 32], epochs: 5 });`
 */
import type * as TensorFlow from '@tensorflow/tfjs';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { requireClassCount } from '../gbdt/objectives.js';
import { permutation } from '../../core/random.js';
import { assertFiniteFeatures, prefetched, type LabelledMatrix } from '../transformed-data.js';

export const MLP_OBJECTIVES = ['binary', 'multiclass', 'regression'] as const;

/** The hyperparameters; the train step derives its own parameters from these. */
export const mlpOptionsObject = z
  .object({
    objective: z.enum(MLP_OBJECTIVES).default('binary'),
    numClasses: z.number().int().min(3).optional(),
    hiddenUnits: z.array(z.number().int().min(1).max(4096)).max(8).default([64, 32]),
    epochs: z.number().int().min(1).max(10_000).default(5),
    batchSize: z.number().int().min(1).max(65_536).default(256),
    learningRate: z.number().gt(0).max(1).default(0.001),
    l2: z.number().min(0).default(0),
    seed: z.number().int().min(0).default(42),
  })
  .strict();
export const mlpOptionsSchema = requireClassCount(mlpOptionsObject);
export type MlpOptions = z.input<typeof mlpOptionsSchema>;
export type ResolvedMlpOptions = z.output<typeof mlpOptionsSchema>;

export type MlpMatrix = LabelledMatrix;

/** Rows arriving in chunks; `chunks()` starts a fresh pass, in the same order every time. */
export interface MlpStream {
  width: number;
  chunks(): AsyncIterable<LabelledMatrix>;
}

function asStream(data: MlpMatrix | MlpStream): MlpStream {
  if ('chunks' in data) return data;
  return {
    width: data.width,
    chunks: async function* () {
      yield data;
    },
  };
}

/** One dense layer's parameters: kernel [inputs, units] row-major, and bias [units]. */
export interface DenseLayer {
  inputs: number;
  units: number;
  kernel: Float32Array;
  bias: Float32Array;
  activation: 'relu' | 'sigmoid' | 'softmax' | 'linear';
}

export interface MlpModel {
  objective: ResolvedMlpOptions['objective'];
  layers: DenseLayer[];
  /** Mean training loss of each epoch, and the validation loss after it when given. */
  trainLoss: number[];
  validationLoss: number[];
  /** Seconds each epoch took. */
  epochSeconds: number[];
}

/** What a checkpoint holds: the model after `epochsDone` epochs and Adam's state. */
export interface MlpCheckpoint {
  epochsDone: number;
  model: MlpModel;
  optimizer: { name: string; values: Float32Array; shape: number[] }[];
  /** Adam's running powers of beta1 and beta2, which `getWeights` leaves out. */
  adamPowers: [number, number];
}

/**
 * TensorFlow.js keeps Adam's beta powers outside `getWeights` and recomputes them with pow()
 * on `setWeights`, which rounds differently from the running product; saving and restoring
 * them is what makes a resumed run bit-identical.
 */
type AdamInternals = { accBeta1: TensorFlow.Variable; accBeta2: TensorFlow.Variable };

export interface MlpCallbacks {
  /** After each epoch; return 'stop' to end training there. */
  onEpoch?(progress: { epoch: number; trainLoss: number; validationLoss: number | undefined; checkpoint: () => Promise<MlpCheckpoint> }): void | 'stop' | Promise<void | 'stop'>;
  resumeFrom?: MlpCheckpoint;
}

// TensorFlow.js is loaded on first use, so processes that never train a network (the CLI, the
// server, pipeline files loaded in their own module namespace) do not load or register it.
let tf: typeof TensorFlow;
let backendReady: Promise<void> | undefined;

/** Loads TensorFlow.js and selects the wasm backend, once per process. */
export function readyBackend(): Promise<void> {
  backendReady ??= (async () => {
    tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new LoomError('UNAVAILABLE', 'the TensorFlow.js wasm backend did not start');
    await tf.ready();
  })();
  return backendReady;
}

export async function trainMlp(trainData: MlpMatrix | MlpStream, rawOptions: MlpOptions = {}, validationData?: MlpMatrix | MlpStream, callbacks: MlpCallbacks = {}): Promise<MlpModel> {
  const options = parseMlpOptions(rawOptions);
  // A matrix is checked whole before training starts; streamed chunks are checked as they arrive.
  if (!('chunks' in trainData)) checkData(trainData, 'training', options);
  if (validationData && !('chunks' in validationData)) checkData(validationData, 'validation', options, trainData.width);
  const train = asStream(trainData);
  const validation = validationData && asStream(validationData);
  await readyBackend();
  const outputs = options.objective === 'multiclass' ? (options.numClasses as number) : 1;
  const network = buildNetwork(train.width, outputs, options);
  const optimizer = tf.train.adam(options.learningRate);
  const history: MlpModel = { objective: options.objective, layers: [], trainLoss: [], validationLoss: [], epochSeconds: [] };
  let firstEpoch = 0;
  if (callbacks.resumeFrom) firstEpoch = await restore(callbacks.resumeFrom, network, optimizer, history);
  try {
    for (let epoch = firstEpoch; epoch < options.epochs; epoch++) {
      const started = performance.now();
      const loss = await runEpoch(network, optimizer, train, outputs, options, epoch);
      history.epochSeconds.push((performance.now() - started) / 1000);
      if (!Number.isFinite(loss)) {
        throw new LoomError('FAILED_PRECONDITION', `the MLP's training loss became ${loss} in epoch ${epoch + 1}`, {
          fix: 'lower learningRate, scale the features (the transform z-scores numbers), or check the data for extreme values',
        });
      }
      history.trainLoss.push(loss);
      const validationLoss = validation ? await evaluateLoss(network, validation, outputs, options) : undefined;
      if (validationLoss !== undefined) history.validationLoss.push(validationLoss);
      const verdict = await callbacks.onEpoch?.({
        epoch,
        trainLoss: loss,
        validationLoss,
        checkpoint: async () => ({
          epochsDone: epoch + 1,
          model: { ...history, layers: readLayers(network, options) },
          optimizer: await readOptimizer(optimizer),
          adamPowers: adamPowers(optimizer),
        }),
      });
      if (verdict === 'stop') break;
    }
    return { ...history, layers: readLayers(network, options) };
  } finally {
    network.dispose();
    optimizer.dispose();
  }
}

export function parseMlpOptions(raw: MlpOptions): ResolvedMlpOptions {
  return parseInput(mlpOptionsSchema, raw, {
    what: 'neural network',
    fix: 'the MLP takes objective, numClasses, hiddenUnits, epochs, batchSize, learningRate, l2 and seed',
  });
}

function checkData(data: MlpMatrix, what: string, options: ResolvedMlpOptions, width?: number, firstRow = 0): void {
  const rows = data.labels.length;
  if (rows === 0 && firstRow === 0) throw new LoomError('INVALID_ARGUMENT', `the ${what} data has no rows`);
  if (width !== undefined && data.width !== width) throw new LoomError('INVALID_ARGUMENT', `the ${what} data has ${data.width} columns, the training data ${width}`);
  if (data.features.length !== rows * data.width) throw new LoomError('INVALID_ARGUMENT', `the ${what} matrix has ${data.features.length} values, not ${rows} x ${data.width}`);
  assertFiniteFeatures(data, what, firstRow);
  for (let i = 0; i < rows; i++) {
    const y = data.labels[i];
    const ok = options.objective === 'regression' ? Number.isFinite(y) : options.objective === 'binary' ? y === 0 || y === 1 : Number.isInteger(y) && y >= 0 && y < (options.numClasses as number);
    if (!ok) throw new LoomError('INVALID_ARGUMENT', `${what} label at row ${firstRow + i} is ${y}, which a ${options.objective} objective cannot use`, { field: 'label' });
  }
}

function buildNetwork(width: number, outputs: number, options: ResolvedMlpOptions): TensorFlow.Sequential {
  const network = tf.sequential();
  const regularizer = options.l2 > 0 ? tf.regularizers.l2({ l2: options.l2 }) : undefined;
  options.hiddenUnits.forEach((units, k) =>
    network.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        inputShape: k === 0 ? [width] : undefined,
        kernelInitializer: tf.initializers.heNormal({ seed: options.seed + k }),
        kernelRegularizer: regularizer,
      }),
    ),
  );
  const activation = options.objective === 'binary' ? 'sigmoid' : options.objective === 'multiclass' ? 'softmax' : 'linear';
  network.add(
    tf.layers.dense({
      units: outputs,
      activation,
      inputShape: options.hiddenUnits.length === 0 ? [width] : undefined,
      kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed + options.hiddenUnits.length }),
    }),
  );
  return network;
}

function lossOf(objective: ResolvedMlpOptions['objective'], labels: TensorFlow.Tensor, predictions: TensorFlow.Tensor): TensorFlow.Scalar {
  if (objective === 'binary') return tf.losses.logLoss(labels, predictions, undefined, 1e-7) as TensorFlow.Scalar;
  if (objective === 'multiclass') return tf.losses.softmaxCrossEntropy(labels, tf.log(tf.clipByValue(predictions, 1e-7, 1))) as TensorFlow.Scalar;
  return tf.losses.meanSquaredError(labels, predictions) as TensorFlow.Scalar;
}

function labelTensor(labels: Float32Array, outputs: number, objective: ResolvedMlpOptions['objective']): TensorFlow.Tensor {
  if (objective !== 'multiclass') return tf.tensor2d(labels, [labels.length, 1]);
  return tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), outputs).toFloat();
}

/**
 * One pass over the chunks, each chunk's rows in a seeded order (from seed, epoch and chunk,
 * so a resumed run sees the same batches); returns the mean of the batch losses, weighted by
 * batch size. A chunk's first pass also checks its values.
 */
async function runEpoch(network: TensorFlow.Sequential, optimizer: TensorFlow.Optimizer, data: MlpStream, outputs: number, options: ResolvedMlpOptions, epoch: number): Promise<number> {
  const xBatch = new Float32Array(options.batchSize * data.width);
  const yBatch = new Float32Array(options.batchSize);
  let total = 0;
  let seen = 0;
  let chunkIndex = 0;
  for await (const chunk of prefetched(data.chunks())) {
    checkData(chunk, 'training', options, data.width, seen);
    const rows = chunk.labels.length;
    const order = permutation(rows, options.seed * 1_000_003 + epoch + 7919 * chunkIndex++);
    for (let start = 0; start < rows; start += options.batchSize) {
      const size = Math.min(options.batchSize, rows - start);
      for (let b = 0; b < size; b++) {
        const i = order[start + b];
        xBatch.set(chunk.features.subarray(i * data.width, (i + 1) * data.width), b * data.width);
        yBatch[b] = chunk.labels[i];
      }
      const loss = tf.tidy(() => {
        const xs = tf.tensor2d(xBatch.subarray(0, size * data.width), [size, data.width]);
        const ys = labelTensor(yBatch.subarray(0, size), outputs, options.objective);
        const cost = optimizer.minimize(() => {
          const dataLoss = lossOf(options.objective, ys, network.apply(xs) as TensorFlow.Tensor);
          const penalties = network.losses.map((penalty) => penalty());
          return penalties.length > 0 ? (tf.addN([dataLoss, ...penalties]) as TensorFlow.Scalar) : dataLoss;
        }, true) as TensorFlow.Scalar;
        return cost.dataSync()[0];
      });
      total += loss * size;
    }
    seen += rows;
  }
  if (seen === 0) throw new LoomError('INVALID_ARGUMENT', 'the training data has no rows');
  return total / seen;
}

/** The mean loss over all chunks (each chunk's mean weighted by its rows). */
async function evaluateLoss(network: TensorFlow.Sequential, data: MlpStream, outputs: number, options: ResolvedMlpOptions): Promise<number> {
  let total = 0;
  let rows = 0;
  for await (const chunk of prefetched(data.chunks())) {
    if (chunk.labels.length === 0) continue;
    checkData(chunk, 'validation', options, data.width, rows);
    const loss = tf.tidy(() => {
      const predictions = network.predict(tf.tensor2d(chunk.features, [chunk.labels.length, data.width]), { batchSize: 8192 }) as TensorFlow.Tensor;
      return lossOf(options.objective, labelTensor(chunk.labels, outputs, options.objective), predictions).dataSync()[0];
    });
    total += loss * chunk.labels.length;
    rows += chunk.labels.length;
  }
  return total / Math.max(rows, 1);
}


function readLayers(network: TensorFlow.Sequential, options: ResolvedMlpOptions): DenseLayer[] {
  const last = network.layers.length - 1;
  return network.layers.map((layer, k) => {
    const [kernel, bias] = layer.getWeights();
    const [inputs, units] = kernel.shape as [number, number];
    const activation: DenseLayer['activation'] =
      k < last ? 'relu' : options.objective === 'binary' ? 'sigmoid' : options.objective === 'multiclass' ? 'softmax' : 'linear';
    return { inputs, units, kernel: kernel.dataSync() as Float32Array, bias: bias.dataSync() as Float32Array, activation };
  });
}

function adamPowers(optimizer: TensorFlow.Optimizer): [number, number] {
  const internals = optimizer as unknown as AdamInternals;
  return [internals.accBeta1.dataSync()[0], internals.accBeta2.dataSync()[0]];
}

async function readOptimizer(optimizer: TensorFlow.Optimizer): Promise<MlpCheckpoint['optimizer']> {
  const weights = await optimizer.getWeights();
  return weights.map(({ name, tensor }) => ({ name, values: tensor.dataSync() as Float32Array, shape: tensor.shape }));
}

async function restore(checkpoint: MlpCheckpoint, network: TensorFlow.Sequential, optimizer: TensorFlow.Optimizer, history: MlpModel): Promise<number> {
  const layers = checkpoint.model.layers;
  if (layers.length !== network.layers.length || layers.some((layer, k) => layer.units !== (network.layers[k].getWeights()[1].shape[0] ?? -1))) {
    throw new LoomError('FAILED_PRECONDITION', 'the checkpoint was trained with other layer sizes', {
      fix: 'resume with the same hiddenUnits, objective and data as the interrupted run, or start a new run',
    });
  }
  network.layers.forEach((layer, k) =>
    layer.setWeights([tf.tensor2d(layers[k].kernel, [layers[k].inputs, layers[k].units]), tf.tensor1d(layers[k].bias)]),
  );
  await optimizer.setWeights(checkpoint.optimizer.map(({ name, values, shape }) => ({ name, tensor: tf.tensor(values, shape) })));
  const internals = optimizer as unknown as AdamInternals;
  internals.accBeta1.assign(tf.scalar(checkpoint.adamPowers[0]));
  internals.accBeta2.assign(tf.scalar(checkpoint.adamPowers[1]));
  history.trainLoss.push(...checkpoint.model.trainLoss);
  history.validationLoss.push(...checkpoint.model.validationLoss);
  history.epochSeconds.push(...checkpoint.model.epochSeconds);
  return checkpoint.epochsDone;
}

/** The network's outputs for a row-major matrix, computed in plain JavaScript (float64), [rows, outputs]. */
export function predictMlp(model: MlpModel, features: Float32Array, rows: number): Float64Array {
  let current: Float64Array = Float64Array.from(features);
  for (const layer of model.layers) {
    const next = new Float64Array(rows * layer.units);
    for (let i = 0; i < rows; i++) {
      for (let u = 0; u < layer.units; u++) {
        let sum = layer.bias[u];
        for (let j = 0; j < layer.inputs; j++) sum += current[i * layer.inputs + j] * layer.kernel[j * layer.units + u];
        next[i * layer.units + u] = layer.activation === 'relu' ? Math.max(0, sum) : layer.activation === 'sigmoid' ? 1 / (1 + Math.exp(-sum)) : sum;
      }
      if (layer.activation === 'softmax') softmaxRow(next, i * layer.units, layer.units);
    }
    current = next;
  }
  return current;
}

function softmaxRow(values: Float64Array, offset: number, size: number): void {
  let max = -Infinity;
  for (let k = 0; k < size; k++) max = Math.max(max, values[offset + k]);
  let sum = 0;
  for (let k = 0; k < size; k++) {
    values[offset + k] = Math.exp(values[offset + k] - max);
    sum += values[offset + k];
  }
  for (let k = 0; k < size; k++) values[offset + k] /= sum;
}
