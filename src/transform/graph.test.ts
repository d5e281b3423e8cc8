import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { runTransformGraph, type Row } from '../../test/support/transform-graph.js';
import { readMetadata, readSignature } from '../onnx/inspect.js';
import { decodeModel } from '../onnx/proto.js';
import { fitTransform, type FittedTransform } from './analyzers.js';
import { buildTransformGraph, METADATA_LABEL_COLUMN, METADATA_TRANSFORM } from './graph.js';


async function writeFeatures(dir: string, name: string, months: number[]): Promise<string> {
  const raw = join(dir, `${name}-raw.parquet`);
  await writeFlightsSlice(raw, { months, every: 150 });
  const path = join(dir, `${name}.parquet`);
  await withDuckDB((db) =>
    db.run(`COPY (
      SELECT hour(date)::BIGINT AS hour,
             CASE WHEN rn % 11 = 0 THEN NULL ELSE distance END AS distance,
             CASE WHEN rn % 13 = 0 THEN NULL ELSE ln(distance) END AS log_distance,
             CASE WHEN rn % 17 = 0 THEN NULL ELSE origin END AS origin,
             delay > 15 AS delayed
      FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}))
    ) TO ${sqlString(path)} (FORMAT PARQUET)`),
  );
  return path;
}

async function readRows(path: string): Promise<Row[]> {
  return withDuckDB(async (db) => (await db.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(path)})`)).getRowObjects());
}

async function runGraph(fitted: FittedTransform, rows: Row[]): Promise<Float32Array> {
  const out = await runTransformGraph(fitted, rows);
  assert.deepEqual(out.dims, [rows.length, fitted.outputWidth]);
  return out.data;
}

/** The transform computed here from the training rows alone: z-scores from JS moments, vocabularies from JS counts. */
function expectedRow(train: Row[], row: Row, topK: number): number[] {
  const zscore = (name: string) => {
    const values = train.map((r) => r[name]).filter((v) => v !== null).map(Number);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const x = row[name] === null || row[name] === undefined ? mean : Number(row[name]);
    return Math.fround(Math.fround(Math.fround(x) - Math.fround(mean)) / Math.fround(std));
  };
  // Most frequent first, ties by value (numerically for integers).
  const oneHot = (name: string, numeric: boolean, limit: number) => {
    const counts = new Map<string, number>();
    for (const r of train) if (r[name] !== null) counts.set(String(r[name]), (counts.get(String(r[name])) ?? 0) + 1);
    const byValue = (a: string, b: string) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0);
    const ordered = [...counts].sort((a, b) => b[1] - a[1] || byValue(a[0], b[0]));
    const vocabulary = ordered.slice(0, limit).map(([value]) => value);
    const index = row[name] === null || row[name] === undefined ? -1 : vocabulary.indexOf(String(row[name]));
    return [...vocabulary.map((_, i) => (i === index ? 1 : 0)), index < 0 ? 1 : 0];
  };
  return [oneHot('hour', true, Infinity), [zscore('distance')], [zscore('log_distance')], oneHot('origin', false, topK)].flat();
}

test('the graph computes the analyzer math on real flights, including rows from a later month', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const trainPath = await writeFeatures(dir, 'train', [1]);
  const laterPath = await writeFeatures(dir, 'later', [3]);
  const fitted = await fitTransform(trainPath, { labelColumn: 'delayed', topK: 30 });
  assert.deepEqual(fitted.features.map((f) => f.analyzer), ['vocabulary', 'zscore', 'zscore', 'vocabulary']);

  const train = await readRows(trainPath);
  const later = (await readRows(laterPath)).slice(0, 800);
  const actual = await runGraph(fitted, later);
  let maxError = 0;
  later.forEach((row, i) => {
    const expected = expectedRow(train, row, 30);
    assert.equal(expected.length, fitted.outputWidth);
    for (let j = 0; j < expected.length; j++) maxError = Math.max(maxError, Math.abs(actual[i * fitted.outputWidth + j] - expected[j]));
  });
  assert.ok(maxError < 1e-5, `max difference ${maxError}`);
});

test('unseen and missing categories go to the out-of-vocabulary column; missing numbers to the mean', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const fitted = await fitTransform(await writeFeatures(dir, 'train', [1]), { labelColumn: 'delayed', topK: 10 });
  const rows: Row[] = [
    { hour: 99, distance: null, log_distance: null, origin: 'NOT_AN_AIRPORT' },
    { hour: null, distance: 1000, log_distance: NaN, origin: null },
    { hour: 12, distance: 1000n, log_distance: 7, origin: '' },
  ];
  const out = await runGraph(fitted, rows);
  const name = (column: string) => fitted.featureNames.indexOf(column);
  const at = (row: number, column: string) => out[row * fitted.outputWidth + name(column)];
  for (let row = 0; row < 3; row++) {
    assert.equal(at(row, 'origin=<OOV>'), 1, `row ${row} origin is out of vocabulary`);
    const originColumns = fitted.featureNames.filter((n) => n.startsWith('origin='));
    assert.equal(originColumns.reduce((sum, n) => sum + at(row, n), 0), 1, 'exactly one origin column is hot');
  }
  assert.equal(at(0, 'hour=<OOV>'), 1);
  assert.equal(at(1, 'hour=<OOV>'), 1);
  assert.equal(at(2, 'hour=12'), 1);
  assert.equal(at(2, 'hour=<OOV>'), 0);
  assert.equal(at(0, 'distance'), 0);
  assert.equal(at(0, 'log_distance'), 0);
  assert.equal(at(1, 'log_distance'), 0);
  assert.equal(at(1, 'distance'), at(2, 'distance'));
});

test('inputs follow the raw types, and the fitted transform travels in the metadata', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const fitted = await fitTransform(await writeFeatures(dir, 'train', [1]), { labelColumn: 'delayed' });
  const bytes = buildTransformGraph(fitted);
  assert.deepEqual(readSignature(bytes), {
    inputs: [
      { name: 'hour', type: 'int64', shape: [-1, 1] },
      { name: 'distance', type: 'int64', shape: [-1, 1] },
      { name: 'log_distance', type: 'float32', shape: [-1, 1] },
      { name: 'origin', type: 'string', shape: [-1, 1] },
    ],
    outputs: [{ name: 'features', type: 'float32', shape: [-1, fitted.outputWidth] }],
  });
  const metadata = readMetadata(bytes);
  assert.deepEqual(JSON.parse(metadata[METADATA_TRANSFORM]), fitted);
  assert.equal(metadata[METADATA_LABEL_COLUMN], 'delayed');
});

test('graphs with only z-scores or only vocabularies work, down to a single row', async () => {
  const numeric: FittedTransform = {
    version: 4,
    labelColumn: 'y',
    rowCount: 10,
    features: [
      { name: 'a', rawType: 'float', analyzer: 'zscore', mean: 1, std: 2, impute: { strategy: 'mean', value: 1 }, outputs: ['a'] },
      { name: 'b', rawType: 'int', analyzer: 'zscore', mean: 10, std: 5, impute: { strategy: 'mean', value: 10 }, outputs: ['b'] },
    ],
    featureNames: ['a', 'b'],
    outputWidth: 2,
  };
  assert.deepEqual([...(await runGraph(numeric, [{ a: 5, b: 0 }]))], [2, -2]);
  const categorical: FittedTransform = {
    version: 4,
    labelColumn: 'y',
    rowCount: 10,
    features: [
      { name: 'c', rawType: 'string', analyzer: 'vocabulary', vocabulary: ['x', 'y'], oovBuckets: 1, missingColumn: 2, outputs: ['c=x', 'c=y', 'c=<OOV>'] },
      { name: 'd', rawType: 'int', analyzer: 'vocabulary', vocabulary: [3], oovBuckets: 1, missingColumn: 1, outputs: ['d=3', 'd=<OOV>'] },
    ],
    featureNames: ['c=x', 'c=y', 'c=<OOV>', 'd=3', 'd=<OOV>'],
    outputWidth: 5,
  };
  assert.deepEqual([...(await runGraph(categorical, [{ c: 'y', d: 3 }, { c: 'q', d: 4 }]))], [0, 1, 0, 1, 0, 0, 0, 1, 0, 1]);
});

test('only a graph that hashes imports the com.microsoft domain (MurmurHash3); the others stay plain ONNX', () => {
  const fitted = (oovBuckets: number): FittedTransform => {
    const outputs = ['c=x', ...Array.from({ length: oovBuckets }, (_, k) => `c=<OOV${k}>`)];
    const feature = { name: 'c', rawType: 'string', analyzer: 'vocabulary', vocabulary: ['x'], oovBuckets, missingColumn: 1, outputs } as const;
    return { version: 4, labelColumn: 'y', rowCount: 1, features: [{ ...feature, vocabulary: ['x'] }], featureNames: outputs, outputWidth: outputs.length };
  };
  const domains = (oovBuckets: number) => (decodeModel(buildTransformGraph(fitted(oovBuckets))).opset_import ?? []).map((opset) => opset.domain ?? '');
  assert.deepEqual(domains(1), ['', 'ai.onnx.ml']);
  assert.deepEqual(domains(4), ['', 'ai.onnx.ml', 'com.microsoft']);
});
