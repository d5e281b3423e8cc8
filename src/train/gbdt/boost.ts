/**
 * Histogram-based gradient-boosted trees (the LightGBM algorithm: binned features,
 * leaf-wise growth, histogram subtraction), written for Loom because no maintained GBDT
 * exists for TypeScript. Pure: arrays in, trees out. Deterministic: no sampling but the
 * seeded choice of bin bounds, and a fixed order of arithmetic, whatever the number of
 * histogram threads (histogram-pool.ts).
 *
 * Resuming from a checkpoint replays the kept trees over the data in the order training
 * added them, so the scores, and therefore every later tree, are bit-identical to an
 * uninterrupted run.
 *
 * Usage:
 *   const model = await trainGbdt({ features, labels, width }, { objective: 'binary', numTrees: 100 });
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { LabelledMatrix } from '../transformed-data.js';
import { binMatrix } from './binning.js';
import { OBJECTIVES, objectiveFunctions, requireClassCount } from './objectives.js';
import { MAX_SHARDS, sharedFloat64 } from './histogram-pool.js';
import { TreeWorkspace, growTree, predictTree, type Tree } from './tree.js';

/** The hyperparameters; the train step derives its own parameters from these. */
export const gbdtOptionsObject = z
  .object({
    objective: z.enum(OBJECTIVES).default('binary'),
    /** Classes of a multiclass objective (labels 0..numClasses-1). */
    numClasses: z.number().int().min(3).optional(),
    numTrees: z.number().int().min(1).max(100_000).default(100),
    numLeaves: z.number().int().min(2).max(131_072).default(31),
    maxDepth: z.number().int().default(-1),
    learningRate: z.number().gt(0).max(1).default(0.1),
    maxBins: z.number().int().min(2).max(65_535).default(255),
    /** Columns holding category codes (integers from 0): split one category against the rest. */
    categoricalFeatures: z.array(z.number().int().min(0)).default([]),
    minDataInLeaf: z.number().int().min(1).default(20),
    minSumHessian: z.number().min(0).default(1e-3),
    lambdaL2: z.number().min(0).default(0),
    minGain: z.number().min(0).default(0),
    /** Stop when the validation loss has not improved for this many rounds (needs validation data); 0 = never. */
    earlyStoppingRounds: z.number().int().min(0).default(10),
    seed: z.number().int().default(42),
    /**
     * Threads building histograms, gradients and leaf partitions (LightGBM's `num_threads`);
     * default: the machine's cores, at most 16. The trees do not depend on it: rows are cut
     * into shards by their count alone.
     */
    threads: z.number().int().min(1).max(64).optional(),
  })
  .strict();
export const gbdtOptionsSchema = requireClassCount(gbdtOptionsObject);
export type GbdtOptions = z.input<typeof gbdtOptionsSchema>;
export type ResolvedGbdtOptions = z.output<typeof gbdtOptionsSchema>;

/** Row-major float32 features [rows, width] and one label per row. */
export type Matrix = LabelledMatrix;

export interface GbdtModel {
  objective: ResolvedGbdtOptions['objective'];
  /** Trees per round: 1, or the class count. */
  outputs: number;
  width: number;
  initScores: number[];
  /** trees[round * outputs + k] is round's tree for output k. */
  trees: Tree[];
  /** Rounds trained (before early stopping trims to `bestRound`). */
  rounds: number;
  /**
   * Loss after each round: on the validation data when given, else on the training data when
   * an `onRound` callback watches (the other stays empty).
   */
  trainLoss: number[];
  validationLoss: number[];
  /** The round kept as final (early stopping keeps the best), 1-based. */
  bestRound: number;
  stoppedBecause: 'rounds' | 'early_stopping' | 'no_split' | 'stopped';
}

export interface GbdtCallbacks {
  /**
   * After each round (0-based), with its losses and the model so far (for checkpoints; do not
   * change it); return 'stop' to end training with the trees grown so far.
   */
  onRound?(progress: { round: number; trainLoss: number | undefined; validationLoss: number | undefined; model: Readonly<GbdtModel> }): void | 'stop' | Promise<void | 'stop'>;
  /** Where to resume from: a model saved by an earlier run of the same options and data. */
  resumeFrom?: GbdtModel;
}

export async function trainGbdt(train: Matrix, rawOptions: GbdtOptions = {}, validation?: Matrix, callbacks: GbdtCallbacks = {}): Promise<GbdtModel> {
  const options = parseOptions(rawOptions);
  const rows = train.labels.length;
  checkMatrix(train, 'training', options);
  if (validation) checkMatrix(validation, 'validation', options, train.width);
  const binned = binMatrix(train.features, rows, train.width, { maxBins: options.maxBins, seed: options.seed, categoricalFeatures: options.categoricalFeatures });
  const numClasses = options.numClasses ?? 2;
  const objective = objectiveFunctions(options.objective, numClasses);
  const initScores = objective.initScores(train.labels);
  // Scores and labels in shared memory: the histogram threads compute the gradients from them.
  const scores = startingScores(rows, initScores, true);
  const labels = new Float32Array(new SharedArrayBuffer(train.labels.byteLength));
  labels.set(train.labels);
  const threads = options.threads ?? Math.min(MAX_SHARDS, availableParallelism());
  const work = new TreeWorkspace(binned, threads, { objective: options.objective, numClasses, scores, labels });
  try {
    return await boost(train, options, validation, callbacks, work, scores, initScores);
  } finally {
    await work.close();
  }
}

async function boost(
  train: Matrix,
  options: ResolvedGbdtOptions,
  validation: Matrix | undefined,
  callbacks: GbdtCallbacks,
  work: TreeWorkspace,
  scores: Float64Array,
  initScores: number[],
): Promise<GbdtModel> {
  const objective = objectiveFunctions(options.objective, options.numClasses ?? 2);
  const outputs = objective.outputs;
  const validScores = validation ? startingScores(validation.labels.length, initScores) : undefined;
  const model: GbdtModel = {
    objective: options.objective,
    outputs,
    width: train.width,
    initScores,
    trees: [],
    rounds: 0,
    trainLoss: [],
    validationLoss: [],
    bestRound: 0,
    stoppedBecause: 'rounds',
  };
  if (callbacks.resumeFrom) replay(callbacks.resumeFrom, model, train, scores, validation, validScores);

  for (let round = model.rounds; round < options.numTrees; round++) {
    let grew = false;
    for (let k = 0; k < outputs; k++) {
      work.computeGradients(k);
      const tree = growTree(work, options, scores, outputs, k);
      grew ||= tree.feature[0] >= 0;
      model.trees.push(tree);
      if (validation && validScores) addTree(tree, validation, validScores, outputs, k);
    }
    // With validation data its loss is the signal. The training loss costs a pass over every
    // row, so (as LightGBM) it is computed only when someone watches the rounds and has no other.
    const validationLoss = validation && validScores ? objective.loss(validScores, validation.labels) : undefined;
    if (validationLoss !== undefined && !Number.isFinite(validationLoss)) {
      throw new LoomError('FAILED_PRECONDITION', `gradient boosting diverged: the validation loss after round ${round + 1} is ${validationLoss}`, {
        fix: 'lower learningRate or raise minDataInLeaf; check the features for extreme values',
      });
    }
    if (validationLoss !== undefined) model.validationLoss.push(validationLoss);
    else if (callbacks.onRound) model.trainLoss.push(objective.loss(scores, train.labels));
    model.rounds = round + 1;
    const verdict = await callbacks.onRound?.({ round, trainLoss: model.trainLoss[round], validationLoss, model });
    if (!grew) {
      model.stoppedBecause = 'no_split';
      break;
    }
    if (verdict === 'stop') {
      model.stoppedBecause = 'stopped';
      break;
    }
    if (shouldStopEarly(model.validationLoss, options.earlyStoppingRounds)) {
      model.stoppedBecause = 'early_stopping';
      break;
    }
  }
  return keepBestRound(model);
}

function parseOptions(raw: GbdtOptions): ResolvedGbdtOptions {
  return parseInput(gbdtOptionsSchema, raw, {
    what: 'gradient-boosted trees',
    fix: 'see `gbdtOptionsSchema` for the hyperparameters and their ranges (numTrees, numLeaves, learningRate, ...)',
  });
}

function checkMatrix(matrix: Matrix, what: string, options: ResolvedGbdtOptions, width?: number): void {
  const rows = matrix.labels.length;
  if (rows === 0) throw new LoomError('INVALID_ARGUMENT', `the ${what} data has no rows`);
  if (width !== undefined && matrix.width !== width) {
    throw new LoomError('INVALID_ARGUMENT', `the ${what} data has ${matrix.width} columns, the training data ${width}`);
  }
  if (matrix.features.length !== rows * matrix.width) {
    throw new LoomError('INVALID_ARGUMENT', `the ${what} matrix has ${matrix.features.length} values, not ${rows} x ${matrix.width}`);
  }
  for (let i = 0; i < rows; i++) {
    const y = matrix.labels[i];
    const bad =
      !Number.isFinite(y) ||
      (options.objective === 'binary' && y !== 0 && y !== 1) ||
      (options.objective === 'multiclass' && (!Number.isInteger(y) || y < 0 || y >= (options.numClasses ?? 0)));
    if (bad) {
      throw new LoomError('INVALID_ARGUMENT', `${what} label at row ${i} is ${y}, which a ${options.objective} objective cannot use`, {
        field: 'label',
        fix: options.objective === 'binary' ? 'labels must be 0 or 1' : options.objective === 'multiclass' ? `labels must be integers 0..${(options.numClasses ?? 1) - 1}` : 'labels must be finite numbers',
      });
    }
  }
}

function startingScores(rows: number, init: number[], shared = false): Float64Array {
  const scores = shared ? sharedFloat64(rows * init.length) : new Float64Array(rows * init.length);
  for (let i = 0; i < rows; i++) for (let k = 0; k < init.length; k++) scores[i * init.length + k] = init[k];
  return scores;
}

function addTree(tree: Tree, data: Matrix, scores: Float64Array, outputs: number, k: number): void {
  const rows = data.labels.length;
  for (let i = 0; i < rows; i++) scores[i * outputs + k] += predictTree(tree, data.features, i * data.width);
}

/** Re-applies a checkpoint's trees, round by round, exactly as training added them. */
function replay(saved: GbdtModel, model: GbdtModel, train: Matrix, scores: Float64Array, validation: Matrix | undefined, validScores: Float64Array | undefined): void {
  if (saved.width !== model.width || saved.outputs !== model.outputs || saved.objective !== model.objective) {
    throw new LoomError('FAILED_PRECONDITION', 'the checkpoint was trained with another objective or data width', {
      fix: 'resume with the same options and data as the interrupted run, or start a new run',
    });
  }
  const rounds = Math.floor(saved.trees.length / saved.outputs);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < model.outputs; k++) {
      const tree = saved.trees[r * model.outputs + k];
      model.trees.push(tree);
      addTree(tree, train, scores, model.outputs, k);
      if (validation && validScores) addTree(tree, validation, validScores, model.outputs, k);
    }
    if (saved.trainLoss[r] !== undefined) model.trainLoss.push(saved.trainLoss[r]);
    if (saved.validationLoss[r] !== undefined) model.validationLoss.push(saved.validationLoss[r]);
  }
  model.rounds = rounds;
}

function shouldStopEarly(losses: number[], patience: number): boolean {
  if (patience <= 0 || losses.length <= patience) return false;
  const best = Math.min(...losses);
  return losses.lastIndexOf(best) < losses.length - patience;
}

function keepBestRound(model: GbdtModel): GbdtModel {
  let best = model.rounds;
  if (model.validationLoss.length > 0) {
    const lowest = Math.min(...model.validationLoss);
    best = model.validationLoss.indexOf(lowest) + 1;
  }
  return { ...model, bestRound: best, trees: model.trees.slice(0, best * model.outputs) };
}

/** Raw scores (logits for classifiers) of every row, [rows, outputs]. */
export function predictRaw(model: GbdtModel, features: Float32Array, rows: number): Float64Array {
  const scores = startingScores(rows, model.initScores);
  for (let t = 0; t < model.trees.length; t++) {
    const k = t % model.outputs;
    for (let i = 0; i < rows; i++) scores[i * model.outputs + k] += predictTree(model.trees[t], features, i * model.width);
  }
  return scores;
}
