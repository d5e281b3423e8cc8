import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import type { InputArtifact } from '../pipeline/component.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { readMetadata, readSignature } from '../onnx/inspect.js';
import { FEATURES_FILE, LABELS_FILE } from './apply.js';
import { TRANSFORM_GRAPH_FILE, TRANSFORM_JSON_FILE, transformComponent, transformParameters } from './component.js';
import { testServices } from '../../test/support/services.js';

const services = testServices();

function artifact(path: string): InputArtifact {
  return { id: 1, uri: `file://${path}`, path, fingerprint: 'test', properties: {} };
}

/** An Examples artifact: January rows split train/eval by row number, with derived features. */
async function writeExamples(dir: string): Promise<string> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 200 });
  const examples = join(dir, 'examples');
  for (const split of ['train', 'eval']) await mkdir(join(examples, split), { recursive: true });
  await withDuckDB(async (db) => {
    const derived = `SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday, distance, origin, destination, delay > 15 AS delayed,
                            row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)})`;
    await db.run(`COPY (SELECT * EXCLUDE (rn) FROM (${derived}) WHERE rn % 5 <> 0) TO ${sqlString(join(examples, 'train', 'data.parquet'))} (FORMAT PARQUET)`);
    await db.run(`COPY (SELECT * EXCLUDE (rn) FROM (${derived}) WHERE rn % 5 = 0) TO ${sqlString(join(examples, 'eval', 'data.parquet'))} (FORMAT PARQUET)`);
  });
  return examples;
}

test('fits on train, writes transform.onnx and transform.json, and transforms both splits with it', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const examples = await writeExamples(dir);
  const outputs = { transformGraph: join(dir, 'graph'), transformedExamples: join(dir, 'transformed') };
  for (const path of Object.values(outputs)) await mkdir(path);
  const result = await transformComponent.execute({
    inputs: { examples: artifact(examples), schema: artifact(join(dir, 'schema')) },
    outputs,
    parameters: transformParameters.parse({ labelColumn: 'delayed', topK: 25 }),
  }, services);

  const fitted = JSON.parse(await readFile(join(outputs.transformGraph, TRANSFORM_JSON_FILE), 'utf8'));
  const graph = await readFile(join(outputs.transformGraph, TRANSFORM_GRAPH_FILE));
  assert.deepEqual(fitted.features.map((f: { name: string }) => f.name), ['hour', 'weekday', 'distance', 'origin', 'destination']);
  assert.equal(readMetadata(graph)['loom.label_column'], 'delayed');
  const width = fitted.outputWidth as number;
  assert.equal(width, 25 + 1 + 25 + 1 + 1 + 7 + 1 + fitted.features[0].vocabulary.length + 1);

  const meta = JSON.parse(await readFile(join(outputs.transformedExamples, 'meta.json'), 'utf8'));
  assert.equal(meta.width, width);
  assert.deepEqual(meta.featureNames, fitted.featureNames);
  for (const split of ['train', 'eval']) {
    const rows = meta.rowCounts[split] as number;
    assert.ok(rows > 100);
    assert.equal((await readFile(join(outputs.transformedExamples, split, FEATURES_FILE))).byteLength, rows * width * 4);
    assert.equal((await readFile(join(outputs.transformedExamples, split, LABELS_FILE))).byteLength, rows * 4);
  }
  assert.deepEqual(result.properties.transformGraph, {
    inputs: readSignature(graph).inputs,
    outputWidth: width,
    featureNames: fitted.featureNames,
    labelColumn: 'delayed',
  });
  assert.deepEqual(result.properties.transformedExamples, { width, rowCounts: meta.rowCounts });
});

test('a label or feature not in the data is INVALID_ARGUMENT naming it and listing the columns', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const examples = await writeExamples(dir);
  const run = (parameters: unknown) =>
    transformComponent.execute({
      inputs: { examples: artifact(examples), schema: artifact(join(dir, 'schema')) },
      outputs: { transformGraph: dir, transformedExamples: dir },
      parameters: transformParameters.parse(parameters),
    }, services);
  const names = (field: string, column: string) => (error: unknown) =>
    error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.field === field && error.message.includes(column) && (error.fix ?? '').includes('origin');
  await assert.rejects(run({ labelColumn: 'late' }), names('labelColumn', 'late'));
  await assert.rejects(run({ labelColumn: 'delayed', features: ['hour', 'gate'] }), names('features[1]', 'gate'));
  assert.throws(() => transformParameters.parse({ labelColumn: 'delayed', topK: 0 }));
});
