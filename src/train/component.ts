/**
 * The `train` step: one of Loom's trainers, chosen by the `algorithm` parameter, on the
 * transformed training split, exported as `model.onnx` (features -> probability).
 *   logistic_regression (the default)  epochs, learningRate, l2, batchSize, seed
 *   gbdt                               numTrees, numLeaves, learningRate, earlyStoppingRounds, ...
 *   mlp                                hiddenUnits, epochs, batchSize, learningRate, l2, patience
 *   custom                             command, params, timeoutSeconds, env (any program writing ONNX)
 * With `checkpointEvery`, gbdt and mlp write a checkpoint every N rounds or epochs; a step
 * killed part-way and run again continues from its last checkpoint to the same model.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { defineComponent } from '../pipeline/component.js';
import { Model, TransformGraph, TransformedExamples } from '../pipeline/artifact-types.js';
import { METADATA_LABEL_COLUMN } from '../transform/graph.js';
import { readTransformedMeta } from './transformed-data.js';
import { customParameters, trainCustom } from './trainers/custom.js';
import { gbdtParameters, trainGbdtStep } from './trainers/gbdt.js';
import { logisticParameters, trainLogistic } from './trainers/logistic.js';
import { mlpParameters, trainMlpStep } from './trainers/mlp.js';
import type { TrainerOutcome, TrainerRun } from './trainers/trainer.js';

export const MODEL_FILE = 'model.onnx';

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
  version: '2',
  description: 'Trains logistic regression, gradient-boosted trees, a neural network or a custom command on the transformed training split; exports ONNX',
  inputs: { transformedExamples: { type: TransformedExamples }, transformGraph: { type: TransformGraph } },
  outputs: { model: Model },
  parameters: trainParameters,
  async execute({ inputs, outputs, parameters, services }) {
    const dataDir = inputs.transformedExamples.path;
    const { checkpointEvery: every, ...trainer } = parameters;
    const base = {
      dataDir,
      meta: await readTransformedMeta(dataDir),
      services,
      modelPath: join(outputs.model, MODEL_FILE),
      metadata: { [METADATA_LABEL_COLUMN]: String(inputs.transformGraph.properties.labelColumn ?? '') },
      checkpoints: services.checkpoints && { ...services.checkpoints, every },
    };
    const outcome = await runTrainer(trainer, base);
    return {
      properties: {
        model: {
          algorithm: outcome.algorithm,
          inputWidth: base.meta.width,
          stoppedBecause: outcome.stoppedBecause,
          hyperparameters: { ...parameters },
          ...(outcome.lossPerEpoch ? { lossPerEpoch: outcome.lossPerEpoch } : {}),
          training: outcome.properties,
        },
      },
    };
  },
});

// Omit over each member, so the union stays discriminated by `algorithm`.
type TrainerChoice = z.output<typeof trainParameters> extends infer T ? (T extends unknown ? Omit<T, 'checkpointEvery'> : never) : never;

function runTrainer(trainer: TrainerChoice, base: Omit<TrainerRun<unknown>, 'parameters'>): Promise<TrainerOutcome> {
  switch (trainer.algorithm) {
    case 'logistic_regression':
      return trainLogistic({ ...base, parameters: trainer });
    case 'gbdt':
      return trainGbdtStep({ ...base, parameters: trainer });
    case 'mlp':
      return trainMlpStep({ ...base, parameters: trainer });
    case 'custom':
      return trainCustom({ ...base, parameters: trainer });
  }
}
