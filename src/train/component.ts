/**
 * The `train` step: logistic regression on the transformed training split, exported as
 * `model.onnx` (features -> probability). It only reads files, calls the pure trainer
 * and the exporter. The whole training matrix is read into memory.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { defineComponent } from '../pipeline/component.js';
import { Model, TransformGraph, TransformedExamples } from '../pipeline/artifact-types.js';
import { FEATURES_FILE, LABELS_FILE } from '../transform/apply.js';
import { TRANSFORMED_META_FILE } from '../transform/component.js';
import { METADATA_LABEL_COLUMN } from '../transform/graph.js';
import { exportLogisticRegression } from './export.js';
import { trainLogisticRegression } from './logistic-regression.js';

export const MODEL_FILE = 'model.onnx';

export const trainParameters = z.object({
  epochs: z.number().int().positive().default(5),
  learningRate: z.number().positive().default(0.01),
  l2: z.number().nonnegative().default(1e-4),
  batchSize: z.number().int().positive().default(1024),
  seed: z.number().int().default(42),
});

const transformedMeta = z.object({ width: z.number().int().positive(), featureNames: z.array(z.string()) });

export const trainComponent = defineComponent({
  name: 'train',
  version: '1',
  description: 'Trains binary logistic regression on the transformed training split and exports it as ONNX',
  inputs: { transformedExamples: { type: TransformedExamples }, transformGraph: { type: TransformGraph } },
  outputs: { model: Model },
  parameters: trainParameters,
  async execute({ inputs, outputs, parameters, services }) {
    const dir = inputs.transformedExamples.path;
    const meta = transformedMeta.parse(JSON.parse(await readFile(join(dir, TRANSFORMED_META_FILE), 'utf8')));
    const features = await readFloat32(join(dir, 'train', FEATURES_FILE));
    const labels = await readFloat32(join(dir, 'train', LABELS_FILE));
    if (features.length !== labels.length * meta.width) {
      throw new LoomError('FAILED_PRECONDITION', `train/${FEATURES_FILE} does not hold ${labels.length} rows of width ${meta.width}`);
    }
    services.log(`train: logistic regression on ${labels.length} rows x ${meta.width} columns`);
    const task = services.progress.start('training', parameters.epochs, 'epochs');
    const model = trainLogisticRegression(features, labels, meta.width, {
      ...parameters,
      onEpoch: (epoch, loss) => {
        task.advance(1);
        services.log(`train: epoch ${epoch + 1}/${parameters.epochs} log loss ${loss.toFixed(5)}`);
      },
    });
    task.done();
    const labelColumn = String(inputs.transformGraph.properties.labelColumn ?? '');
    await writeFile(
      join(outputs.model, MODEL_FILE),
      exportLogisticRegression(model, { featureNames: meta.featureNames, metadata: { [METADATA_LABEL_COLUMN]: labelColumn } }),
    );
    return {
      properties: {
        model: {
          algorithm: 'logistic_regression',
          inputWidth: meta.width,
          lossPerEpoch: model.lossPerEpoch,
          hyperparameters: { ...parameters },
        },
      },
    };
  },
});

/** A float32 file as one array; copied only when the read buffer is not 4-byte aligned. */
async function readFloat32(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength % 4 !== 0) throw new LoomError('FAILED_PRECONDITION', `${path} is not a float32 file (${bytes.byteLength} bytes)`);
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
