import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject } from '../core/json.js';
import { LoomError } from '../core/errors.js';
import { ingestSnapshot } from '../data/ingest.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import type { InputArtifact } from '../pipeline/component.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { readAnomalyReports } from './anomaly-reports.js';
import { schemaComponent, statisticsComponent, validateComponent } from './components.js';
import { inferSchema, readSchemaFile, writeSchemaFile } from './schema.js';
import type { DatasetStatistics } from './statistics.js';
import { testServices } from '../../test/support/services.js';

const services = testServices();

let nextId = 1;
function artifact(path: string, properties: JsonObject): InputArtifact {
  const id = nextId++;
  return { id, uri: `file://${path}`, path, fingerprint: `f${id}`, properties };
}

async function staging(dir: string, name: string): Promise<string> {
  const path = join(dir, 'staging', name);
  await mkdir(path, { recursive: true });
  return path;
}

/** ingest → statistics for a slice of the given months, split in time at `evalFrom`. */
const SELECT = { hour: 'hour(date)', distance: 'distance', origin: 'origin', delayed: 'delay > 15' };

async function statisticsOf(dir: string, name: string, months: number[], evalFrom: string, edit?: string, select: Record<string, string> = SELECT): Promise<InputArtifact> {
  let source = join(dir, `${name}.parquet`);
  await writeFlightsSlice(source, { months, every: 100 });
  if (edit) {
    const edited = join(dir, `${name}-edited.parquet`);
    await withDuckDB((db) => db.run(`COPY (SELECT ${edit} FROM read_parquet(${sqlString(source)})) TO ${sqlString(edited)} (FORMAT PARQUET)`));
    source = edited;
  }
  const examplesDir = await staging(dir, `${name}-examples`);
  const snapshot = await ingestSnapshot(
    { source, select, split: { kind: 'time', column: 'date', evalFrom } },
    examplesDir,
  );
  const examples = artifact(examplesDir, snapshot);
  const out = await staging(dir, `${name}-statistics`);
  const result = await statisticsComponent.execute({ inputs: { examples }, outputs: { statistics: out }, parameters: {} }, services);
  return artifact(out, result.properties.statistics);
}

test('statistics → schema → validate on flights: infer, then import the kept schema, then pass', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const statistics = await statisticsOf(dir, 'janfeb', [1, 2], '2001-02-01');
  assert.deepEqual(statistics.properties.splits, ['train', 'eval']);
  const rowCounts = statistics.properties.rowCounts as Record<string, number>;
  const train = JSON.parse(await readFile(join(statistics.path, 'train.json'), 'utf8')) as DatasetStatistics;
  assert.equal(train.rowCount, rowCounts.train);
  assert.deepEqual(train.features.map((f) => f.name), ['hour', 'distance', 'origin', 'delayed']);

  // First run: no schema in the repo yet, so it is inferred from train and written there.
  const repoSchema = join(dir, 'repo', 'schemas', 'flights.schema.json');
  const inferred = await schemaComponent.execute({
    inputs: { statistics },
    outputs: { schema: await staging(dir, 'schema-1') },
    parameters: { path: repoSchema, label: 'delayed' },
  }, services);
  assert.deepEqual(inferred.properties.schema, { origin: 'inferred', path: repoSchema, featureCount: 4 });
  const kept = await readSchemaFile(repoSchema);
  assert.equal(kept.label, 'delayed');
  assert.deepEqual(await readSchemaFile(join(dir, 'staging', 'schema-1', 'schema.json')), kept);

  // Second run: the user's file is imported as it is.
  const schemaOut = await staging(dir, 'schema-2');
  const imported = await schemaComponent.execute({ inputs: { statistics }, outputs: { schema: schemaOut }, parameters: { path: repoSchema } }, services);
  assert.equal(imported.properties.schema.origin, 'user');
  const schema = artifact(schemaOut, imported.properties.schema);

  // February's airports not seen in January are few: warnings at most, and the step passes.
  const anomaliesOut = await staging(dir, 'anomalies');
  const validated = await validateComponent.execute({ inputs: { statistics, schema, previous: undefined, serving: undefined }, outputs: { anomalies: anomaliesOut }, parameters: {} }, services);
  assert.equal(validated.properties.anomalies.errorCount, 0);
  const { reports } = await readAnomalyReports(anomaliesOut);
  assert.deepEqual(reports.map((r) => [r.split, r.errorCount]), [['train', 0], ['eval', 0]]);
  const trainReport = reports.find((r) => r.split === 'train')!;
  assert.equal(trainReport.anomalies.length, 0, 'the split the schema came from is clean');
});

test('validate fails the step with FAILED_PRECONDITION and the report when a split has an error, after writing the anomalies', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const statistics = await statisticsOf(dir, 'marapr', [3, 4], '2001-04-01');
  const repoSchema = join(dir, 'flights.schema.json');
  const train = JSON.parse(await readFile(join(statistics.path, 'train.json'), 'utf8')) as DatasetStatistics;
  const schema = inferSchema(train);
  // The user's schema expects distance as text and no airport but BOS: a type change and unseen categories.
  await writeSchemaFile(repoSchema, {
    ...schema,
    features: schema.features.map((f) =>
      f.name === 'distance' ? { ...f, type: 'STRING' } : f.name === 'origin' ? { ...f, domain: ['BOS'] } : f,
    ),
  });
  const schemaOut = await staging(dir, 'schema');
  const result = await schemaComponent.execute({ inputs: { statistics }, outputs: { schema: schemaOut }, parameters: { path: repoSchema } }, services);
  const schemaArtifact = artifact(schemaOut, result.properties.schema);

  const anomaliesOut = await staging(dir, 'anomalies');
  const failed = await validateComponent.execute({ inputs: { statistics, schema: schemaArtifact, previous: undefined, serving: undefined }, outputs: { anomalies: anomaliesOut }, parameters: {} }, services);
  const error = failed.failure!;
  assert.equal(error.code, 'FAILED_PRECONDITION');
  assert.match(error.message, /split "train": 2 errors, 0 warnings/);
  assert.match(error.message, /split "eval": 2 errors/);
  assert.match(error.message, /TYPE_CHANGE {5}distance: "distance" is STRING in the schema but INT \(BIGINT\) in the data/);
  assert.match(error.message, /UNSEEN_CATEGORY origin: /);
  assert.equal(error.fix, `fix the data, or edit the schema at ${repoSchema} if the change is expected`);
  assert.deepEqual(failed.properties.anomalies, { errorCount: 4, warningCount: 0 });
  assert.deepEqual((await readAnomalyReports(anomaliesOut)).reports.map((r) => [r.split, r.errorCount]), [['train', 2], ['eval', 2]], 'the anomalies are kept for the failed step');
});

test('a broken schema file in the repo fails the schema step with the file named', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const statistics = await statisticsOf(dir, 'may', [5], '2001-05-15');
  const repoSchema = join(dir, 'flights.schema.json');
  await writeFile(repoSchema, JSON.stringify({ version: 1, features: [{ name: 'origin', type: 'TEXT', required: true }] }));
  await assert.rejects(
    schemaComponent.execute({ inputs: { statistics }, outputs: { schema: await staging(dir, 'schema') }, parameters: { path: repoSchema } }, services),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.message.includes(repoSchema) && /features\[0\]\.type/.test(error.message),
  );
});

test('validate with the previous span: records drift, and halts the pipeline when a span drifts', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const previous = await statisticsOf(dir, 'jan', [1], '2001-01-25');
  const train = JSON.parse(await readFile(join(previous.path, 'train.json'), 'utf8')) as DatasetStatistics;
  const repoSchema = join(dir, 'flights.schema.json');
  const inferred = inferSchema(train, { label: 'delayed' });
  // Reviewed by the user: a small slice has not seen every airport, and the share of
  // delayed flights really moves by about 0.1 from month to month.
  await writeSchemaFile(repoSchema, {
    ...inferred,
    features: inferred.features.map((f) =>
      f.name === 'origin' ? { ...f, maxUnseenShare: 0.05 } : f.name === 'delayed' ? { ...f, drift: { measure: 'linf', threshold: 0.2 } } : f,
    ),
  });
  const schemaOut = await staging(dir, 'schema');
  const result = await schemaComponent.execute({ inputs: { statistics: previous }, outputs: { schema: schemaOut }, parameters: { path: repoSchema } }, services);
  const schema = artifact(schemaOut, result.properties.schema);

  // February against January: measured per split, within the thresholds.
  const feb = await statisticsOf(dir, 'feb', [2], '2001-02-22');
  const out = await staging(dir, 'anomalies-feb');
  const passed = await validateComponent.execute({ inputs: { statistics: feb, schema, previous, serving: undefined }, outputs: { anomalies: out }, parameters: {} }, services);
  assert.equal(passed.properties.anomalies.errorCount, 0);
  const report = (await readAnomalyReports(out)).reports.find((r) => r.split === 'eval')!;
  assert.deepEqual(report.drift?.map((c) => c.feature), ['hour', 'distance', 'origin', 'delayed']);

  // March with ORD's and DFW's flights moved to ATL: origin drifts, and the step stops the pipeline.
  const mar = await statisticsOf(dir, 'mar', [3], '2001-03-22', `* REPLACE (CASE WHEN origin IN ('ORD', 'DFW') THEN 'ATL' ELSE origin END AS origin)`);
  const drifted = await validateComponent.execute({ inputs: { statistics: mar, schema, previous, serving: undefined }, outputs: { anomalies: await staging(dir, 'anomalies-mar') }, parameters: {} }, services);
  const error = drifted.failure!;
  assert.equal(error.code, 'FAILED_PRECONDITION');
  assert.match(error.message, /ERROR {3}DRIFT {11}origin: "origin" differs from the previous span: linf 0\.\d+ is above the threshold 0\.1/);
  assert.doesNotMatch(error.message, /DRIFT {11}distance/);
});

test('validate with serving statistics: serving data without the label passes in SERVING, skew is measured', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const training = await statisticsOf(dir, 'apr', [4], '2001-04-25');
  const train = JSON.parse(await readFile(join(training.path, 'train.json'), 'utf8')) as DatasetStatistics;
  const repoSchema = join(dir, 'flights.schema.json');
  const inferred = inferSchema(train, { label: 'delayed' });
  await writeSchemaFile(repoSchema, { ...inferred, features: inferred.features.map((f) => (f.name === 'origin' ? { ...f, maxUnseenShare: 0.05 } : f)) });
  const schemaOut = await staging(dir, 'schema');
  const schema = artifact(schemaOut, (await schemaComponent.execute({ inputs: { statistics: training }, outputs: { schema: schemaOut }, parameters: { path: repoSchema } }, services)).properties.schema);
  const { delayed: _label, ...features } = SELECT;
  const serving = await statisticsOf(dir, 'may', [5], '2001-05-25', undefined, features);
  const out = await staging(dir, 'anomalies');
  // Serving rows have no label: in SERVING that is expected.
  const asServing = await validateComponent.execute({ inputs: { statistics: serving, schema, previous: undefined, serving: undefined }, outputs: { anomalies: out }, parameters: { environment: 'SERVING' } }, services);
  assert.equal(asServing.properties.anomalies.errorCount, 0);
  const skewOut = await staging(dir, 'skew');
  await validateComponent.execute({ inputs: { statistics: training, schema, previous: undefined, serving }, outputs: { anomalies: skewOut }, parameters: { environment: 'TRAINING' } }, services);
  const report = (await readAnomalyReports(skewOut)).reports.find((r) => r.split === 'train')!;
  assert.deepEqual(report.skew?.map((c) => [c.feature, c.measure]), [['hour', 'jensen_shannon'], ['distance', 'jensen_shannon'], ['origin', 'linf']]);
});
