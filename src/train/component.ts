/**
 * The `train` step: one of Loom's trainers, chosen by the `algorithm` parameter, on the
 * transformed training split, exported as `model.onnx` (features -> probability).
 *   logistic_regression (the default)  objective, numClasses, epochs, learningRate, l1, l2, batchSize, seed, chunkRows
 *   gbdt                               numTrees, numLeaves, learningRate, earlyStoppingRounds, ...
 *   mlp                                hiddenUnits, epochs, batchSize, learningRate, l2, patience, chunkRows
 *   custom                             command, params, timeoutSeconds, env (any program writing ONNX)
 * With `checkpointEvery`, every in-process trainer writes a checkpoint every N rounds or
 * epochs; a step killed part-way and run again continues from its last checkpoint to the
 * same model. The optional input `warmStartFrom` (an earlier logistic regression, e.g.
 * `p.alias('flights', 'champion')`) makes the step an incremental update of that model on
 * this run's data; lineage records it as an input of the new model.
 */
import { z } from 'zod';
import { defineComponent } from '../pipeline/component.js';
import { LoomError } from '../core/errors.js';
import { Model, ServingModel, TransformGraph, TransformedExamples } from '../pipeline/artifact-types.js';
import { METADATA_LABEL_COLUMN } from '../transform/graph.js';
import { readTransformedMeta } from './transformed-data.js';
import { customParameters, trainCustom } from './trainers/custom.js';
import { gbdtParameters, trainGbdtStep } from './trainers/gbdt.js';
import { logisticParameters, trainLogistic } from './trainers/logistic.js';
import { mlpParameters, trainMlpStep } from './trainers/mlp.js';
import type { TrainerOutcome, TrainerRun } from './trainers/trainer.js';

export const TRAIN_ALGORITHMS = ['logistic_regression', 'gbdt', 'mlp', 'custom'] as const;

const checkpointEvery = { checkpointEvery: z.number().int().min(0).default(0) };

export const trainParameters = z.preprocess(
  // Pipelines written before trainers were selectable give logistic regression's parameters alone.
  (value) => (typeof value === 'object' && value !== null && !('algorithm' in value) ? { ...value, algorithm: 'logistic_regression' } : value),
  z.discriminatedUnion('algorithm', [
    logisticParameters.extend(checkpointEvery),
    gbdtParameters.extend(checkpointEvery),
    mlpParameters.extend(checkpointEvery),
    customParameters.extend(checkpointEvery),
  ]),
);
export type TrainParameters = z.input<typeof trainParameters>;

export const trainComponent = defineComponent({
  name: 'train',
  version: '3',
  description: 'Trains logistic regression, gradient-boosted trees, a neural network or a custom command on the transformed training split; exports ONNX',
  inputs: {
    transformedExamples: { type: TransformedExamples },
    transformGraph: { type: TransformGraph },
    /** A model to continue training (logistic regression only): a registry alias's ServingModel, or a Model. */
    warmStartFrom: { type: ServingModel, optional: true },
  },
  outputs: { model: Model },
  parameters: trainParameters,
  async execute({ inputs, outputs, parameters, checkpoints }, services) {
    const dataDir = inputs.transformedExamples.path;
    const { checkpointEvery: every, ...trainer } = parameters;
    const base = {
      dataDir,
      meta: await readTransformedMeta(dataDir),
      services,
      modelPath: Model.files.model(outputs.model),
      metadata: { [METADATA_LABEL_COLUMN]: String(inputs.transformGraph.properties.labelColumn ?? '') },
      checkpoints: checkpoints && { ...checkpoints, every },
    };
    const warmStartFrom = inputs.warmStartFrom && ServingModel.files.model(inputs.warmStartFrom.path);
    if (warmStartFrom && trainer.algorithm !== 'logistic_regression') {
      throw new LoomError('INVALID_ARGUMENT', `warmStartFrom updates a logistic regression; the ${trainer.algorithm} trainer starts from scratch`, {
        field: 'warmStartFrom',
        fix: "drop the warmStartFrom input, or train with algorithm 'logistic_regression'",
      });
    }
    const outcome = await runTrainer(trainer, base, warmStartFrom);
    return {
      properties: {
        model: {
          algorithm: outcome.algorithm,
          inputWidth: base.meta.width,
          stoppedBecause: outcome.stoppedBecause,
          hyperparameters: { ...parameters },
          ...(outcome.lossPerEpoch ? { lossPerEpoch: outcome.lossPerEpoch } : {}),
          // An incremental update names the model it continued (lineage also has it as an input).
          training: { ...outcome.properties, ...(warmStartFrom ? { warmStartedFrom: inputs.warmStartFrom!.uri } : {}) },
        },
      },
    };
  },
});

// Omit over each member, so the union stays discriminated by `algorithm`.
type TrainerChoice = z.output<typeof trainParameters> extends infer T ? (T extends unknown ? Omit<T, 'checkpointEvery'> : never) : never;

function runTrainer(trainer: TrainerChoice, base: Omit<TrainerRun<unknown>, 'parameters'>, warmStartFrom: string | undefined): Promise<TrainerOutcome> {
  switch (trainer.algorithm) {
    case 'logistic_regression':
      return trainLogistic({ ...base, parameters: trainer }, warmStartFrom);
    case 'gbdt':
      return trainGbdtStep({ ...base, parameters: trainer });
    case 'mlp':
      return trainMlpStep({ ...base, parameters: trainer });
    case 'custom':
      return trainCustom({ ...base, parameters: trainer });
  }
}
