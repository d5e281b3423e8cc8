/**
 * The `train` step: one of Loom's trainers (the registry in `trainers/index.ts`), chosen by
 * the `algorithm` parameter, on the transformed training split, exported as `model.onnx`
 * (features -> probability); each trainer's file declares its parameters.
 * With `checkpointEvery`, every in-process trainer writes a checkpoint every N rounds or
 * epochs; a step killed part-way and run again continues from its last checkpoint to the
 * same model. The optional input `warmStartFrom` (an earlier model of a trainer that
 * `warmStarts`, e.g. `p.alias('flights', 'champion')`) makes the step an incremental update
 * of that model on this run's data; lineage records it as an input of the new model.
 */
import { z } from 'zod';
import { defineComponent } from '../pipeline/component.js';
import { LoomError } from '../core/errors.js';
import { Model, ServingModel, TransformGraph, TransformedExamples } from '../pipeline/artifact-types.js';
import { METADATA_LABEL_COLUMN } from '../transform/graph.js';
import { readTransformedMeta } from './transformed-data.js';
import { DEFAULT_ALGORITHM, TRAINERS, trainerFor } from './trainers/index.js';

const checkpointEvery = { checkpointEvery: z.number().int().min(0).default(0) };

/** Each registered trainer's parameters with the step's own `checkpointEvery`, keeping each member's type. */
type StepParameters<T extends readonly { parameters: z.ZodType }[]> = {
  -readonly [K in keyof T]: T[K]['parameters'] extends z.ZodObject<infer Shape, infer Config> ? z.ZodObject<Shape & typeof checkpointEvery, Config> : never;
};

export const trainParameters = z.preprocess(
  // Pipelines written before trainers were selectable give logistic regression's parameters alone.
  (value) => (typeof value === 'object' && value !== null && !('algorithm' in value) ? { ...value, algorithm: DEFAULT_ALGORITHM } : value),
  z.discriminatedUnion('algorithm', TRAINERS.map((trainer) => trainer.parameters.extend(checkpointEvery)) as unknown as StepParameters<typeof TRAINERS>),
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
    const chosen = trainerFor(trainer.algorithm);
    if (warmStartFrom && !chosen.warmStarts) {
      const warmStarting = TRAINERS.filter((t) => t.warmStarts).map((t) => `'${t.algorithm}'`).join(' or ');
      throw new LoomError('INVALID_ARGUMENT', `warmStartFrom continues an earlier model; the ${trainer.algorithm} trainer starts from scratch`, {
        field: 'warmStartFrom',
        fix: `drop the warmStartFrom input, or train with algorithm ${warmStarting}`,
      });
    }
    const outcome = await chosen.train({ ...base, parameters: trainer }, warmStartFrom);
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
