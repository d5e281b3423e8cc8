import assert from 'node:assert/strict';
import { ServingModel } from '../../pipeline/artifact-types.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isLoomError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { readSignature } from '../../onnx/inspect.js';
import type { InputArtifact } from '../../pipeline/component.js';
import { FEATURES_FILE, LABELS_FILE } from '../../transform/apply.js';
import { TRANSFORMED_META_FILE } from '../../transform/component.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { testServices } from '../../../test/support/services.js';
import { trainComponent, trainParameters } from '../component.js';

const artifact = (path: string, properties: JsonObject = {}): InputArtifact => ({ id: 1, uri: `file://${path}`, path, fingerprint: path, properties });

/** Three classes by the argmax of linear scores over columns a, b (c is noise), in a TransformedExamples layout. */
async function writeThreeClasses(dir: string, rows: number): Promise<Float32Array> {
  const features = new Float32Array(rows * 3);
  const labels = new Float32Array(rows);
  let state = 7;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647) * 2 - 1;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < 3; j++) features[i * 3 + j] = random();
    const scores = [2 * features[i * 3]!, -features[i * 3]! + 1.7 * features[i * 3 + 1]!, -features[i * 3]! - 1.7 * features[i * 3 + 1]!];
    labels[i] = scores.indexOf(Math.max(...scores));
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, TRANSFORMED_META_FILE), JSON.stringify({ width: 3, featureNames: ['a', 'b', 'c'] }));
  for (const split of ['train', 'eval']) {
    await mkdir(join(dir, split), { recursive: true });
    await writeFile(join(dir, split, FEATURES_FILE), features);
    await writeFile(join(dir, split, LABELS_FILE), labels);
  }
  return labels;
}

async function train(dir: string, name: string, parameters: object, warmStartFrom?: string) {
  const modelDir = join(dir, name);
  await mkdir(modelDir, { recursive: true });
  const metrics: Record<string, number>[] = [];
  const result = await trainComponent.execute({
    inputs: { transformedExamples: artifact(join(dir, 'data')), transformGraph: artifact(join(dir, 'data'), { labelColumn: 'y' }), ...(warmStartFrom ? { warmStartFrom: artifact(warmStartFrom) } : {}) },
    outputs: { model: modelDir },
    parameters: trainParameters.parse(parameters),
  }, { ...testServices(), tracking: { logParams: async () => {}, logMetrics: async (m: Record<string, number>) => void metrics.push(m), setTags: async () => {} } as never });
  return { properties: result.properties.model, modelPath: ServingModel.files.model(modelDir), metrics };
}

test('the train step trains a multiclass logistic regression streamed in chunks, with streamed eval metrics, exporting softmax over the classes', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const labels = await writeThreeClasses(join(dir, 'data'), 3000);
  const parameters = { algorithm: 'logistic_regression', objective: 'multiclass', numClasses: 3, epochs: 8, learningRate: 0.05, l1: 0.001, chunkRows: 400, seed: 2 };
  const { properties, modelPath, metrics } = await train(dir, 'model', parameters);
  assert.deepEqual((properties.training as JsonObject).outputs, 3);
  assert.equal(metrics.length, 8, 'one metrics point per epoch');
  assert.ok(metrics[7]!.eval_accuracy! > 0.93, `eval accuracy ${metrics[7]!.eval_accuracy}`);
  assert.ok(metrics[7]!.eval_log_loss! < metrics[0]!.eval_log_loss!);

  const bytes = await readFile(modelPath);
  assert.deepEqual(readSignature(bytes).outputs[0]!.shape, [-1, 3]);
  const session = await ort.InferenceSession.create(bytes);
  const features = await readFile(join(dir, 'data', 'eval', FEATURES_FILE));
  const out = await session.run({ features: new ort.Tensor('float32', new Float32Array(features.buffer, features.byteOffset, 300), [100, 3]) });
  await session.release();
  const p = out.probability!.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < 100; i++) if ([p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!].indexOf(Math.max(p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!)) === labels[i]) correct++;
  assert.ok(correct > 90, `${correct}/100 rows right through ONNX`);

  // An update of that model: it starts where the model ended, so its first epoch is already good.
  const update = await train(dir, 'update', { ...parameters, epochs: 1 }, join(dir, 'model'));
  assert.equal((update.properties.training as JsonObject).columnsKnownToWarmStart, 3);
  assert.ok(update.metrics[0]!.eval_log_loss! < metrics[1]!.eval_log_loss!, 'the update begins from the trained weights');

  const refused = (field: string) => (error: unknown) => isLoomError(error) && error.field === field;
  await assert.rejects(train(dir, 'x', { ...parameters, numClasses: undefined }), refused('numClasses'));
  await assert.rejects(train(dir, 'y', { algorithm: 'logistic_regression' }), refused('labels'), 'labels 2 are not binary');
  await assert.rejects(train(dir, 'z', { algorithm: 'gbdt', numTrees: 2 }, join(dir, 'model')), refused('warmStartFrom'));
});
