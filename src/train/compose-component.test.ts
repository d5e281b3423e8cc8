import assert from 'node:assert/strict';
import { ServingModel } from '../pipeline/artifact-types.js';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { JsonObject } from '../core/json.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import type { InputArtifact } from '../pipeline/component.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { runModelOverParquet } from '../data/batch-runner.js';
import { TRANSFORM_GRAPH_FILE, transformComponent, transformParameters } from '../transform/component.js';
import { composeComponent } from './compose-component.js';
import { trainComponent, trainParameters } from './component.js';
import { testServices } from '../../test/support/services.js';

const services = testServices();

function artifact(path: string, properties: JsonObject = {}): InputArtifact {
  return { id: 1, uri: `file://${path}`, path, fingerprint: 'test', properties };
}

async function outputDir(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  return path;
}

test('transform -> train -> compose: the served graph over raw features matches transform then model bit for bit', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1, 2], every: 150 });
  const examples = join(dir, 'examples');
  await withDuckDB(async (db) => {
    const derived = `SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance,
                            CASE WHEN rn % 23 = 0 THEN NULL ELSE origin END AS origin, destination, delay > 15 AS delayed,
                            month(date) AS month
                     FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}))`;
    for (const [split, month] of [['train', 1], ['eval', 2]] as const) {
      await mkdir(join(examples, split), { recursive: true });
      await db.run(`COPY (SELECT * EXCLUDE (month) FROM (${derived}) WHERE month = ${month}) TO ${sqlString(join(examples, split, 'data.parquet'))} (FORMAT PARQUET)`);
    }
  });
  const transformGraph = await outputDir(dir, 'transform-graph');
  const transformedExamples = await outputDir(dir, 'transformed');
  const transformed = await transformComponent.execute({
    inputs: { examples: artifact(examples), schema: artifact(join(dir, 'schema')) },
    outputs: { transformGraph, transformedExamples },
    parameters: transformParameters.parse({ labelColumn: 'delayed', topK: 40 }),
  }, services);
  const modelDir = await outputDir(dir, 'model');
  const trained = await trainComponent.execute({
    inputs: {
      transformedExamples: artifact(transformedExamples, transformed.properties.transformedExamples),
      transformGraph: artifact(transformGraph, transformed.properties.transformGraph),
    },
    outputs: { model: modelDir },
    parameters: trainParameters.parse({ epochs: 2 }),
  }, services);
  const servingDir = await outputDir(dir, 'serving');
  const composed = await composeComponent.execute({
    inputs: {
      transformGraph: artifact(transformGraph, transformed.properties.transformGraph),
      model: artifact(modelDir, trained.properties.model),
    },
    outputs: { servingModel: servingDir },
    parameters: {},
  }, services);

  const expectedSignature = {
    inputs: [
      { name: 'hour', type: 'int64', shape: [-1, 1] },
      { name: 'weekday', type: 'int64', shape: [-1, 1] },
      { name: 'distance', type: 'int64', shape: [-1, 1] },
      { name: 'origin', type: 'string', shape: [-1, 1] },
      { name: 'destination', type: 'string', shape: [-1, 1] },
    ],
    outputs: [{ name: 'probability', type: 'float32', shape: [-1, 1] }],
  };
  // The signature lives in one place, the artifact's signature.json, not copied into its properties.
  assert.deepEqual(composed.properties.servingModel, { labelColumn: 'delayed' });
  assert.deepEqual(JSON.parse(await readFile(ServingModel.files.signature(servingDir), 'utf8')), expectedSignature);

  // Served graph on raw eval rows...
  const evalParquet = join(examples, 'eval', 'data.parquet');
  const served: number[] = [];
  await runModelOverParquet(ServingModel.files.model(servingDir), evalParquet, { batchSize: 5000, onBatch: ({ outputs }) => void served.push(...outputs.probability) });
  // ...and the transform graph, then the model graph, run separately.
  const model = await ort.InferenceSession.create(ServingModel.files.model(modelDir));
  const separate: number[] = [];
  await runModelOverParquet(join(transformGraph, TRANSFORM_GRAPH_FILE), evalParquet, {
    batchSize: 5000,
    async onBatch({ rowCount, outputs }) {
      const result = await model.run({ features: new ort.Tensor('float32', outputs.features, [rowCount, outputs.features.length / rowCount]) });
      separate.push(...(result.probability.data as Float32Array));
    },
  });
  await model.release();
  assert.ok(served.length > 1000);
  assert.equal(served.length, separate.length);
  assert.deepEqual(Buffer.from(new Float32Array(served).buffer), Buffer.from(new Float32Array(separate).buffer), 'bit for bit');
  assert.ok(served.every((p) => p > 0 && p < 1));
});
