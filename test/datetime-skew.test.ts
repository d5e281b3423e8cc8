/**
 * Raw timestamps in, no client-side feature code: a model whose transform reads a flight's
 * date as ISO 8601 text (from a TIMESTAMP column and from a text column with offsets), as
 * a DATE, and as epoch milliseconds, in UTC, a fixed offset and two IANA zones. The same
 * rows — real flights plus edited ones (bad text, a leap day, 1969, both sides of a DST
 * change) — go through the offline path (applyTransform + the trained model, as training
 * does), through a real `loom serve` with the raw values as a client sends them, and
 * through batch scoring (`loom predict`): the probabilities agree bit for bit.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { queryRows, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { evaluateComponent } from '../src/evaluate/component.js';
import type { Platform } from '../src/platform/platform.js';
import { openTestPlatform } from './support/databases.js';
import { Model, ServingModel } from '../src/pipeline/artifact-types.js';
import { pushComponent } from '../src/push/push-component.js';
import { batchPredict } from '../src/serve/batch/predict-job.js';
import { startModelServer, type ModelServer } from '../src/serve/server.js';
import { LocalArtifactStore } from '../src/store/local-artifact-store.js';
import { composeComponent } from '../src/train/compose-component.js';
import { trainComponent } from '../src/train/component.js';
import { MODEL_INPUT, MODEL_OUTPUT } from '../src/train/export.js';
import { toTensor } from '../src/onnx/tensors.js';
import { applyTransform, FEATURES_FILE } from '../src/transform/apply.js';
import { TRANSFORM_GRAPH_FILE, TRANSFORM_JSON_FILE, transformComponent } from '../src/transform/component.js';
import type { TransformConfigInput } from '../src/transform/config.js';
import type { FittedTransform } from '../src/transform/fitted.js';
import { asClientRows, makeTempDir, writeFifthsSplits, writeFlightsSlice } from './support/flights.js';
import { runComponent } from './support/serving-model.js';
import { testServices } from './support/services.js';

const TRANSFORM: TransformConfigInput = {
  labelColumn: 'delayed',
  features: ['date', 'day', 'stamp', 'epoch', 'distance', 'origin'],
  overrides: {
    // The flight's local time, served as text (the default for a TIMESTAMP): wall-clock time in Chicago.
    date: { analyzer: 'datetime', timeZone: 'America/Chicago', parts: ['hour', 'minute', 'weekday'] },
    // A DATE served as epoch milliseconds.
    day: { analyzer: 'datetime', format: 'epoch_milliseconds', parts: ['weekday', 'day', 'dayofyear'] },
    // Text with and without offsets, read in New York, sin/cos encoded, with the year.
    stamp: { analyzer: 'datetime', timeZone: 'America/New_York', parts: ['hour', 'weekday', 'month', 'year'], encoding: 'cyclical' },
    epoch: { analyzer: 'datetime', format: 'epoch_milliseconds', timeZone: '+05:30', parts: ['hour', 'day', 'year'] },
  },
};

let dir: string;
let removeDir: (() => Promise<void>) | undefined;
let db: Platform;
let artifacts: LocalArtifactStore;
let server: ModelServer;
let rowsPath: string;
let records: Record<string, unknown>[];
let modelPath: string;
let transformGraphPath: string;

before(async () => {
  dir = await makeTempDir((fn) => {
    removeDir = fn;
  });
  artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 300 });
  const stage = await artifacts.stage();
  rowsPath = join(dir, 'rows.parquet');
  await withDuckDB(async (conn) => {
    await conn.run(`CREATE TABLE examples AS SELECT
        CASE WHEN rn % 29 = 0 THEN NULL ELSE date END AS date,
        CASE WHEN rn % 31 = 0 THEN NULL ELSE CAST(date AS DATE) END AS day,
        CASE rn % 4 WHEN 0 THEN strftime(date, '%Y-%m-%dT%H:%M:%S') || 'Z' WHEN 1 THEN strftime(date, '%Y-%m-%d %H:%M') || '-05:00'
          WHEN 2 THEN strftime(date, '%Y-%m-%dT%H:%M') ELSE (CASE WHEN rn % 23 = 0 THEN 'not a time' ELSE strftime(date, '%Y-%m-%d') END) END AS stamp,
        CASE WHEN rn % 37 = 0 THEN NULL ELSE epoch_ms(date) + rn * 7919 END AS epoch,
        distance::BIGINT AS distance, origin, delay > 15 AS delayed, rn
      FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}))`);
    await writeFifthsSplits(conn, stage);
    // Edited rows: bad text, a leap day, 1969, both sides of New York's and Chicago's 2001 spring-forward, everything missing.
    await conn.run(`COPY (
        SELECT * EXCLUDE (rn) FROM examples WHERE rn % 5 = 0
        UNION ALL SELECT TIMESTAMP '2001-01-15 08:30', DATE '2001-01-15', '2001-02-29T08:30:00Z', 979547400000, 800, 'ORD', false
        UNION ALL SELECT TIMESTAMP '2000-02-29 23:59', DATE '2000-02-29', '2000-02-29T23:59:00-06:00', 951890340000, 300, 'SFO', true
        UNION ALL SELECT TIMESTAMP '1969-07-20 20:17', DATE '1969-07-20', '1969-07-20T20:17:40-04:00', -14182940000, 9999, 'NOT_AN_AIRPORT', true
        UNION ALL SELECT TIMESTAMP '2001-04-01 01:59', DATE '2001-04-01', '2001-04-01T06:59:00Z', 986108340000, 500, 'JFK', false
        UNION ALL SELECT TIMESTAMP '2001-04-01 02:30', DATE '2001-04-01', '2001-04-01T07:00:00Z', 986108400000, 500, 'JFK', false
        UNION ALL SELECT TIMESTAMP '2001-04-01 03:00', DATE '2001-04-01', '2001-04-01 03:00', 986112000000, 500, 'JFK', false
        UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, false
      ) TO ${sqlString(rowsPath)} (FORMAT PARQUET)`);
    // JSON as a client sends the raw row: the TIMESTAMP as text in its own layout (no seconds), the DATE as epoch milliseconds.
    const rows = await queryRows(conn, `SELECT strftime(date, '%Y-%m-%d %H:%M') AS date, epoch_ms(day) AS day, stamp, epoch, distance, origin FROM read_parquet(${sqlString(rowsPath)})`);
    records = asClientRows(rows);
  });
  const committed = await artifacts.commit(stage);
  const examples = { id: 1, uri: committed.uri, path: await artifacts.localPath(committed.uri), fingerprint: committed.fingerprint, properties: {} };
  const schemaCommit = await artifacts.commit(await artifacts.stage());
  const schema = { id: 2, uri: schemaCommit.uri, path: await artifacts.localPath(schemaCommit.uri), fingerprint: schemaCommit.fingerprint, properties: {} };

  const transformed = await runComponent(artifacts, transformComponent, { examples, schema }, TRANSFORM);
  transformGraphPath = join(transformed.transformGraph.path, TRANSFORM_GRAPH_FILE);
  const trained = await runComponent(artifacts, trainComponent, { transformedExamples: transformed.transformedExamples, transformGraph: transformed.transformGraph }, { epochs: 3 });
  modelPath = Model.files.model(trained.model.path);
  const composed = await runComponent(artifacts, composeComponent, { transformGraph: transformed.transformGraph, model: trained.model }, {});
  db = await openTestPlatform(dir);
  // Recorded in the metadata store as a pipeline records it, so batch scoring's lineage points at a real row.
  await db.metadata.putArtifactType(ServingModel);
  const [recorded] = await db.metadata.putArtifacts([{ typeName: ServingModel.name, uri: composed.servingModel.uri, fingerprint: composed.servingModel.fingerprint, properties: {} }]);
  const servingModel = { ...composed.servingModel, id: recorded!.id };
  const evaluated = await runComponent(artifacts, evaluateComponent, { model: servingModel, examples, baseline: undefined }, {});
  await runComponent(
    artifacts,
    pushComponent,
    { servingModel, evaluation: evaluated.evaluation, blessing: evaluated.blessing },
    { modelName: 'dates' },
    testServices({ artifacts, registry: db.registry }),
    'dates-run',
  );
  server = await startModelServer({ port: 0, models: ['dates@champion'], registry: db.registry, artifacts });
});

after(async () => {
  await server?.close();
  await db?.close();
  await removeDir?.();
});

const bits = (values: Float32Array) => [...new Uint32Array(values.buffer, values.byteOffset, values.length)];

async function offline(): Promise<{ features: Float32Array; width: number; probabilities: Float32Array }> {
  const splitDir = join(dir, 'offline');
  const applied = await applyTransform({ graphPath: transformGraphPath, parquetPath: rowsPath, splitDir, labelColumn: 'delayed' });
  const bytes = await readFile(join(splitDir, FEATURES_FILE));
  const features = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const output = await session.run({ [MODEL_INPUT]: new ort.Tensor('float32', features, [applied.rowCount, applied.width]) });
    return { features, width: applied.width, probabilities: output[MODEL_OUTPUT].data as Float32Array };
  } finally {
    await session.release();
  }
}

async function served(instances: Record<string, unknown>[]): Promise<Float32Array> {
  const response = await fetch(`${server.url}/v2/models/dates/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
  const json = (await response.json()) as { predictions: { probability: number }[] };
  assert.equal(response.status, 200, JSON.stringify(json));
  return Float32Array.from(json.predictions.map((prediction) => prediction.probability));
}

test('the served model takes the raw timestamps: text for ISO 8601 features, int64 for epoch ones', () => {
  assert.deepEqual(
    server.loaded[0]!.signature.inputs.map((input) => [input.name, input.type]),
    [['date', 'string'], ['day', 'int64'], ['stamp', 'string'], ['epoch', 'int64'], ['distance', 'int64'], ['origin', 'string']],
  );
});

test('offline (applyTransform + model) and loom serve on the raw rows agree bit for bit, edited rows included', async () => {
  const expected = await offline();
  assert.equal(expected.probabilities.length, records.length);
  assert.ok(new Set(bits(expected.probabilities)).size > 50, 'many different probabilities, so agreement means something');
  assert.deepEqual(bits(await served(records)), bits(expected.probabilities));
  // One row at a time too (a batch of one).
  const edited = records.slice(-7);
  const single: number[] = [];
  for (const record of edited) single.push(...bits(await served([record])));
  assert.deepEqual(single, bits(expected.probabilities).slice(-7));

  // The edits matter: impossible text (2001-02-29) sets no stamp column; across the DST change the stamp's hour jumps 01:59 -> 03:00.
  const names = (JSON.parse(await readFile(join(dirname(transformGraphPath), TRANSFORM_JSON_FILE), 'utf8')) as FittedTransform).featureNames;
  const stamp = (i: number) => names.flatMap((name, j) => (name.startsWith('stamp.') ? [expected.features[i * expected.width + j]!] : []));
  const n = records.length;
  assert.ok(stamp(n - 7).every((value) => value === 0), 'bad text is missing');
  assert.ok(stamp(n - 6).some((value) => value !== 0), 'a leap day is read');
  const hourSin = names.filter((name) => name.startsWith('stamp.')).indexOf('stamp.hour_sin');
  assert.equal(stamp(n - 4)[hourSin], Math.fround(Math.sin((2 * Math.PI * 1) / 24)));
  assert.equal(stamp(n - 3)[hourSin], Math.fround(Math.sin((2 * Math.PI * 3) / 24)));
});

test('batch scoring (loom predict) over the Parquet rows, TIMESTAMP and DATE columns included, equals the server', async () => {
  const output = join(dir, 'predicted.parquet');
  const services = { registry: db.registry, metadata: db.metadata, artifacts };
  const result = await batchPredict(services, { model: 'dates@champion', input: rowsPath, output, batchSize: 100, workers: 1 });
  assert.equal(result.rowCount, records.length);
  const written = await withDuckDB(async (conn) => (await queryRows(conn, `SELECT probability FROM read_parquet(${sqlString(output)})`)).map((r) => Number(r.probability)));
  assert.deepEqual(bits(Float32Array.from(written)), bits(await served(records)));
});

test('in onnxruntime-web (WebAssembly, as the browser page runs it) the transform reads the raw timestamps to the same bits', async () => {
  const expected = await offline();
  ortWeb.env.wasm.numThreads = 1;
  const session = await ortWeb.InferenceSession.create(await readFile(transformGraphPath), { executionProviders: ['wasm'] });
  try {
    const feeds: Record<string, ortWeb.Tensor> = {};
    for (const spec of server.loaded[0]!.signature.inputs) {
      const tensor = toTensor(spec, records.map((record) => record[spec.name]));
      feeds[spec.name] = new ortWeb.Tensor(tensor.type as 'string', tensor.data as string[], tensor.dims);
    }
    const features = (await session.run(feeds)).features!.data as Float32Array;
    assert.deepEqual(bits(features), bits(expected.features));
  } finally {
    await session.release();
  }
});
