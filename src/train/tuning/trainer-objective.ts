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
import { METADATA_LABEL_COLUMN } from '../../transform/graph.js';
import { TUNABLE_TRAINERS, trainerFor } from '../trainers/index.js';
import { HOLD_OUT_EVERY } from '../trainers/trainer.js';
import { assertBinaryLabelsVary, holdOut, readTransformedMeta, readTransformedSplit } from '../transformed-data.js';
import type { Params } from './search-space.js';
import type { ObjectiveResult, TrialHandle } from './trial-protocol.js';

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
  // TUNABLE_TRAINERS lists only trainers with a tuneTrial, and the context was checked against it.
  const { loss, model: bytes } = await trainerFor(context.trainer).tuneTrial!({
    fit,
    holdout,
    options: { ...context.fixed, ...params },
    report: (step, value) => trial.report(step, value),
    featureNames: meta.featureNames,
    metadata: context.metadata,
  });
  const dir = join(context.outputDir, `trial-${trial.number}`);
  await mkdir(dir, { recursive: true });
  const modelPath = Model.files.model(dir);
  await writeFile(modelPath, bytes);
  return { value: loss, result: { modelPath } };
}
