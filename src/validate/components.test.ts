import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject } from '../core/json.js';
import { LoomError } from '../core/errors.js';
import { ingestSnapshot } from '../data/ingest.js';
import type { InputArtifact } from '../pipeline/component.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import type { AnomalyReport } from './anomalies.js';
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
async function statisticsOf(dir: string, name: string, months: number[], evalFrom: string): Promise<InputArtifact> {
  const source = join(dir, `${name}.parquet`);
  await writeFlightsSlice(source, { months, every: 100 });
  const examplesDir = await staging(dir, `${name}-examples`);
  const snapshot = await ingestSnapshot(
    { source, select: { hour: 'hour(date)', distance: 'distance', origin: 'origin', delayed: 'delay > 15' }, split: { kind: 'time', column: 'date', evalFrom } },
    examplesDir,
  );
  const examples = artifact(examplesDir, snapshot);
  const out = await staging(dir, `${name}-statistics`);
  const result = await statisticsComponent.execute({ inputs: { examples }, outputs: { statistics: out }, parameters: {}, services });
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
    services,
  });
  assert.deepEqual(inferred.properties.schema, { origin: 'inferred', path: repoSchema, featureCount: 4 });
  const kept = await readSchemaFile(repoSchema);
  assert.equal(kept.label, 'delayed');
  assert.deepEqual(await readSchemaFile(join(dir, 'staging', 'schema-1', 'schema.json')), kept);

  // Second run: the user's file is imported as it is.
  const schemaOut = await staging(dir, 'schema-2');
  const imported = await schemaComponent.execute({ inputs: { statistics }, outputs: { schema: schemaOut }, parameters: { path: repoSchema }, services });
  assert.equal(imported.properties.schema.origin, 'user');
  const schema = artifact(schemaOut, imported.properties.schema);

  // February's airports not seen in January are few: warnings at most, and the step passes.
  const anomaliesOut = await staging(dir, 'anomalies');
  const validated = await validateComponent.execute({ inputs: { statistics, schema }, outputs: { anomalies: anomaliesOut }, parameters: {}, services });
  assert.equal(validated.properties.anomalies.errorCount, 0);
  for (const split of ['train', 'eval']) {
    const report = JSON.parse(await readFile(join(anomaliesOut, split, 'anomalies.json'), 'utf8')) as AnomalyReport;
    assert.equal(report.split, split);
    assert.equal(report.errorCount, 0);
  }
  const trainReport = JSON.parse(await readFile(join(anomaliesOut, 'train', 'anomalies.json'), 'utf8')) as AnomalyReport;
  assert.equal(trainReport.anomalies.length, 0, 'the split the schema came from is clean');
});

test('validate stops the pipeline with FAILED_PRECONDITION and the report when a split has an error', async (t) => {
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
  const result = await schemaComponent.execute({ inputs: { statistics }, outputs: { schema: schemaOut }, parameters: { path: repoSchema }, services });
  const schemaArtifact = artifact(schemaOut, result.properties.schema);

  await assert.rejects(
    validateComponent.execute({ inputs: { statistics, schema: schemaArtifact }, outputs: { anomalies: await staging(dir, 'anomalies') }, parameters: {}, services }),
    (error: unknown) => {
      assert.ok(error instanceof LoomError);
      assert.equal(error.code, 'FAILED_PRECONDITION');
      assert.equal(error.retryable, false);
      assert.match(error.message, /split "train": 2 errors, 0 warnings/);
      assert.match(error.message, /split "eval": 2 errors/);
      assert.match(error.message, /TYPE_CHANGE {5}distance: "distance" is STRING in the schema but INT \(BIGINT\) in the data/);
      assert.match(error.message, /UNSEEN_CATEGORY origin: /);
      assert.equal(error.fix, `fix the data, or edit the schema at ${repoSchema} if the change is expected`);
      return true;
    },
  );
});

test('a broken schema file in the repo fails the schema step with the file named', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const statistics = await statisticsOf(dir, 'may', [5], '2001-05-15');
  const repoSchema = join(dir, 'flights.schema.json');
  await writeFile(repoSchema, JSON.stringify({ version: 1, features: [{ name: 'origin', type: 'TEXT', required: true }] }));
  await assert.rejects(
    schemaComponent.execute({ inputs: { statistics }, outputs: { schema: await staging(dir, 'schema') }, parameters: { path: repoSchema }, services }),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.message.includes(repoSchema) && /features\[0\]\.type/.test(error.message),
  );
});
