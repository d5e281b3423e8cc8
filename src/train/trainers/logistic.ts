/** Logistic regression in the train step, with per-epoch curves on the eval split for `loom track watch`. */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { exportLogisticRegression } from '../export.js';
import { logisticRegressionEpochs, predictLogisticRegression, type LogisticRegressionModel } from '../logistic-regression.js';
import { assertBinaryLabelsVary, readTransformedSplit, type LabelledMatrix } from '../transformed-data.js';
import { METADATA_LABEL_COLUMN } from '../../transform/graph.js';
import type { TrainerOutcome, TrainerRun } from './trainer.js';

export const logisticParameters = z
  .object({
    algorithm: z.literal('logistic_regression'),
    epochs: z.number().int().positive().default(5),
    learningRate: z.number().positive().default(0.01),
    l2: z.number().nonnegative().default(1e-4),
    batchSize: z.number().int().positive().default(1024),
    seed: z.number().int().default(42),
  })
  .strict();

export async function trainLogistic(run: TrainerRun<z.output<typeof logisticParameters>>): Promise<TrainerOutcome> {
  const { parameters, services, meta } = run;
  const { algorithm: _algorithm, ...options } = parameters;
  const train = await readTransformedSplit(run.dataDir, 'train');
  assertBinaryLabelsVary(train, run.metadata[METADATA_LABEL_COLUMN] ?? 'label');
  const evalSplit = await readTransformedSplit(run.dataDir, 'eval').catch(() => undefined);
  services.log(`train: logistic regression on ${train.labels.length} rows x ${meta.width} columns`);
  const task = services.progress.start('training', parameters.epochs, 'epochs');
  await services.tracking?.logParams({ ...parameters, trainRows: train.labels.length, width: meta.width });
  // Epoch by epoch, so each epoch's metrics reach tracking while training goes on (`loom track watch`).
  const epochs = logisticRegressionEpochs(train.features, train.labels, meta.width, options);
  let model: LogisticRegressionModel;
  for (;;) {
    const next = epochs.next();
    if (next.done) {
      model = next.value;
      break;
    }
    const { epoch, loss } = next.value;
    if (!Number.isFinite(loss)) {
      throw new LoomError('FAILED_PRECONDITION', `logistic regression diverged: the training loss of epoch ${epoch + 1} is ${loss}`, {
        fix: 'lower learningRate, or check the transformed features for extreme values',
      });
    }
    task.advance(1);
    const metrics: Record<string, number> = { train_log_loss: loss };
    if (evalSplit && evalSplit.labels.length > 0) Object.assign(metrics, evalMetrics(next.value, evalSplit));
    services.log(`train: epoch ${epoch + 1}/${parameters.epochs} log loss ${loss.toFixed(5)}`);
    await services.tracking?.logMetrics(metrics, { step: epoch + 1 });
  }
  task.done();
  await writeFile(run.modelPath, exportLogisticRegression(model, { featureNames: meta.featureNames, metadata: run.metadata }));
  return { algorithm: 'logistic_regression', stoppedBecause: 'completed', lossPerEpoch: model.lossPerEpoch, properties: {} };
}

/** Log loss and accuracy of the weights so far on the eval split, for the live curves. */
function evalMetrics(model: Pick<LogisticRegressionModel, 'weights' | 'bias'>, data: LabelledMatrix): Record<string, number> {
  const probabilities = predictLogisticRegression(model, data.features);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < data.labels.length; i++) {
    const p = Math.min(Math.max(probabilities[i]!, 1e-15), 1 - 1e-15);
    loss -= data.labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
    if ((p >= 0.5 ? 1 : 0) === data.labels[i]) correct++;
  }
  return { eval_log_loss: loss / data.labels.length, eval_accuracy: correct / data.labels.length };
}
