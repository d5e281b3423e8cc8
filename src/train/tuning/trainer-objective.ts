/**
 * The objective `loom tune` runs in its trial workers: train one of Loom's trainers on the
 * transformed training split with the trial's parameters (plus the fixed ones), holding
 * out every 5th row; report the hold-out loss after each round or epoch (so poor trials
 * are pruned); return the final hold-out loss, and leave the trial's ONNX model in
 * `<outputDir>/trial-<n>/model.onnx` for the study to register the best one.
 */
import { Model } from '../../pipeline/artifact-types.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { trainGbdt } from '../gbdt/boost.js';
import { exportGbdt } from '../gbdt/export.js';
import { exportMlp } from '../mlp/export.js';
import { trainMlp } from '../mlp/mlp.js';
import { METADATA_LABEL_COLUMN } from '../../transform/graph.js';
import { HOLD_OUT_EVERY } from '../trainers/trainer.js';
import { assertBinaryLabelsVary, holdOut, readTransformedMeta, readTransformedSplit } from '../transformed-data.js';
import type { Params } from './search-space.js';
import type { ObjectiveResult, TrialHandle } from './trial-protocol.js';

export const TUNABLE_TRAINERS = ['gbdt', 'mlp'] as const;

const contextSchema = z.object({
  dataDir: z.string().min(1),
  outputDir: z.string().min(1),
  trainer: z.enum(TUNABLE_TRAINERS),
  /** Parameters every trial shares (objective, numTrees, ...). */
  fixed: z.record(z.string(), z.unknown()).default({}),
  /** metadata_props for the exported models (the label column). */
  metadata: z.record(z.string(), z.string()).default({}),
});
export type TrainerObjectiveContext = z.input<typeof contextSchema>;

export async function trainerObjective(params: Params, trial: TrialHandle): Promise<ObjectiveResult> {
  const context = parseInput(contextSchema, trial.context, { what: 'the tuning objective context' });
  const meta = await readTransformedMeta(context.dataDir);
  const trainSplit = await readTransformedSplit(context.dataDir, 'train');
  assertBinaryLabelsVary(trainSplit, context.metadata[METADATA_LABEL_COLUMN] ?? 'label');
  const { fit, holdout } = holdOut(trainSplit, HOLD_OUT_EVERY);
  const options = { ...context.fixed, ...params };
  let bytes: Uint8Array;
  let loss: number;
  if (context.trainer === 'gbdt') {
    const model = await trainGbdt(fit, options, holdout, {
      onRound: ({ round, validationLoss }) => trial.report(round + 1, validationLoss as number),
    });
    loss = model.validationLoss[model.bestRound - 1];
    bytes = exportGbdt(model, { featureNames: meta.featureNames, metadata: context.metadata });
  } else {
    const model = await trainMlp(fit, options, holdout, {
      onEpoch: ({ epoch, validationLoss }) => trial.report(epoch + 1, validationLoss as number),
    });
    loss = model.validationLoss[model.validationLoss.length - 1];
    bytes = exportMlp(model, { featureNames: meta.featureNames, metadata: context.metadata });
  }
  const dir = join(context.outputDir, `trial-${trial.number}`);
  await mkdir(dir, { recursive: true });
  const modelPath = Model.files.model(dir);
  await writeFile(modelPath, bytes);
  return { value: loss, result: { modelPath } };
}
