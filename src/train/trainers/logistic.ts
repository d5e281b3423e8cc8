/**
 * Logistic regression in the train step, streamed: each epoch reads the training split from
 * disk `chunkRows` rows at a time, so only one chunk of features is in memory (a split larger
 * than memory trains). Per epoch the eval split's log loss and accuracy (also streamed) reach
 * tracking live; a checkpoint every N epochs lets a killed run continue to the same model;
 * `warmStartFrom` continues training an earlier model on new data (an incremental update).
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { readCheckpoint, writeCheckpoint } from '../../core/checkpoint-files.js';
import { LoomError } from '../../core/errors.js';
import { METADATA_LABEL_COLUMN } from '../../transform/graph.js';
import { exportLogisticRegression } from '../export.js';
import { countClasses, logisticOptionsObject, outputsOf, parseLogisticOptions, stoppedBecause, type LogisticRegressionModel } from '../logistic-regression.js';
import { linearStateFromJson, scoreStreamed, streamLogisticRegression } from '../logistic-stream.js';
import { countTransformedRows, readTransformedChunks, readTransformedLabels } from '../transformed-data.js';
import { readWarmStart } from '../warm-start.js';
import { defineTrainer, type TrainerOutcome, type TrainerRun } from './trainer.js';

export const logisticParameters = logisticOptionsObject
  .extend({
    algorithm: z.literal('logistic_regression'),
    /** Rows read from disk at a time: the memory training needs is about chunkRows x width x 4 bytes. */
    chunkRows: z.number().int().min(1).default(65_536),
  })
  .strict();

/** `warmStartFrom`: the model file of an earlier logistic regression to continue from. */
export async function trainLogistic(run: TrainerRun<z.output<typeof logisticParameters>>, warmStartFrom?: string): Promise<TrainerOutcome> {
  const { parameters, services, meta, checkpoints } = run;
  const { algorithm: _algorithm, chunkRows, ...raw } = parameters;
  const options = parseLogisticOptions(raw);
  const labelColumn = run.metadata[METADATA_LABEL_COLUMN] || 'label';
  const classCounts = await countTrainingClasses(run.dataDir, options, labelColumn);
  const trainRows = classCounts.reduce((a, b) => a + b, 0);
  const hasEval = await countTransformedRows(run.dataDir, 'eval').then((rows) => rows > 0, () => false);
  const resumeFrom = linearStateFromJson(await readCheckpoint(checkpoints?.resumeFrom));
  const warm = warmStartFrom && !resumeFrom ? await readWarmStart(warmStartFrom, meta.featureNames, outputsOf(options)) : undefined;
  services.log(
    `train: logistic regression (${options.objective}) on ${trainRows} rows x ${meta.width} columns, ${chunkRows} rows at a time` +
      (resumeFrom ? `, resuming after epoch ${resumeFrom.epochsDone}` : '') +
      (warm ? `, updating an earlier model (${warm.matchedColumns}/${meta.width} columns known)` : ''),
  );
  await services.tracking?.logParams({ ...parameters, trainRows, width: meta.width, ...(warm ? { warmStart: true } : {}) });
  const task = services.progress.start('training', options.epochs, 'epochs');
  if (resumeFrom) task.advance(resumeFrom.epochsDone);

  const train = () => readTransformedChunks(run.dataDir, 'train', chunkRows);
  const epochs = streamLogisticRegression(train, meta.width, options, { classCounts, warmStart: warm, resumeFrom });
  let model: LogisticRegressionModel;
  for (;;) {
    const next = await epochs.next();
    if (next.done) {
      model = next.value;
      break;
    }
    const state = next.value;
    const loss = state.lossPerEpoch.at(-1) as number;
    if (!Number.isFinite(loss)) {
      throw new LoomError('FAILED_PRECONDITION', `logistic regression diverged: the training loss of epoch ${state.epochsDone} is ${loss}`, {
        fix: 'lower learningRate, or check the transformed features for extreme values (NaN needs an imputer in the transform)',
      });
    }
    task.advance(1);
    const metrics: Record<string, number> = { train_log_loss: loss };
    if (hasEval) {
      const scored = await scoreStreamed(state, () => readTransformedChunks(run.dataDir, 'eval', chunkRows));
      Object.assign(metrics, { eval_log_loss: scored.logLoss, eval_accuracy: scored.accuracy });
    }
    services.log(`train: epoch ${state.epochsDone}/${options.epochs} log loss ${loss.toFixed(5)}`);
    await services.tracking?.logMetrics(metrics, { step: state.epochsDone });
    if (checkpoints && checkpoints.every > 0 && state.epochsDone % checkpoints.every === 0) await writeCheckpoint(checkpoints.dir, state);
  }
  task.done();
  const stopped = stoppedBecause(model.lossPerEpoch, options);
  const last = model.lossPerEpoch.slice(-2);
  if (stopped === 'completed' && options.tol > 0 && last.length === 2 && last[0]! - last[1]! > options.tol) {
    // The bound cut training short while the loss still fell: the model is likely underfit.
    services.log(`train: warning: the training loss still fell by ${(last[0]! - last[1]!).toFixed(5)} in the last of ${options.epochs} epochs; raise epochs for a better model`);
  } else services.log(`train: ${stopped} after ${model.lossPerEpoch.length} epochs`);
  const nonZero = model.weights.reduce((count, w) => count + (w !== 0 ? 1 : 0), 0);
  await writeFile(run.modelPath, exportLogisticRegression(model, { featureNames: meta.featureNames, metadata: run.metadata }));
  await services.tracking?.setTags({ 'loom.stopped_because': stopped });
  return {
    algorithm: 'logistic_regression',
    stoppedBecause: stopped,
    lossPerEpoch: model.lossPerEpoch,
    properties: { objective: options.objective, outputs: model.outputs, nonZeroWeights: nonZero, chunkRows, ...(warm ? { columnsKnownToWarmStart: warm.matchedColumns } : {}) },
  };
}

/** Rows per class in the training split, streamed from the labels alone; refuses a label with one value. */
async function countTrainingClasses(dir: string, options: ReturnType<typeof parseLogisticOptions>, labelColumn: string): Promise<number[]> {
  let counts: Float64Array<ArrayBuffer> | undefined;
  for await (const { labels, firstRow } of readTransformedLabels(dir, 'train')) counts = countClasses(labels, options, counts, firstRow);
  const rows = counts ? counts.reduce((a, b) => a + b, 0) : 0;
  const present = counts ? counts.filter((count) => count > 0).length : 0;
  if (rows === 0) throw new LoomError('FAILED_PRECONDITION', 'the training split has no rows', { fix: 'check the ingest filter and split' });
  if (present < 2) {
    const only = (counts as Float64Array).findIndex((count) => count > 0);
    throw new LoomError('FAILED_PRECONDITION', `the label column "${labelColumn}" is ${only} on every one of the ${rows} training rows`, {
      field: 'labelColumn',
      fix: 'check the label expression and the ingest filter: a model needs at least two outcomes in the training split',
    });
  }
  return Array.from(counts as Float64Array);
}

/** Logistic regression (binary or multiclass), streamed from disk; the one trainer that continues an earlier model. */
export const logisticTrainer = defineTrainer({
  parameters: logisticParameters,
  train: trainLogistic,
  warmStarts: true,
});
