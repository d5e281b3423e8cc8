import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { FLIGHTS_PARQUET } from '../../test/support/flights.js';
import { SKETCH_RELATIVE_ACCURACY } from './sketch.js';
import { computeStatistics, featureTypeOf, statisticsOfRelation, type FeatureStatistics } from './statistics.js';

type Value = number | string | boolean | null;

/** The slice with extra columns that exercise missing values, NaN, booleans and floats. */
async function writeRichSlice(dir: string): Promise<string> {
  const base = join(dir, 'jan.parquet');
  await writeFlightsSlice(base, { months: [1], every: 100 });
  const rich = join(dir, 'rich.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (
      SELECT *,
        CASE WHEN delay % 7 = 0 THEN NULL ELSE delay END AS delay_gappy,
        delay > 15 AS delayed,
        CASE WHEN distance % 11 = 0 THEN 'NaN'::DOUBLE WHEN distance % 17 = 0 THEN 'inf'::DOUBLE
             WHEN distance % 19 = 0 THEN '-inf'::DOUBLE ELSE distance / 3.0 END AS third,
        CASE WHEN origin = 'ATL' THEN NULL ELSE origin END AS origin_gappy
      FROM read_parquet(${sqlString(base)})) TO ${sqlString(rich)} (FORMAT PARQUET)`),
  );
  return rich;
}

/** Loads a column into JavaScript: fine for a test's few thousand rows, never in Loom itself. */
async function column(path: string, name: string): Promise<Value[]> {
  return withDuckDB(async (db) => {
    const result = await db.runAndReadAll(`SELECT "${name}" AS v FROM read_parquet(${sqlString(path)})`);
    return result.getRowObjects().map((row) => {
      const v = row.v;
      if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
      if (typeof v === 'bigint') return Number(v);
      return String(v);
    });
  });
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

function checkNumeric(stat: FeatureStatistics, values: Value[]): void {
  const present = values.filter((v): v is number | boolean => v !== null && !(typeof v === 'number' && !Number.isFinite(v))).map(Number);
  assert.equal(stat.count, present.length, `${stat.name} count`);
  assert.equal(stat.missing, values.length - present.length, `${stat.name} missing`);
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const std = Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length);
  assert.ok(stat.numeric, `${stat.name} has a numeric block`);
  close(stat.numeric.mean, mean, `${stat.name} mean`);
  close(stat.numeric.std, std, `${stat.name} std`);
  close(stat.numeric.min, Math.min(...present), `${stat.name} min`);
  close(stat.numeric.max, Math.max(...present), `${stat.name} max`);
  assert.equal(stat.numeric.zeros, present.filter((v) => v === 0).length, `${stat.name} zeros`);
  assert.equal(stat.numeric.nan, values.filter((v) => typeof v === 'number' && Number.isNaN(v)).length, `${stat.name} nan`);
  assert.equal(stat.numeric.posInf, values.filter((v) => v === Number.POSITIVE_INFINITY).length, `${stat.name} +inf`);
  assert.equal(stat.numeric.negInf, values.filter((v) => v === Number.NEGATIVE_INFINITY).length, `${stat.name} -inf`);
  // Both histograms hold every present value; the quantile histogram's edges are the deciles.
  const histogramTotal = stat.numeric.histogram.reduce((a, b) => a + b.count, 0);
  close(histogramTotal, present.length, `${stat.name} histogram total`);
  assert.equal(stat.numeric.histogram[0]!.low, stat.numeric.min);
  assert.equal(stat.numeric.histogram.at(-1)!.high, stat.numeric.max);
  assert.equal(stat.numeric.quantileHistogram.length, 10);
  close(stat.numeric.quantileHistogram.reduce((a, b) => a + b.count, 0), present.length, `${stat.name} quantile histogram total`);
  checkQuantiles(stat, present);
}

/** Every reported quantile within the sketch's bound of the exact quantile (rank ⌈qn⌉ − 1). */
function checkQuantiles(stat: FeatureStatistics, present: number[]): void {
  const sorted = [...present].sort((a, b) => a - b);
  const alpha = SKETCH_RELATIVE_ACCURACY;
  for (const { q, value } of [...stat.numeric!.quantiles, { q: 0.5, value: stat.numeric!.median }]) {
    const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
    assert.ok(Math.abs(value - exact) <= alpha * Math.abs(exact) + 1e-9, `${stat.name} q${q}: ${value} vs exact ${exact}`);
    // Integers below 1/(2α) come out exact.
    if (stat.type !== 'FLOAT' && Math.abs(exact) < 90) assert.equal(value, exact, `${stat.name} q${q} exact`);
  }
}

function checkString(stat: FeatureStatistics, values: Value[]): void {
  const present = values.filter((v): v is string => v !== null);
  assert.equal(stat.count, present.length);
  assert.equal(stat.missing, values.length - present.length);
  const counts = new Map<string, number>();
  for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([value, count]) => ({ value, count }));
  assert.ok(stat.string);
  assert.equal(stat.string.unique, counts.size);
  assert.deepEqual(stat.string.topValues, ranked.slice(0, 20));
  assert.deepEqual(stat.string.rankHistogram, ranked.slice(0, 1000));
  assert.equal(stat.string.complete, counts.size <= 1000);
  assert.equal(stat.string.uniqueExact, true);
  close(stat.string.avgLength, present.reduce((a, v) => a + v.length, 0) / present.length, `${stat.name} avgLength`);
}

test('statistics equal an independent computation in JavaScript on a flights slice', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = await writeRichSlice(dir);
  const stats = await computeStatistics(path);
  const dates = await column(path, 'date');
  assert.equal(stats.version, 2);
  assert.equal(stats.rowCount, dates.length);
  assert.deepEqual(
    stats.features.map((f) => [f.name, f.type, f.sqlType]),
    [
      ['date', 'TIMESTAMP', 'TIMESTAMP'],
      ['delay', 'INT', 'BIGINT'],
      ['distance', 'INT', 'BIGINT'],
      ['origin', 'STRING', 'VARCHAR'],
      ['destination', 'STRING', 'VARCHAR'],
      ['delay_gappy', 'INT', 'BIGINT'],
      ['delayed', 'BOOL', 'BOOLEAN'],
      ['third', 'FLOAT', 'DOUBLE'],
      ['origin_gappy', 'STRING', 'VARCHAR'],
    ],
  );
  const byName = new Map(stats.features.map((f) => [f.name, f]));
  for (const name of ['delay', 'distance', 'delay_gappy', 'delayed', 'third']) checkNumeric(byName.get(name)!, await column(path, name));
  for (const name of ['origin', 'destination', 'origin_gappy']) checkString(byName.get(name)!, await column(path, name));
  assert.ok(byName.get('delay_gappy')!.missing > 0, 'the gappy column has missing values');
  assert.ok(byName.get('third')!.missing > 0, 'NaN counts as missing');
  const third = byName.get('third')!.numeric!;
  assert.ok(third.nan > 0 && third.posInf > 0 && third.negInf > 0, 'the slice has NaN and both infinities');
  assert.ok(byName.get('delay')!.numeric!.zeros > 0);

  const date = byName.get('date')!;
  const sorted = dates.map(String).sort();
  assert.equal(date.count, dates.length);
  assert.deepEqual(date.timestamp, { min: sorted[0].replace(' ', 'T').slice(0, 19), max: sorted.at(-1)!.replace(' ', 'T').slice(0, 19) });
  assert.match(date.timestamp!.min!, /^2001-01-01T\d\d:\d\d:\d\d$/);
});

test('statistics of a CSV equal those of the same rows in Parquet', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  await writeFlightsSlice(join(dir, 'feb.csv'), { months: [2], every: 200 });
  await writeFlightsSlice(join(dir, 'feb.parquet'), { months: [2], every: 200 });
  assert.deepEqual(await computeStatistics(join(dir, 'feb.csv')), await computeStatistics(join(dir, 'feb.parquet')));
});

test('topK and histogramSize bound the value lists', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = join(dir, 'mar.parquet');
  await writeFlightsSlice(path, { months: [3], every: 200 });
  const stats = await computeStatistics(path, { topK: 3, histogramSize: 10 });
  const origin = stats.features.find((f) => f.name === 'origin')!.string!;
  assert.equal(origin.topValues.length, 3);
  assert.equal(origin.rankHistogram.length, 10);
  assert.ok(origin.unique > 10);
  assert.deepEqual(origin.topValues, origin.rankHistogram.slice(0, 3));
});

test('DuckDB types map to feature types', () => {
  assert.equal(featureTypeOf('UBIGINT'), 'INT');
  assert.equal(featureTypeOf('DECIMAL(10,2)'), 'FLOAT');
  assert.equal(featureTypeOf('TIMESTAMP WITH TIME ZONE'), 'TIMESTAMP');
  assert.equal(featureTypeOf('DATE'), 'TIMESTAMP');
  assert.equal(featureTypeOf('BOOLEAN'), 'BOOL');
  assert.equal(featureTypeOf('VARCHAR[]'), 'STRING');
});

test('quantiles of all 3M flights are within the sketch bound of the exact quantiles', async () => {
  const qs = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];
  await withDuckDB(async (db) => {
    // distance / 7 + delay / 1000 has about a million distinct values: the sketch cannot be exact there.
    const relation = `SELECT delay, distance, distance / 7.0 + delay / 1000.0 AS mixed FROM read_parquet(${sqlString(FLIGHTS_PARQUET)})`;
    const stats = await statisticsOfRelation(db, relation);
    assert.equal(stats.rowCount, 3_000_000);
    for (const feature of stats.features) {
      const name = feature.name;
      // The exact quantiles: DuckDB's quantile_disc is the value of rank ⌈qn⌉ − 1.
      const exact = await db.runAndReadAll(
        `SELECT unnest(quantile_disc(${name}, [${qs.join(', ')}]))::DOUBLE AS v FROM (${relation})`,
      );
      const rows = exact.getRowObjects();
      assert.equal(rows.length, qs.length);
      const bound = SKETCH_RELATIVE_ACCURACY;
      let worst = 0;
      rows.forEach((row, i) => {
        const truth = Number(row.v);
        const estimate = feature.numeric!.quantiles[i]!.value;
        assert.equal(feature.numeric!.quantiles[i]!.q, qs[i]);
        const error = Math.abs(estimate - truth) / Math.abs(truth);
        worst = Math.max(worst, error);
        assert.ok(error <= bound, `${name} q${qs[i]}: ${estimate} vs exact ${truth} (relative error ${error})`);
      });
      rows.forEach((row, i) => {
        if (feature.type === 'INT' && Math.abs(Number(row.v)) < 90) assert.equal(feature.numeric!.quantiles[i]!.value, Number(row.v), `${name} q${qs[i]}: small integers are exact`);
      });
      assert.ok(worst > 0 || feature.type === 'INT', `${name}: a continuous column is not trivially exact`);
    }
  });
});

test('integers of a small span get the sketch their values get as floats, of a wide span too', async () => {
  // Small spans are grouped by value and keyed afterwards, FLOAT and wide INT columns keyed
  // per row: the same values must give the same buckets either way, negatives, zero and
  // missing values included.
  const stats = await withDuckDB((db) =>
    statisticsOfRelation(
      db,
      `SELECT v AS small, v::DOUBLE AS small_float, v * 1000 AS wide, (v * 1000)::DOUBLE AS wide_float, v > 0 AS flag, (v > 0)::INTEGER::DOUBLE AS flag_float
       FROM (SELECT CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 7919) % 401 - 150 END::BIGINT AS v FROM range(5000) t(i))`,
    ),
  );
  const byName = new Map(stats.features.map((f) => [f.name, f]));
  for (const name of ['small', 'wide', 'flag']) {
    const integer = byName.get(name)!.numeric!;
    const float = byName.get(`${name}_float`)!.numeric!;
    assert.ok(integer.sketch.positive.length > 0 && integer.sketch.zeroCount > 0, name);
    assert.deepEqual(integer.sketch, float.sketch, name);
    assert.equal(byName.get(name)!.count, byName.get(`${name}_float`)!.count);
  }
  assert.ok(byName.get('small')!.numeric!.sketch.negative.length > 0);
  assert.ok(byName.get('wide')!.numeric!.max - byName.get('wide')!.numeric!.min > 100_000, 'wide spans more than the by-value limit');
});
