/**
 * The neural network in the train step: hold-out loss per epoch logged live, stop when it
 * has not improved for `patience` epochs (the reason is recorded), checkpoints every N
 * epochs, and resume from one bit for bit. The training split is streamed from disk
 * `chunkRows` rows at a time (the hold-out is every 5th row of it, taken chunk by chunk), so
 * a split larger than memory trains.
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { exportMlp } from '../mlp/export.js';
import { mlpOptionsObject, trainMlp, type MlpCheckpoint } from '../mlp/mlp.js';
import { assertBinaryLabelsVaryOnDisk, holdOutChunks, readTransformedChunks } from '../transformed-data.js';
import { readCheckpoint, writeCheckpoint } from '../../core/checkpoint-files.js';
import { METADATA_LABEL_COLUMN } from '../../transform/graph.js';
import { defineTrainer, HOLD_OUT_EVERY, type TrainerOutcome, type TrainerRun } from './trainer.js';

// The core's hyperparameters, binary only, plus the step's patience.
export const mlpParameters = mlpOptionsObject
  .omit({ objective: true, numClasses: true })
  .extend({
    algorithm: z.literal('mlp'),
    /** Stop when the hold-out loss has not improved for this many epochs; 0 = never. */
    patience: z.number().int().min(0).default(0),
    /** Rows read from disk at a time. */
    chunkRows: z.number().int().min(1).default(65_536),
  })
  .strict();

export async function trainMlpStep(run: TrainerRun<z.output<typeof mlpParameters>>): Promise<TrainerOutcome> {
  const { parameters, services, meta, checkpoints } = run;
  const { algorithm: _algorithm, patience, chunkRows, ...options } = parameters;
  const rows = await assertBinaryLabelsVaryOnDisk(run.dataDir, 'train', run.metadata[METADATA_LABEL_COLUMN] || 'label');
  const part = (which: 'fit' | 'holdout') => ({
    width: meta.width,
    chunks: () => holdOutChunks(readTransformedChunks(run.dataDir, 'train', chunkRows), HOLD_OUT_EVERY, which),
  });
  const held = Math.floor(rows / HOLD_OUT_EVERY);
  const fit = part('fit');
  const holdout = part('holdout');
  const resumeFrom = fromJson(await readCheckpoint(checkpoints?.resumeFrom));
  services.log(`train: neural network ${JSON.stringify(parameters.hiddenUnits)} on ${rows - held} rows x ${meta.width} columns (${held} held out), ${chunkRows} rows at a time` + (resumeFrom ? `, resuming after epoch ${resumeFrom.epochsDone}` : ''));
  await services.tracking?.logParams({ ...parameters, hiddenUnits: parameters.hiddenUnits.join(','), trainRows: rows - held, width: meta.width });
  const task = services.progress.start('training', parameters.epochs, 'epochs');
  if (resumeFrom) task.advance(resumeFrom.epochsDone);
  // A resumed run continues the patience count of the run it continues.
  let best = Infinity;
  let sinceBest = 0;
  for (const loss of resumeFrom?.model.validationLoss ?? []) {
    if (loss < best) {
      best = loss;
      sinceBest = 0;
    } else sinceBest++;
  }
  let stoppedBecause = 'completed';
  const model = await trainMlp(fit, { ...options, objective: 'binary' }, holdout, {
    resumeFrom,
    onEpoch: async ({ epoch, trainLoss, validationLoss, checkpoint }) => {
      task.advance(1);
      services.log(`train: epoch ${epoch + 1}/${parameters.epochs} loss ${trainLoss.toFixed(5)}, hold-out ${validationLoss?.toFixed(5)}`);
      await services.tracking?.logMetrics({ train_log_loss: trainLoss, holdout_log_loss: validationLoss as number }, { step: epoch + 1 });
      if (checkpoints && checkpoints.every > 0 && (epoch + 1) % checkpoints.every === 0) await writeCheckpoint(checkpoints.dir, await checkpoint());
      if ((validationLoss as number) < best) {
        best = validationLoss as number;
        sinceBest = 0;
      } else if (patience > 0 && ++sinceBest >= patience) {
        stoppedBecause = 'patience';
        services.log(`train: no improvement for ${patience} epochs; stopping`);
        return 'stop';
      }
      return undefined;
    },
  });
  task.done();
  await writeFile(run.modelPath, exportMlp(model, { featureNames: meta.featureNames, metadata: run.metadata }));
  await services.tracking?.setTags({ 'loom.stopped_because': stoppedBecause });
  return { algorithm: 'mlp', stoppedBecause, lossPerEpoch: model.trainLoss, properties: { holdoutLoss: model.validationLoss, epochSeconds: model.epochSeconds } };
}

/** A checkpoint read back from JSON, its number lists turned into Float32Arrays again. */
function fromJson(value: unknown): MlpCheckpoint | undefined {
  if (value === undefined) return undefined;
  const saved = value as MlpCheckpoint;
  return {
    ...saved,
    model: { ...saved.model, layers: saved.model.layers.map((layer) => ({ ...layer, kernel: Float32Array.from(layer.kernel), bias: Float32Array.from(layer.bias) })) },
    optimizer: saved.optimizer.map((weight) => ({ ...weight, values: Float32Array.from(weight.values) })),
  };
}

/** A neural network (TensorFlow.js on wasm), streamed from disk; tunable. */
export const mlpTrainer = defineTrainer({
  parameters: mlpParameters,
  train: trainMlpStep,
  async tuneTrial({ fit, holdout, options, report, featureNames, metadata }) {
    const model = await trainMlp(fit, options, holdout, { onEpoch: ({ epoch, validationLoss }) => report(epoch + 1, validationLoss as number) });
    return { loss: model.validationLoss[model.validationLoss.length - 1], model: exportMlp(model, { featureNames, metadata }) };
  },
});
