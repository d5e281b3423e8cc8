import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { queryRows as query, runTransformGraph, type Row } from '../../test/support/transform-graph.js';
import { fitTransform } from './analyzers.js';
import { categoricalColumn, crossColumn, type CategoricalFeature, type CrossFeature, type FittedTransform } from './fitted.js';
import { transformInputs } from './graph.js';
import { crossBucket, hashBucket } from './hash.js';


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


async function runGraph(fitted: FittedTransform, rows: Row[]): Promise<Float32Array> {
  return (await runTransformGraph(fitted, rows)).data;
}

/** The one hot column among those of a feature (by output names), or fails. */
function hot(fitted: FittedTransform, out: Float32Array, row: number, feature: string): string {
  const outputs = fitted.features.find((f) => f.name === feature)!.outputs;
  const names = outputs.filter((name) => out[row * fitted.outputWidth + fitted.featureNames.indexOf(name)] === 1);
  assert.equal(names.length, 1, `exactly one ${feature} column is hot in row ${row}: ${names.join(', ')}`);
  return names[0];
}

/** Values no training row has: unseen airports (one non-ASCII), as a client may send them. */
const UNSEEN_AIRPORTS = ['NOT_AN_AIRPORT', 'ZZZ', 'XQX', 'QQQ', 'Zürich', 'AAA1', 'BBB2', 'CCC3'];

test('vocabulary: top-k above a minimum frequency; every other value, seen or unseen, hashed into an OOV bucket by the graph', async (t) => {
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

  const rows: Row[] = [...counts.map((row) => ({ origin: row.v })), ...UNSEEN_AIRPORTS.map((origin) => ({ origin })), { origin: null }];
  const out = await runGraph(fitted, rows);
  const unseenBuckets = new Set<string>();
  rows.forEach((row, i) => {
    const value = row.origin === null ? undefined : String(row.origin);
    const expected =
      value === undefined ? 'origin=<OOV0>'
      : frequent.includes(value) ? `origin=${value}`
      : `origin=<OOV${hashBucket(value, 5)}>`;
    const actual = hot(fitted, out, i, 'origin');
    assert.equal(actual, expected, `row ${i}: ${String(row.origin)}`);
    assert.equal(actual, feature.outputs[categoricalColumn(feature, value ?? null)], 'the TypeScript column agrees');
    if (value !== undefined && UNSEEN_AIRPORTS.includes(value)) unseenBuckets.add(actual);
  });
  assert.ok(unseenBuckets.size >= 3, `unseen values spread over the buckets, not all in bucket 0: ${[...unseenBuckets].join(', ')}`);
});

test('hash: every value, seen or unseen, string or integer, in its MurmurHash3 bucket; the default vocabulary keeps one OOV column', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['destination', 'origin', 'hour'],
    topK: 10,
    overrides: { destination: { analyzer: 'hash', buckets: 16 }, hour: { analyzer: 'hash', buckets: 3 } },
  });
  assert.deepEqual(fitted.features.map((f) => [f.name, f.analyzer, f.outputs.length]), [['destination', 'hash', 16], ['origin', 'vocabulary', 11], ['hour', 'hash', 3]]);
  const [destination, , hour] = fitted.features as CategoricalFeature[];
  const rows = await query(`SELECT DISTINCT destination, hour FROM read_parquet(${sqlString(path)}) ORDER BY ALL`);
  // Unseen integers too: out of range, negative, beyond 2^53 (hashed as decimal text, like Cast int64 -> string).
  const unseenHours = [99n, -5n, 1234567n, 2n ** 53n + 1n, 2n ** 62n];
  rows.push(...UNSEEN_AIRPORTS.map((value, i) => ({ destination: value, hour: unseenHours[i % unseenHours.length] })), { destination: null, hour: null });
  const out = await runGraph(fitted, rows.map((row) => ({ ...row, origin: 'ORD' })));
  const unseen = new Set<string>();
  rows.forEach((row, i) => {
    const expectedDestination = row.destination === null ? 0 : hashBucket(String(row.destination), 16);
    assert.equal(hot(fitted, out, i, 'destination'), `destination#${expectedDestination}`);
    assert.equal(categoricalColumn(destination, row.destination as string | null), expectedDestination);
    const expectedHour = row.hour === null ? 0 : hashBucket(String(row.hour), 3);
    assert.equal(hot(fitted, out, i, 'hour'), `hour#${expectedHour}`, `hour ${String(row.hour)}`);
    assert.equal(categoricalColumn(hour, row.hour as bigint | null), expectedHour);
    if (UNSEEN_AIRPORTS.includes(String(row.destination))) unseen.add(hot(fitted, out, i, 'destination'));
  });
  assert.ok(unseen.size >= 3, `unseen airports land in several buckets: ${[...unseen].join(', ')}`);
  // Published MurmurHash3 values, so the buckets are the standard hash and not a private one.
  assert.equal(hashBucket('hello', 16), 0x248bfa47 % 16);
});

test('categorical imputation: most frequent string, constant integer, and a hashed feature imputes into its value\'s bucket', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['origin', 'hour', 'destination'],
    overrides: {
      origin: { analyzer: 'vocabulary', topK: 20, impute: { strategy: 'most_frequent' } },
      hour: { analyzer: 'vocabulary', impute: { strategy: 'constant', value: 12 } },
      destination: { analyzer: 'hash', buckets: 8, impute: { strategy: 'constant', value: 'SFO' } },
    },
  });
  const [mode] = await query(`SELECT origin FROM read_parquet(${sqlString(path)}) WHERE origin IS NOT NULL GROUP BY origin ORDER BY count(*) DESC, origin LIMIT 1`);
  assert.deepEqual((fitted.features[0] as CategoricalFeature).impute, { strategy: 'most_frequent', value: mode.origin });
  const out = await runGraph(fitted, [
    { origin: null, hour: null, destination: null },
    { origin: '', hour: 12, destination: '' },
    { origin: 'NOT_AN_AIRPORT', hour: 99, destination: 'SFO' },
  ]);
  assert.equal(hot(fitted, out, 0, 'origin'), `origin=${String(mode.origin)}`);
  assert.equal(hot(fitted, out, 1, 'origin'), `origin=${String(mode.origin)}`, "'' is how serving sends a missing string");
  assert.equal(hot(fitted, out, 2, 'origin'), 'origin=<OOV>');
  assert.equal(hot(fitted, out, 0, 'hour'), 'hour=12');
  assert.equal(hot(fitted, out, 1, 'hour'), 'hour=12');
  assert.equal(hot(fitted, out, 2, 'hour'), 'hour=<OOV>');
  for (const row of [0, 1, 2]) assert.equal(hot(fitted, out, row, 'destination'), `destination#${hashBucket('SFO', 8)}`);
});

test('crosses: a vocabulary of the most frequent origin x destination pairs, other pairs and hour x origin hashed by the graph', async (t) => {
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
  assert.deepEqual(hourOrigin.vocabulary, []);
  assert.equal(route.outputs.length, 53);

  const rows = await query(`SELECT origin, destination, hour FROM read_parquet(${sqlString(path)}) LIMIT 300`);
  rows.push(
    ...UNSEEN_AIRPORTS.map((origin, i) => ({ origin, destination: i % 2 === 0 ? 'ORD' : 'NOWHERE', hour: BigInt(i) })),
    { origin: 'ORD', destination: 'NOWHERE', hour: 99n },
    { origin: null, destination: 'ORD', hour: null },
    { origin: 'ORD', destination: '', hour: 8n },
  );
  const out = await runGraph(fitted, rows);
  const unseen = new Set<string>();
  rows.forEach((row, i) => {
    const missing = (value: unknown) => value === null || value === '';
    const index = route.vocabulary.findIndex(([a, b]) => a === row.origin && b === row.destination);
    const routeExpected =
      index >= 0 ? `origin_x_destination=${row.origin}|${row.destination}`
      : `origin_x_destination=<OOV${missing(row.origin) || missing(row.destination) ? 0 : crossBucket(String(row.origin), String(row.destination), 3)}>`;
    assert.equal(hot(fitted, out, i, 'origin_x_destination'), routeExpected, `row ${i}`);
    const hourExpected = `hour_origin#${missing(row.hour) || missing(row.origin) ? 0 : crossBucket(String(row.hour), String(row.origin), 32)}`;
    assert.equal(hot(fitted, out, i, 'hour_origin'), hourExpected, `row ${i}`);
    const raw = row as { origin: string | null; destination: string | null; hour: bigint | null };
    assert.equal(route.outputs[crossColumn(route, raw.origin, raw.destination)], routeExpected, 'the TypeScript column agrees');
    assert.equal(hourOrigin.outputs[crossColumn(hourOrigin, raw.hour, raw.origin)], hourExpected);
    if (UNSEEN_AIRPORTS.includes(String(row.origin))) unseen.add(hourExpected);
  });
  assert.ok(unseen.size >= 4, `pairs with unseen airports spread over the buckets: ${[...unseen].join(', ')}`);
});
