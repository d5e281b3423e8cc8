import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { fitTransform, type VocabularyFeature, type ZScoreFeature } from './analyzers.js';

/** A January slice with derived features and a few missing values in each kind of column. */
async function writeFeatures(dir: string): Promise<string> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 100 });
  const path = join(dir, 'features.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (
      SELECT hour(date)::BIGINT AS hour, isodow(date)::BIGINT AS weekday,
             CASE WHEN rn % 11 = 0 THEN NULL ELSE distance END AS distance,
             CASE WHEN rn % 13 = 0 THEN NULL ELSE ln(distance) END AS log_distance,
             CASE WHEN rn % 17 = 0 THEN NULL ELSE origin END AS origin,
             destination, date, delay > 15 AS delayed
      FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}))
    ) TO ${sqlString(path)} (FORMAT PARQUET)`),
  );
  return path;
}

async function readColumn(path: string, column: string): Promise<unknown[]> {
  return withDuckDB(async (db) => (await db.runAndReadAll(`SELECT "${column}" AS v FROM read_parquet(${sqlString(path)})`)).getRowObjects().map((row) => row.v));
}

test('each column type gets its analyzer, fitted to the same numbers computed here in JS', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = await writeFeatures(dir);
  const logged: string[] = [];
  const fitted = await fitTransform(path, { labelColumn: 'delayed', topK: 20, log: (message) => logged.push(message) });

  assert.deepEqual(fitted.features.map((feature) => [feature.name, 'rawType' in feature ? feature.rawType : '', feature.analyzer]), [
    ['hour', 'int', 'vocabulary'],
    ['weekday', 'int', 'vocabulary'],
    ['distance', 'int', 'zscore'],
    ['log_distance', 'float', 'zscore'],
    ['origin', 'string', 'vocabulary'],
    ['destination', 'string', 'vocabulary'],
  ]);
  assert.ok(logged.some((message) => message.includes('date')), 'the TIMESTAMP column is skipped and said so');

  for (const name of ['distance', 'log_distance']) {
    const values = (await readColumn(path, name)).filter((value) => value !== null).map(Number);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const feature = fitted.features.find((f) => f.name === name) as ZScoreFeature;
    assert.ok(Math.abs(feature.mean - mean) < 1e-9 * Math.abs(mean), `${name} mean`);
    assert.ok(Math.abs(feature.std - std) < 1e-9 * std, `${name} std`);
  }

  const hours = (await readColumn(path, 'hour')).map(Number);
  const hour = fitted.features[0] as VocabularyFeature;
  assert.deepEqual([...hour.vocabulary].sort((a, b) => Number(a) - Number(b)), [...new Set(hours)].sort((a, b) => a - b));

  const counts = new Map<string, number>();
  for (const origin of await readColumn(path, 'origin')) if (origin !== null) counts.set(String(origin), (counts.get(String(origin)) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20).map(([value]) => value);
  const origin = fitted.features[4] as VocabularyFeature;
  assert.deepEqual(origin.vocabulary, top);
  assert.equal(origin.outputs.length, 21);
  assert.equal(origin.outputs[20], 'origin=<OOV>');
  assert.equal(fitted.outputWidth, fitted.featureNames.length);
  assert.equal(fitted.featureNames.length, fitted.features.reduce((sum, f) => sum + f.outputs.length, 0));
});

test('features can be chosen and analyzers overridden', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = await writeFeatures(dir);
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['origin', 'hour', 'distance'],
    maxCategoricalCardinality: 10,
    overrides: { hour: { analyzer: 'vocabulary', topK: 5 }, distance: { analyzer: 'vocabulary', topK: 3 } },
  });
  assert.deepEqual(fitted.features.map((f) => [f.name, f.analyzer, f.outputs.length]), [
    ['origin', 'vocabulary', 101],
    ['hour', 'vocabulary', 6],
    ['distance', 'vocabulary', 4],
  ]);
  const weekday = await fitTransform(path, { labelColumn: 'delayed', features: ['weekday'], maxCategoricalCardinality: 5 });
  assert.equal(weekday.features[0].analyzer, 'zscore', 'seven weekdays exceed a cardinality limit of 5');
});

test('unknown label, unknown or unsupported features and impossible overrides are INVALID_ARGUMENT', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = await writeFeatures(dir);
  const invalid = (field: string | undefined, mentions?: string) => (error: unknown) =>
    error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.field === field && (!mentions || `${error.message} ${error.fix}`.includes(mentions));
  await assert.rejects(fitTransform(path, { labelColumn: 'late' }), invalid('labelColumn', 'delayed'));
  await assert.rejects(fitTransform(path, { labelColumn: 'delayed', features: ['hour', 'gate'] }), invalid('features[1]', 'origin'));
  await assert.rejects(
    fitTransform(path, { labelColumn: 'delayed', features: ['date'], overrides: { date: { analyzer: 'zscore' } } }),
    invalid('overrides.date.analyzer', 'TIMESTAMP'),
  );
  await assert.rejects(fitTransform(path, { labelColumn: 'delayed', features: ['delayed'] }), invalid('features[0]'));
  await assert.rejects(
    fitTransform(path, { labelColumn: 'delayed', features: ['origin'], overrides: { origin: { analyzer: 'zscore' } } }),
    invalid('overrides.origin.analyzer'),
  );
  await assert.rejects(
    fitTransform(path, { labelColumn: 'delayed', features: ['log_distance'], overrides: { log_distance: { analyzer: 'vocabulary' } } }),
    invalid('overrides.log_distance.analyzer'),
  );
  await assert.rejects(fitTransform(path, { labelColumn: 'delayed', features: ['hour'], overrides: { origin: {} } }), invalid('overrides.origin'));
});
