/**
 * Gradient-boosted trees in the train step: early stopping on a hold-out of the training
 * split, the hold-out loss logged live per round, checkpoints every N rounds, and resume
 * from a checkpoint ending with the same trees as an uninterrupted run.
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { gbdtOptionsObject, trainGbdt, type GbdtModel } from '../gbdt/boost.js';
import { exportGbdt } from '../gbdt/export.js';
import { holdOut, assertBinaryLabelsVary, readTransformedSplit } from '../transformed-data.js';
import { readCheckpoint, writeCheckpoint } from '../../core/checkpoint-files.js';
import { METADATA_LABEL_COLUMN } from '../../transform/graph.js';
import { defineTrainer, HOLD_OUT_EVERY, type TrainerOutcome, type TrainerRun } from './trainer.js';

// The core's hyperparameters, binary only (the train step's models output one probability).
export const gbdtParameters = gbdtOptionsObject
  .omit({ objective: true, numClasses: true })
  .extend({ algorithm: z.literal('gbdt') })
  .strict();

export async function trainGbdtStep(run: TrainerRun<z.output<typeof gbdtParameters>>): Promise<TrainerOutcome> {
  const { parameters, services, meta, checkpoints } = run;
  const { algorithm: _algorithm, ...options } = parameters;
  const trainSplit = await readTransformedSplit(run.dataDir, 'train');
  assertBinaryLabelsVary(trainSplit, run.metadata[METADATA_LABEL_COLUMN] ?? 'label');
  const { fit, holdout } = holdOut(trainSplit, HOLD_OUT_EVERY);
  const resumeFrom = (await readCheckpoint(checkpoints?.resumeFrom)) as GbdtModel | undefined;
  services.log(
    `train: gradient-boosted trees on ${fit.labels.length} rows x ${meta.width} columns (${holdout.labels.length} held out)` +
      (resumeFrom ? `, resuming after round ${resumeFrom.rounds}` : ''),
  );
  await services.tracking?.logParams({ ...parameters, categoricalFeatures: parameters.categoricalFeatures.join(','), trainRows: fit.labels.length, width: meta.width });
  const task = services.progress.start('training', parameters.numTrees, 'trees');
  if (resumeFrom) task.advance(resumeFrom.rounds);
  const model = await trainGbdt(fit, { ...options, objective: 'binary' }, holdout, {
    resumeFrom,
    onRound: async ({ round, validationLoss, model: sofar }) => {
      task.advance(1);
      await services.tracking?.logMetrics({ holdout_log_loss: validationLoss as number }, { step: round + 1 });
      if (checkpoints && checkpoints.every > 0 && (round + 1) % checkpoints.every === 0) await writeCheckpoint(checkpoints.dir, sofar);
    },
  });
  task.done();
  services.log(`train: ${model.rounds} rounds, kept ${model.bestRound} (${model.stoppedBecause})`);
  await writeFile(run.modelPath, exportGbdt(model, { featureNames: meta.featureNames, metadata: run.metadata }));
  const stoppedBecause = model.stoppedBecause === 'rounds' ? 'completed' : model.stoppedBecause;
  await services.tracking?.setTags({ 'loom.stopped_because': stoppedBecause });
  return { algorithm: 'gbdt', stoppedBecause, properties: { rounds: model.rounds, bestRound: model.bestRound, holdoutLoss: model.validationLoss } };
}

/** Gradient-boosted trees (LightGBM's histogram algorithm); tunable. */
export const gbdtTrainer = defineTrainer({
  parameters: gbdtParameters,
  train: trainGbdtStep,
  async tuneTrial({ fit, holdout, options, report, featureNames, metadata }) {
    const model = await trainGbdt(fit, options, holdout, { onRound: ({ round, validationLoss }) => report(round + 1, validationLoss as number) });
    return { loss: model.validationLoss[model.bestRound - 1], model: exportGbdt(model, { featureNames, metadata }) };
  },
});
