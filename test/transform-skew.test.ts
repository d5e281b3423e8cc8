/**
 * No training/serving skew, bit for bit: the same raw flights go through the offline path
 * (applyTransform over Parquet, then the trained model, as training and batch scoring
 * do) and through a real `loom serve` HTTP server running the composed graph, and the
 * probabilities must have identical float32 bits. The transform uses every analyzer.
 * The same file in onnxruntime-web (the WebAssembly build a browser runs) agrees too.
 */
import { ServingModel } from '../src/pipeline/artifact-types.js';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { sqlString, withDuckDB } from '../src/data/duckdb.js';
import { evaluateComponent } from '../src/evaluate/component.js';
import type { LoomDatabase } from '../src/pipeline/stores.js';
import { openTestPlatform } from './support/databases.js';
import { pushComponent } from '../src/push/push-component.js';
import { startModelServer, type ModelServer } from '../src/serve/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';
import { composeComponent } from '../src/train/compose-component.js';
import { trainComponent } from '../src/train/component.js';
import { MODEL_INPUT, MODEL_OUTPUT } from '../src/train/export.js';
import { toTensor } from '../src/onnx/tensors.js';
import type { ModelSignature } from '../src/registry/types.js';
import { applyTransform, FEATURES_FILE } from '../src/transform/apply.js';
import { TRANSFORM_GRAPH_FILE, TRANSFORM_JSON_FILE, transformComponent } from '../src/transform/component.js';
import type { TransformConfigInput } from '../src/transform/config.js';
import type { FittedTransform } from '../src/transform/fitted.js';
import { asClientRows, makeTempDir, writeFifthsSplits, writeFlightsSlice } from './support/flights.js';
import { runComponent } from './support/serving-model.js';
import { testServices } from './support/services.js';

/** One analyzer of each kind, plus imputation of each kind and both kinds of cross. */
const TRANSFORM: TransformConfigInput = {
  labelColumn: 'delayed',
  features: ['date', 'hour', 'weekday', 'distance', 'log_distance', 'origin', 'destination'],
  overrides: {
    date: { analyzer: 'datetime', format: 'epoch_milliseconds', parts: ['hour', 'weekday', 'month', 'day'] },
    hour: { analyzer: 'minmax', impute: { strategy: 'median' } },
    weekday: { analyzer: 'vocabulary', impute: { strategy: 'constant', value: 3 } },
    distance: { analyzer: 'quantiles', buckets: 10, impute: { strategy: 'most_frequent' } },
    log_distance: { analyzer: 'zscore' },
    origin: { analyzer: 'vocabulary', topK: 30, minFrequency: 5, numOovBuckets: 4, impute: { strategy: 'most_frequent' } },
    destination: { analyzer: 'hash', buckets: 16 },
  },
  crosses: [
    { features: ['origin', 'destination'], buckets: 64 },
    { features: ['hour', 'origin'], topK: 40, numOovBuckets: 2 },
  ],
};

type Row = Record<string, unknown>;

let dir: string;
let removeDir: (() => Promise<void>) | undefined;
let db: LoomDatabase;
let server: ModelServer;
let fitted: FittedTransform;
/** Eval rows plus edited rows with unseen and missing values, as Parquet and as JSON records. */
let rowsPath: string;
let records: Row[];
let modelPath: string;
let transformGraphPath: string;
/** The composed model as registered and served. */
let servingDir: string;

before(async () => {
  dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 300 });
  const stage = await artifacts.stage();
  rowsPath = join(dir, 'rows.parquet');
  await withDuckDB(async (conn) => {
    // Missing values in every raw column, on different rows.
    await conn.run(`CREATE TABLE examples AS SELECT
        CASE WHEN rn % 29 = 0 THEN NULL ELSE date END AS date,
        CASE WHEN rn % 23 = 0 THEN NULL ELSE hour(date)::BIGINT END AS hour,
        CASE WHEN rn % 19 = 0 THEN NULL ELSE dayofweek(date)::BIGINT END AS weekday,
        CASE WHEN rn % 17 = 0 THEN NULL ELSE distance::BIGINT END AS distance,
        CASE WHEN rn % 13 = 0 THEN NULL ELSE ln(distance) END AS log_distance,
        CASE WHEN rn % 11 = 0 THEN NULL ELSE origin END AS origin,
        CASE WHEN rn % 7 = 0 THEN NULL ELSE destination END AS destination,
        delay > 15 AS delayed, rn
      FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}))`);
    await writeFifthsSplits(conn, stage);
    // The rows both paths score: the eval split and edits no training row has (unseen airports, a time before 1970, an hour out of range).
    await conn.run(`COPY (
        SELECT * EXCLUDE (rn) FROM examples WHERE rn % 5 = 0
        UNION ALL SELECT TIMESTAMP '1969-07-20 20:17:00', 27, 6, 9999, 9.2, 'NOT_AN_AIRPORT', 'NOWHERE', true
        UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, false
        UNION ALL SELECT TIMESTAMP '2001-06-30 23:59:00', 0, 0, 1, 0.0, 'ORD', 'NOWHERE', false
      ) TO ${sqlString(rowsPath)} (FORMAT PARQUET)`);
    const rows = await conn.runAndReadAll(`SELECT epoch_ms(date) AS date, * EXCLUDE (date, delayed) FROM read_parquet(${sqlString(rowsPath)})`);
    // JSON as a client sends it: numbers, strings and nulls (epoch milliseconds for the timestamp).
    records = asClientRows(rows.getRowObjects()) as Row[];
  });
  const committed = await artifacts.commit(stage);
  const examples = { id: 1, uri: committed.uri, path: await artifacts.localPath(committed.uri), fingerprint: committed.fingerprint, properties: {} };
  const schemaStage = await artifacts.stage();
  const schemaCommit = await artifacts.commit(schemaStage);
  const schema = { id: 2, uri: schemaCommit.uri, path: await artifacts.localPath(schemaCommit.uri), fingerprint: schemaCommit.fingerprint, properties: {} };

  const transformed = await runComponent(artifacts, transformComponent, { examples, schema }, TRANSFORM);
  fitted = JSON.parse(await readFile(join(transformed.transformGraph.path, TRANSFORM_JSON_FILE), 'utf8')) as FittedTransform;
  const trained = await runComponent(artifacts, trainComponent, { transformedExamples: transformed.transformedExamples, transformGraph: transformed.transformGraph }, { epochs: 3 });
  modelPath = ServingModel.files.model(trained.model.path);
  const composed = await runComponent(artifacts, composeComponent, { transformGraph: transformed.transformGraph, model: trained.model }, {});
  servingDir = composed.servingModel.path;
  db = await openTestPlatform(dir);
  const evaluated = await runComponent(artifacts, evaluateComponent, { model: composed.servingModel, examples, baseline: undefined }, {});
  await runComponent(
    artifacts,
    pushComponent,
    { servingModel: composed.servingModel, evaluation: evaluated.evaluation, blessing: evaluated.blessing },
    { modelName: 'flights-skew' },
    testServices({ artifacts, registry: db.registry }),
    'skew-run',
  );
  server = await startModelServer({ port: 0, models: ['flights-skew@champion'], registry: db.registry, artifacts });
  transformGraphPath = join(transformed.transformGraph.path, TRANSFORM_GRAPH_FILE);
});

after(async () => {
  await server?.close();
  await db?.close();
  await removeDir?.();
});

/** The offline path: the transform graph over the Parquet rows into features.f32, then the trained model over those features. */
async function offlineProbabilities(): Promise<Float32Array> {
  return (await offline()).probabilities;
}

async function offline(): Promise<{ features: Float32Array; probabilities: Float32Array }> {
  const splitDir = join(dir, 'offline');
  const applied = await applyTransform({ graphPath: transformGraphPath, parquetPath: rowsPath, splitDir, labelColumn: 'delayed' });
  const bytes = await readFile(join(splitDir, FEATURES_FILE));
  const features = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const output = await session.run({ [MODEL_INPUT]: new ort.Tensor('float32', features, [applied.rowCount, applied.width]) });
    return { features, probabilities: output[MODEL_OUTPUT].data as Float32Array };
  } finally {
    await session.release();
  }
}

async function servedProbabilities(body: unknown): Promise<Float32Array> {
  const response = await fetch(`${server.url}/v2/models/flights-skew/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as { predictions?: { probability: number }[]; outputs?: { name: string; data: number[] }[] };
  assert.equal(response.status, 200, JSON.stringify(json));
  if (json.predictions) return Float32Array.from(json.predictions.map((prediction) => prediction.probability));
  return Float32Array.from(json.outputs!.find((output) => output.name === MODEL_OUTPUT)!.data);
}

const bits = (values: Float32Array) => [...new Uint32Array(values.buffer, values.byteOffset, values.length)];

test('the transform exercises every analyzer and the serving signature takes raw columns', async () => {
  const kinds = new Set(fitted.features.map((feature) => feature.analyzer));
  assert.deepEqual([...kinds].sort(), ['cross', 'datetime', 'hash', 'minmax', 'quantiles', 'vocabulary', 'zscore']);
  const signature = server.loaded[0].signature;
  assert.deepEqual(
    signature.inputs.map((input) => [input.name, input.type]),
    [['date', 'int64'], ['hour', 'int64'], ['weekday', 'int64'], ['distance', 'int64'], ['log_distance', 'float32'], ['origin', 'string'], ['destination', 'string']],
  );
  assert.ok(records.some((row) => Object.values(row).every((value) => value === null)), 'a row with every value missing is scored');
  assert.ok(records.length > 250, `${records.length} rows`);
});

test('offline (applyTransform + model) and the served composed model agree bit for bit', async () => {
  const offline = await offlineProbabilities();
  assert.equal(offline.length, records.length);
  assert.ok(new Set(bits(offline)).size > 50, 'the rows get many different probabilities, so agreement means something');

  const records1 = await servedProbabilities({ instances: records });
  assert.deepEqual(bits(records1), bits(offline));

  // The V2 tensor form, one row per request (batch 1), agrees as well.
  const signature = server.loaded[0].signature;
  const single: number[] = [];
  for (const record of records.slice(0, 40).concat(records.slice(-3))) {
    const inputs = signature.inputs.map((input) => ({
      name: input.name,
      shape: [1, 1],
      datatype: input.type === 'string' ? 'BYTES' : input.type === 'float32' ? 'FP32' : 'INT64',
      data: [record[input.name]],
    }));
    single.push(...bits(await servedProbabilities({ inputs })));
  }
  assert.deepEqual(single, bits(offline).slice(0, 40).concat(bits(offline).slice(-3)));
});

/** Runs an ONNX file in onnxruntime-web's WebAssembly build on the JSON records. */
async function runInWasm(bytes: Uint8Array, inputs: ModelSignature['inputs'], output: string): Promise<Float32Array> {
  ortWeb.env.wasm.numThreads = 1;
  const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const feeds: Record<string, ortWeb.Tensor> = {};
    for (const spec of inputs) {
      const tensor = toTensor(spec, records.map((record) => record[spec.name]));
      feeds[spec.name] = new ortWeb.Tensor(tensor.type as 'string', tensor.data as string[], tensor.dims);
    }
    return (await session.run(feeds))[output].data as Float32Array;
  } finally {
    await session.release();
  }
}

test('in onnxruntime-web (WebAssembly, as in a browser) the transform and the model give the same bits', async () => {
  const signature = JSON.parse(await readFile(ServingModel.files.signature(servingDir), 'utf8')) as ModelSignature;
  const expected = await offline();
  const features = await runInWasm(await readFile(transformGraphPath), signature.inputs, 'features');
  assert.deepEqual(bits(features), bits(expected.features));
  // The model part computes in float64 and rounds once (src/onnx/float64.ts), so the
  // WebAssembly kernels' own rounding cannot show in the float32 output.
  const probabilities = await runInWasm(await readFile(ServingModel.files.model(servingDir)), signature.inputs, MODEL_OUTPUT);
  assert.equal(probabilities.length, expected.probabilities.length);
  assert.deepEqual(bits(probabilities), bits(Float32Array.from(expected.probabilities)));
});
