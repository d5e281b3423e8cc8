import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { queryRows as query, runTransformGraph, type Row } from '../../test/support/transform-graph.js';
import { fitTransform } from './analyzers.js';
import type { DatetimeFeature, FittedTransform, MinMaxFeature, QuantilesFeature, ZScoreFeature } from './fitted.js';
import { transformInputs } from './graph.js';


/** A February slice: raw timestamp, distance with some rows missing, delay (float), label. */
async function writeFeatures(dir: string): Promise<string> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [2], every: 120 });
  const path = join(dir, 'features.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (
      SELECT CASE WHEN rn % 19 = 0 THEN NULL ELSE date END AS date,
             CASE WHEN rn % 11 = 0 THEN NULL ELSE distance END AS distance,
             CASE WHEN rn % 13 = 0 THEN NULL ELSE delay::DOUBLE END AS delay,
             delay > 15 AS delayed
      FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}))
    ) TO ${sqlString(path)} (FORMAT PARQUET)`),
  );
  return path;
}


async function runGraph(fitted: FittedTransform, rows: Row[]): Promise<Float32Array> {
  return (await runTransformGraph(fitted, rows)).data;
}

const hotColumn = (out: Float32Array, width: number, row: number, names: string[], prefix: string): string | undefined => {
  const hot = names.filter((name, j) => name.startsWith(prefix) && out[row * width + j] === 1);
  assert.ok(hot.length <= 1, `at most one ${prefix} column is hot in row ${row}`);
  return hot[0];
};

test('minmax and zscore with median and constant imputation match DuckDB', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, {
    labelColumn: 'delayed',
    features: ['distance', 'delay'],
    overrides: { distance: { analyzer: 'minmax', impute: { strategy: 'median' } }, delay: { analyzer: 'zscore', impute: { strategy: 'constant', value: -5 } } },
  });
  const [distance, delay] = fitted.features as [MinMaxFeature, ZScoreFeature];
  const source = `read_parquet(${sqlString(path)})`;
  const [stats] = await query(`SELECT min(distance)::DOUBLE AS lo, max(distance)::DOUBLE AS hi, median(distance::DOUBLE) AS med,
    avg(delay) AS m, stddev_pop(delay) AS s FROM ${source}`);
  assert.deepEqual([distance.min, distance.max, distance.impute], [stats.lo, stats.hi, { strategy: 'median', value: stats.med }]);
  assert.ok(Math.abs(delay.mean - Number(stats.m)) < 1e-9 && Math.abs(delay.std - Number(stats.s)) < 1e-9);
  assert.deepEqual(delay.impute, { strategy: 'constant', value: -5 });

  const rows = await query(`SELECT distance, delay FROM ${source} LIMIT 400`);
  assert.ok(rows.some((row) => row.distance === null) && rows.some((row) => row.delay === null), 'the rows include missing values');
  const out = await runGraph(fitted, rows);
  rows.forEach((row, i) => {
    const d = row.distance === null ? Number(stats.med) : Number(row.distance);
    const expectedDistance = (d - Number(stats.lo)) / (Number(stats.hi) - Number(stats.lo));
    const x = row.delay === null ? -5 : Number(row.delay);
    const expectedDelay = (x - Number(stats.m)) / Number(stats.s);
    assert.ok(Math.abs(out[i * 2] - expectedDistance) < 1e-6, `row ${i} distance ${out[i * 2]} vs ${expectedDistance}`);
    assert.ok(Math.abs(out[i * 2 + 1] - expectedDelay) < 1e-5 * Math.max(1, Math.abs(expectedDelay)), `row ${i} delay`);
  });
});

test('quantile buckets: nearest-rank boundaries from the sorted training values, each row in its bucket', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, { labelColumn: 'delayed', features: ['distance'], overrides: { distance: { analyzer: 'quantiles', buckets: 8 } } });
  const feature = fitted.features[0] as QuantilesFeature;
  const source = `read_parquet(${sqlString(path)})`;
  const sorted = (await query(`SELECT distance FROM ${source} WHERE distance IS NOT NULL`)).map((row) => Number(row.distance)).sort((a, b) => a - b);
  // Nearest rank: the k/8 quantile is the ceil(n k / 8)-th smallest value; ties merge buckets.
  const expected = [...new Set([1, 2, 3, 4, 5, 6, 7].map((k) => sorted[Math.ceil((sorted.length * k) / 8) - 1]))];
  assert.deepEqual(feature.boundaries, expected);
  assert.equal(feature.outputs.length, expected.length + 1);
  assert.equal(feature.impute.strategy, 'median', 'quantile buckets impute the median by default');

  const rows = await query(`SELECT distance FROM ${source}`);
  const out = await runGraph(fitted, rows);
  const width = fitted.outputWidth;
  const counts = new Array<number>(width).fill(0);
  const median = sorted[Math.ceil(sorted.length / 2) - 1];
  rows.forEach((row, i) => {
    const x = row.distance === null ? feature.impute.value : Number(row.distance);
    const bucket = expected.filter((boundary) => x >= boundary).length;
    assert.equal(hotColumn(out, width, i, fitted.featureNames, 'distance='), `distance=q${bucket}`, `row ${i} (${String(row.distance)})`);
    if (row.distance !== null) counts[bucket]++;
  });
  assert.ok(Math.abs(feature.impute.value - median) <= 1, 'the median is the middle value');
  const present = counts.reduce((a, b) => a + b, 0);
  for (const count of counts) assert.ok(Math.abs(count / present - 1 / width) < 0.02, `bucket shares are near 1/${width}: ${counts.join(', ')}`);
});

test('datetime parts in UTC equal DuckDB hour, dayofweek, month and day, before 1970 too; a missing timestamp sets nothing', async (t) => {
  const path = await writeFeatures(await makeTempDir(t.after.bind(t)));
  const fitted = await fitTransform(path, { labelColumn: 'delayed', features: ['date'], overrides: { date: { analyzer: 'datetime', format: 'epoch_milliseconds', parts: ['hour', 'weekday', 'month', 'day'] } } });
  const feature = fitted.features[0] as DatetimeFeature;
  assert.equal(feature.outputs.length, 24 + 7 + 12 + 31);
  assert.deepEqual(transformInputs(fitted), [{ name: 'date', type: 'int64', shape: [-1, 1] }]);
  const rows = await query(`
    SELECT epoch_ms(date) AS date, hour(date) AS h, dayofweek(date) AS w, month(date) AS m, day(date) AS d
    FROM read_parquet(${sqlString(path)})
    UNION ALL
    SELECT epoch_ms(t), hour(t), dayofweek(t), month(t), day(t) FROM (VALUES
      (TIMESTAMP '1969-12-31 23:59:59.999'), (TIMESTAMP '1900-03-01 00:00:00'), (TIMESTAMP '2000-02-29 12:30:00'),
      (TIMESTAMP '2024-12-31 23:00:00'), (TIMESTAMP '1970-01-01 00:00:00')) v(t)`);
  assert.ok(rows.some((row) => row.date === null));
  const out = await runGraph(fitted, rows);
  const width = fitted.outputWidth;
  rows.forEach((row, i) => {
    const parts = (['hour', 'weekday', 'month', 'day'] as const).map((part) => hotColumn(out, width, i, fitted.featureNames, `date.${part}=`));
    if (row.date === null) assert.deepEqual(parts, [undefined, undefined, undefined, undefined], `row ${i} is missing`);
    else assert.deepEqual(parts, [`date.hour=${row.h}`, `date.weekday=${row.w}`, `date.month=${row.m}`, `date.day=${row.d}`], `row ${i}: ${String(row.date)}`);
  });
});

test('a constant column and a single quantile bucket still make a valid graph', async () => {
  const fitted: FittedTransform = {
    version: 4,
    labelColumn: 'y',
    rowCount: 3,
    features: [
      { name: 'a', rawType: 'float', analyzer: 'quantiles', boundaries: [], impute: { strategy: 'median', value: 1 }, outputs: ['a=q0'] },
      { name: 'b', rawType: 'int', analyzer: 'minmax', min: 4, max: 4, impute: { strategy: 'mean', value: 4 }, outputs: ['b'] },
    ],
    featureNames: ['a=q0', 'b'],
    outputWidth: 2,
  };
  assert.deepEqual([...(await runGraph(fitted, [{ a: 3, b: 4 }, { a: null, b: null }, { a: -1, b: 6 }]))], [1, 0, 1, 0, 1, 2]);
});
