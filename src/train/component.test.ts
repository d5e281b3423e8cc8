import assert from 'node:assert/strict';
import { ServingModel } from '../pipeline/artifact-types.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JsonObject } from '../core/json.js';
import { silentProgress } from '../core/progress.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import type { InputArtifact } from '../pipeline/component.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { readMetadata, readSignature } from '../onnx/inspect.js';
import { transformComponent, transformParameters } from '../transform/component.js';
import { trainComponent, trainParameters } from './component.js';
import { testServices } from '../../test/support/services.js';
import { writeTransformedExamples } from '../../test/support/transformed-examples.js';
import { isLoomError } from '../core/errors.js';

function artifact(path: string, properties: JsonObject = {}): InputArtifact {
  return { id: 1, uri: `file://${path}`, path, fingerprint: 'test', properties };
}

test('trains on the transformed train split, reports progress per epoch and writes model.onnx', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 100 });
  const examples = join(dir, 'examples');
  await mkdir(join(examples, 'train'), { recursive: true });
  await withDuckDB((db) =>
    db.run(`COPY (SELECT hour(date)::BIGINT AS hour, distance, origin, delay > 15 AS delayed FROM read_parquet(${sqlString(raw)}))
            TO ${sqlString(join(examples, 'train', 'data.parquet'))} (FORMAT PARQUET)`),
  );
  const progress: { label: string; total: number; advanced: number; done: boolean }[] = [];
  const services = {
    ...testServices(),
    progress: {
      start(label: string, total: number) {
        const task = { label, total, advanced: 0, done: false };
        progress.push(task);
        return { advance: (n: number) => (task.advanced += n), done: () => (task.done = true) };
      },
    },
  };
  const transformOutputs = { transformGraph: join(dir, 'graph'), transformedExamples: join(dir, 'transformed') };
  const modelDir = join(dir, 'model');
  for (const path of [...Object.values(transformOutputs), modelDir]) await mkdir(path);
  const transformed = await transformComponent.execute({
    inputs: { examples: artifact(examples), schema: artifact(join(dir, 'schema')) },
    outputs: transformOutputs,
    parameters: transformParameters.parse({ labelColumn: 'delayed', topK: 30 }),
  }, { ...services, progress: silentProgress });

  const parameters = trainParameters.parse({ epochs: 3, seed: 5 });
  const result = await trainComponent.execute({
    inputs: {
      transformedExamples: artifact(transformOutputs.transformedExamples, transformed.properties.transformedExamples),
      transformGraph: artifact(transformOutputs.transformGraph, transformed.properties.transformGraph),
    },
    outputs: { model: modelDir },
    parameters,
  }, services);
  assert.deepEqual(progress, [{ label: 'training', total: 3, advanced: 3, done: true }]);
  const width = transformed.properties.transformedExamples.width as number;
  const properties = result.properties.model;
  assert.equal(properties.algorithm, 'logistic_regression');
  assert.equal(properties.inputWidth, width);
  assert.equal((properties.lossPerEpoch as number[]).length, 3);
  assert.deepEqual(properties.hyperparameters, { algorithm: 'logistic_regression', objective: 'binary', epochs: 3, tol: 1e-4, nIterNoChange: 5, learningRate: 0.01, l1: 0, l2: 1e-4, batchSize: 1024, seed: 5, chunkRows: 65_536, checkpointEvery: 0 });
  assert.equal(properties.stoppedBecause, 'completed');

  const bytes = await readFile(ServingModel.files.model(modelDir));
  assert.deepEqual(readSignature(bytes).inputs, [{ name: 'features', type: 'float32', shape: [-1, width] }]);
  assert.equal(readMetadata(bytes)['loom.label_column'], 'delayed');
});

test('a label with one value on every training row, and unknown hyperparameters, are refused before training', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { dataDir } = await writeTransformedExamples(dir);
  const labels = await readFile(join(dataDir, 'train', 'labels.f32'));
  await writeFile(join(dataDir, 'train', 'labels.f32'), new Float32Array(labels.byteLength / 4));
  const context = (parameters: unknown) => ({
    inputs: { transformedExamples: artifact(dataDir), transformGraph: artifact(dir, { labelColumn: 'delayed' }) },
    outputs: { model: dir },
    parameters: trainParameters.parse(parameters),
  });
  for (const algorithm of ['logistic_regression', 'gbdt', 'mlp'] as const) {
    await assert.rejects(trainComponent.execute(context({ algorithm }), testServices()), (error) =>
      isLoomError(error) && error.code === 'FAILED_PRECONDITION' && error.field === 'labelColumn' && /"delayed" is 0 on every one/.test(error.message),
    );
  }
  assert.equal(trainParameters.safeParse({ algorithm: 'gbdt', numTree: 10 }).success, false, 'a misspelt hyperparameter is refused');
  assert.equal(trainParameters.safeParse({ algorithm: 'gbdt', numLeaves: 1 }).success, false, 'an out-of-range value is refused');
  assert.equal(trainParameters.safeParse({ algorithm: 'forest' }).success, false, 'an unknown trainer is refused');
});
