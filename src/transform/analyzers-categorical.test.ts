import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { toTensor } from '../onnx/tensors.js';
import { fitTransform } from './analyzers.js';
import type { CategoricalFeature, CrossFeature, FittedTransform } from './fitted.js';
import { buildTransformGraph, transformInputs } from './graph.js';
import { CROSS_SEPARATOR, fnv1a32, hashBucket } from './hash.js';

type Row = Record<string, unknown>;

/** A March slice with the hour as an integer category and some origins missing. */
async function writeFeatures(dir: string): Promise<string> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [3], every: 100 });
  const path = join(dir, 'features.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (
      SELECT CASE WHEN rn % 17 = 0 THEN NULL ELSE origin END AS origin, destination,
             CASE WHEN rn % 23 = 0 THEN NULL ELSE hour(date)::BIGINT END AS hour, delay > 15 AS delayed
      FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}))
    ) TO ${sqlString(path)} (FORMAT PARQUET)`),
  );
  return path;
}

async function query(sql: string): Promise<Row[]> {
  return withDuckDB(async (db) => (await db.runAndReadAll(sql)).getRowObjects());
}

async function runGraph(fitted: FittedTransform, rows: Row[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(buildTransformGraph(fitted));
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of transformInputs(fitted)) feeds[spec.name] = toTensor(spec, rows.map((row) => row[spec.name] ?? null));
  const out = (await session.run(feeds)).features;
  await session.release();
  return out.data as Float32Array;
}

/** The one hot column among those of a feature (by output names), or fails. */
function hot(fitted: FittedTransform, out: Float32Array, row: number, feature: string): string {
  const outputs = fitted.features.find((f) => f.name === feature)!.outputs;
  const names = outputs.filter((name) => out[row * fitted.outputWidth + fitted.featureNames.indexOf(name)] === 1);
  assert.equal(names.length, 1, `exactly one ${feature} column is hot in row ${row}: ${names.join(', ')}`);
  return names[0];
}

test('FNV-1a matches its published test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  assert.equal(hashBucket('foobar', 7), 0xbf9cf968 % 7);
});

test('vocabulary: top-k above a minimum frequency, the rest of the training values hashed into OOV buckets, unseen in bucket 0', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['origin'],
    overrides: { origin: { analyzer: 'vocabulary', topK: 40, minFrequency: 60, numOovBuckets: 5 } },
  });
  const feature = fitted.features[0] as CategoricalFeature;
  const counts = await query(`SELECT origin AS v, count(*)::INTEGER AS c FROM read_parquet(${sqlString(path)}) WHERE origin IS NOT NULL GROUP BY origin ORDER BY c DESC, v`);
  const frequent = counts.filter((row) => Number(row.c) >= 60).slice(0, 40).map((row) => String(row.v));
  assert.ok(frequent.length < 40, 'the frequency threshold, not k, bounds this vocabulary');
  assert.deepEqual(feature.vocabulary, frequent);
  assert.deepEqual(feature.outputs.slice(-5), ['origin=<OOV0>', 'origin=<OOV1>', 'origin=<OOV2>', 'origin=<OOV3>', 'origin=<OOV4>']);

  const rows: Row[] = [...counts.map((row) => ({ origin: row.v })), { origin: 'NOT_AN_AIRPORT' }, { origin: null }];
  const out = await runGraph(fitted, rows);
  rows.forEach((row, i) => {
    const value = row.origin === null ? undefined : String(row.origin);
    const seen = value !== undefined && counts.some((count) => count.v === value);
    const expected =
      value !== undefined && frequent.includes(value) ? `origin=${value}`
      : seen ? `origin=<OOV${hashBucket(value!, 5)}>`
      : 'origin=<OOV0>';
    assert.equal(hot(fitted, out, i, 'origin'), expected, `row ${i}: ${String(row.origin)}`);
  });
});

test('hash: every training value in its FNV-1a bucket; the default vocabulary keeps one OOV column', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['destination', 'origin', 'hour'],
    topK: 10,
    overrides: { destination: { analyzer: 'hash', buckets: 16 }, hour: { analyzer: 'hash', buckets: 3 } },
  });
  assert.deepEqual(fitted.features.map((f) => [f.name, f.analyzer, f.outputs.length]), [['destination', 'hash', 16], ['origin', 'vocabulary', 11], ['hour', 'hash', 3]]);
  const rows = await query(`SELECT DISTINCT destination, hour FROM read_parquet(${sqlString(path)}) ORDER BY ALL`);
  rows.push({ destination: 'ZZZ', hour: 99 }, { destination: null, hour: null });
  const out = await runGraph(fitted, rows.map((row) => ({ ...row, origin: 'ORD' })));
  rows.forEach((row, i) => {
    const unseen = row.destination === 'ZZZ' || row.destination === null;
    assert.equal(hot(fitted, out, i, 'destination'), `destination#${unseen ? 0 : hashBucket(String(row.destination), 16)}`);
    const hour = row.hour === null || row.hour === 99n ? 0 : hashBucket(String(row.hour), 3);
    assert.equal(hot(fitted, out, i, 'hour'), `hour#${hour}`, `hour ${String(row.hour)}`);
  });
});

test('categorical imputation: most frequent string, constant integer', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['origin', 'hour'],
    overrides: {
      origin: { analyzer: 'vocabulary', topK: 20, impute: { strategy: 'most_frequent' } },
      hour: { analyzer: 'vocabulary', impute: { strategy: 'constant', value: 12 } },
    },
  });
  const [mode] = await query(`SELECT origin FROM read_parquet(${sqlString(path)}) WHERE origin IS NOT NULL GROUP BY origin ORDER BY count(*) DESC, origin LIMIT 1`);
  assert.deepEqual((fitted.features[0] as CategoricalFeature).impute, { strategy: 'most_frequent', value: mode.origin });
  const out = await runGraph(fitted, [{ origin: null, hour: null }, { origin: '', hour: 12 }, { origin: 'NOT_AN_AIRPORT', hour: 99 }]);
  assert.equal(hot(fitted, out, 0, 'origin'), `origin=${String(mode.origin)}`);
  assert.equal(hot(fitted, out, 1, 'origin'), `origin=${String(mode.origin)}`, "'' is how serving sends a missing string");
  assert.equal(hot(fitted, out, 2, 'origin'), 'origin=<OOV>');
  assert.equal(hot(fitted, out, 0, 'hour'), 'hour=12');
  assert.equal(hot(fitted, out, 1, 'hour'), 'hour=12');
  assert.equal(hot(fitted, out, 2, 'hour'), 'hour=<OOV>');
});

test('crosses: a vocabulary of the most frequent origin x destination pairs, and hour x origin hashed', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['hour'],
    crosses: [
      { features: ['origin', 'destination'], topK: 50, numOovBuckets: 3 },
      { features: ['hour', 'origin'], name: 'hour_origin', buckets: 32 },
    ],
  });
  assert.deepEqual(transformInputs(fitted).map((input) => [input.name, input.type]), [['hour', 'int64'], ['origin', 'string'], ['destination', 'string']]);
  const [route, hourOrigin] = fitted.features.slice(1) as CrossFeature[];
  const pairs = await query(`SELECT origin AS a, destination AS b, count(*)::INTEGER AS c FROM read_parquet(${sqlString(path)})
    WHERE origin IS NOT NULL GROUP BY ALL ORDER BY c DESC, a, b`);
  assert.deepEqual(route.vocabulary, pairs.slice(0, 50).map((row) => [row.a, row.b]));
  assert.equal(route.outputs.length, 53);

  const rows = await query(`SELECT origin, destination, hour FROM read_parquet(${sqlString(path)}) LIMIT 300`);
  rows.push({ origin: 'ORD', destination: 'NOWHERE', hour: 8n }, { origin: null, destination: 'ORD', hour: null });
  const seenPairs = new Set(pairs.map((row) => `${row.a}${CROSS_SEPARATOR}${row.b}`));
  const seenHourOrigin = new Set((await query(`SELECT DISTINCT hour, origin FROM read_parquet(${sqlString(path)}) WHERE hour IS NOT NULL AND origin IS NOT NULL`)).map((row) => `${row.hour}${CROSS_SEPARATOR}${row.origin}`));
  const out = await runGraph(fitted, rows);
  rows.forEach((row, i) => {
    const key = `${row.origin}${CROSS_SEPARATOR}${row.destination}`;
    const index = route.vocabulary.findIndex(([a, b]) => a === row.origin && b === row.destination);
    const expected = index >= 0 ? `origin_x_destination=${row.origin}|${row.destination}` : `origin_x_destination=<OOV${seenPairs.has(key) ? hashBucket(key, 3) : 0}>`;
    assert.equal(hot(fitted, out, i, 'origin_x_destination'), expected, `row ${i}`);
    const hourKey = `${row.hour}${CROSS_SEPARATOR}${row.origin}`;
    assert.equal(hot(fitted, out, i, 'hour_origin'), `hour_origin#${seenHourOrigin.has(hourKey) ? hashBucket(hourKey, 32) : 0}`, `row ${i}`);
  });
  assert.ok(hourOrigin.hashed.values.length > 0);
});
