import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { DATASET, findAnomalies, formatAnomalyReport, type Anomaly } from './anomalies.js';
import { inferSchema, type Schema } from './schema.js';
import { computeStatistics, type StatisticsOptions } from './statistics.js';

interface Fixture {
  dir: string;
  base: string;
  schema: Schema;
  /** Statistics of `SELECT <select> FROM` the January slice `<rest>`. */
  variant(select: string, options?: StatisticsOptions, rest?: string): ReturnType<typeof computeStatistics>;
  count(sql: string): Promise<number>;
}

async function fixture(t: { after: (fn: () => Promise<void>) => void }): Promise<Fixture> {
  const dir = await makeTempDir(t.after);
  const base = join(dir, 'jan.parquet');
  await writeFlightsSlice(base, { months: [1], every: 100 });
  const schema = inferSchema(await computeStatistics(base));
  let n = 0;
  return {
    dir,
    base,
    schema,
    async variant(select, options, rest = '') {
      const path = join(dir, `variant-${n++}.parquet`);
      await withDuckDB((db) => db.run(`COPY (SELECT ${select} FROM read_parquet(${sqlString(base)}) ${rest}) TO ${sqlString(path)} (FORMAT PARQUET)`));
      return computeStatistics(path, options);
    },
    count: (sql) => withDuckDB(async (db) => Number((await db.runAndReadAll(sql)).getRowObjects()[0].n)),
  };
}

function only(anomalies: Anomaly[], type: Anomaly['type']): Anomaly {
  const found = anomalies.filter((a) => a.type === type);
  assert.equal(found.length, 1, `expected one ${type} in ${JSON.stringify(anomalies.map((a) => a.type))}`);
  return found[0];
}

test('data the schema was inferred from has no anomalies', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  const report = findAnomalies(await computeStatistics(f.base), f.schema, { split: 'train' });
  assert.deepEqual({ ...report, rowCount: 0 }, { version: 1, split: 'train', rowCount: 0, errorCount: 0, warningCount: 0, anomalies: [] });
  assert.match(formatAnomalyReport(report), /^split "train": no anomalies in \d+ rows$/);
});

test('a missing column is an error and a new column a warning', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  const report = findAnomalies(await f.variant('* EXCLUDE (destination), delay > 15 AS delayed'), f.schema);
  assert.equal(report.errorCount, 1);
  assert.equal(report.warningCount, 1);
  assert.deepEqual(
    report.anomalies.map((a) => [a.type, a.feature, a.severity]),
    [
      ['MISSING_COLUMN', 'destination', 'ERROR'],
      ['NEW_COLUMN', 'delayed', 'WARNING'],
    ],
  );
  const text = formatAnomalyReport(report);
  assert.match(text, /^data: 1 error, 1 warning in \d+ rows\n {2}ERROR {3}MISSING_COLUMN {2}destination: /);
  assert.match(text, /WARNING NEW_COLUMN {6}delayed: "delayed" \(BOOL\) is in the data but not in the schema/);
});

test('distance read as VARCHAR is a type change; integers where floats are expected are not', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  const report = findAnomalies(await f.variant('* REPLACE (distance::VARCHAR AS distance)'), f.schema);
  const anomaly = only(report.anomalies, 'TYPE_CHANGE');
  assert.equal(anomaly.feature, 'distance');
  assert.equal(anomaly.severity, 'ERROR');
  assert.match(anomaly.long, /"distance" is INT in the schema but STRING \(VARCHAR\) in the data/);
  assert.equal(report.anomalies.length, 1, 'no domain or other checks on a feature whose type changed');

  const widened: Schema = { ...f.schema, features: f.schema.features.map((x) => (x.name === 'delay' ? { ...x, type: 'FLOAT' } : x)) };
  assert.equal(findAnomalies(await computeStatistics(f.base), widened).anomalies.length, 0);
});

test('an airport outside the domain is an unseen category, an error above maxUnseenShare and a warning below', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  const src = `read_parquet(${sqlString(f.base)})`;
  const stats = await f.variant(`* REPLACE (CASE WHEN origin = 'ATL' THEN 'XXX' ELSE origin END AS origin)`);
  const rows = await f.count(`SELECT count(*) AS n FROM ${src}`);
  const atl = await f.count(`SELECT count(*) AS n FROM ${src} WHERE origin = 'ATL'`);
  assert.ok(atl / rows > 0.01);
  const anomaly = only(findAnomalies(stats, f.schema).anomalies, 'UNSEEN_CATEGORY');
  assert.equal(anomaly.feature, 'origin');
  assert.equal(anomaly.severity, 'ERROR');
  assert.deepEqual(anomaly.unseenValues, [{ value: 'XXX', count: atl }]);
  assert.equal(anomaly.unseenShare, atl / rows);
  assert.equal(anomaly.exact, true);
  assert.match(anomaly.long, /1 value of "origin" is not in its domain, on \d+\.\d\d% of rows \(tolerated: 1\.00%\): "XXX" \(\d+\)/);

  // One flight from a new airport is tolerated, with a warning.
  const one = await f.variant(`* REPLACE (CASE WHEN date = (SELECT min(date) FROM ${src}) THEN 'NEW' ELSE origin END AS origin)`);
  const warning = only(findAnomalies(one, f.schema).anomalies, 'UNSEEN_CATEGORY');
  assert.equal(warning.severity, 'WARNING');
  assert.deepEqual(warning.unseenValues?.map((v) => v.value), ['NEW']);

  // A stricter schema turns the same data into an error.
  const strict: Schema = { ...f.schema, features: f.schema.features.map((x) => (x.name === 'origin' ? { ...x, maxUnseenShare: 0 } : x)) };
  assert.equal(only(findAnomalies(one, strict).anomalies, 'UNSEEN_CATEGORY').severity, 'ERROR');
});

test('when the histogram does not hold every value the unseen share is a lower bound', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  // Every airport renamed: none is in the domain, but only 5 of them are in the histogram.
  const stats = await f.variant(`* REPLACE (origin || '2' AS origin)`, { topK: 5, histogramSize: 5 });
  const anomaly = only(findAnomalies(stats, f.schema).anomalies, 'UNSEEN_CATEGORY');
  const unique = stats.features.find((x) => x.name === 'origin')!.string!.unique;
  assert.equal(anomaly.exact, false);
  assert.equal(anomaly.severity, 'ERROR');
  assert.equal(anomaly.unseenValues?.length, 5);
  assert.match(anomaly.long, new RegExp(`at least 5 values .* only the 5 most frequent of ${unique} values could be checked`));
});

test('missing values in a required feature and values out of range are errors', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  const src = `read_parquet(${sqlString(f.base)})`;
  const stats = await f.variant(`* REPLACE (CASE WHEN delay % 13 = 0 THEN NULL ELSE delay END AS delay)`);
  const missing = await f.count(`SELECT count(*) AS n FROM ${src} WHERE delay % 13 = 0`);
  const schema: Schema = { ...f.schema, features: f.schema.features.map((x) => (x.name === 'distance' ? { ...x, range: { min: 0, max: 1000 } } : x)) };
  const report = findAnomalies(stats, schema, { split: 'eval' });
  assert.equal(report.errorCount, 2);
  assert.match(only(report.anomalies, 'MISSING_VALUES').long, new RegExp(`"delay" is required but ${missing} of \\d+ rows`));
  assert.match(only(report.anomalies, 'OUT_OF_RANGE').long, /"distance" ranges from \d+ to \d+, outside the schema's range 0\.\.1000/);

  const optional: Schema = { ...f.schema, features: f.schema.features.map((x) => ({ ...x, required: false })) };
  assert.equal(findAnomalies(stats, optional).anomalies.length, 0);
});

test('NaN and infinite distances are an error unless the schema allows them, and are not missing values', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  // A pipeline that computes distance as a float: the schema comes from clean floats.
  const floats = await f.variant('* REPLACE (distance::DOUBLE AS distance)');
  const schema = inferSchema(floats);
  assert.equal(schema.features.find((x) => x.name === 'distance')!.allowNonFinite, false);
  const src = `read_parquet(${sqlString(f.base)})`;
  const broken = await f.variant(
    `* REPLACE (CASE WHEN distance % 11 = 0 THEN 'NaN'::DOUBLE WHEN distance % 17 = 0 THEN 'inf'::DOUBLE WHEN distance % 19 = 0 THEN '-inf'::DOUBLE ELSE distance::DOUBLE END AS distance)`,
  );
  const nan = await f.count(`SELECT count(*) AS n FROM ${src} WHERE distance % 11 = 0`);
  const report = findAnomalies(broken, schema);
  assert.deepEqual(report.anomalies.map((a) => a.type), ['NAN_OR_INF'], 'NaN is reported once, not also as a missing value');
  assert.match(report.anomalies[0]!.long, new RegExp(`"distance" has ${nan} NaN, \\d+ \\+Infinity and \\d+ -Infinity values`));
  const allowed: Schema = { ...schema, features: schema.features.map((x) => (x.name === 'distance' ? { ...x, allowNonFinite: true } : x)) };
  assert.equal(findAnomalies(broken, allowed).anomalies.length, 0);
});

test("too few or too many rows are out of the schema's row-count bounds", async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  const stats = await computeStatistics(f.base);
  const bounded: Schema = { ...f.schema, rowCount: { min: Math.floor(stats.rowCount / 2), max: stats.rowCount * 2 } };
  assert.equal(findAnomalies(stats, bounded).anomalies.length, 0);
  const few = await f.variant('*', undefined, 'LIMIT 100');
  const report = findAnomalies(few, bounded);
  assert.equal(report.errorCount, 1);
  const anomaly = only(report.anomalies, 'ROW_COUNT');
  assert.equal(anomaly.feature, DATASET);
  assert.match(anomaly.long, new RegExp(`the data has 100 rows, outside the schema's bounds ${bounded.rowCount!.min}\\.\\.${bounded.rowCount!.max}`));
  const many = await f.variant('*', undefined, `UNION ALL SELECT * FROM read_parquet(${sqlString(f.base)}) UNION ALL SELECT * FROM read_parquet(${sqlString(f.base)})`);
  assert.equal(only(findAnomalies(many, bounded).anomalies, 'ROW_COUNT').severity, 'ERROR');
  // The inferred bound: at least one row.
  assert.equal(only(findAnomalies(await f.variant('*', undefined, 'LIMIT 0'), f.schema).anomalies, 'ROW_COUNT').short, 'row count out of bounds');
});

test('an optional feature present in fewer rows than minFraction is an error', async (t) => {
  const f = await fixture({ after: t.after.bind(t) });
  const src = `read_parquet(${sqlString(f.base)})`;
  // About one delay in four nulled out, as a broken upstream join would.
  const gappy = await f.variant(`* REPLACE (CASE WHEN delay % 4 = 0 THEN NULL ELSE delay END AS delay)`);
  const nulls = await f.count(`SELECT count(*) AS n FROM ${src} WHERE delay % 4 = 0`);
  const rows = await f.count(`SELECT count(*) AS n FROM ${src}`);
  const withMin = (minFraction: number): Schema => ({ ...f.schema, features: f.schema.features.map((x) => (x.name === 'delay' ? { ...x, required: false, minFraction } : x)) });
  const anomaly = only(findAnomalies(gappy, withMin(0.9)).anomalies, 'MISSING_VALUES');
  assert.equal(anomaly.short, 'presence below minimum');
  assert.match(anomaly.long, new RegExp(`"delay" has a value in ${(((rows - nulls) / rows) * 100).toFixed(2)}% of ${rows} rows, below the schema's minFraction 90\\.00%`));
  assert.equal(findAnomalies(gappy, withMin(0.5)).anomalies.length, 0);
  // Inferred from the gappy data: not required, minFraction just below what was seen.
  const inferred = inferSchema(gappy).features.find((x) => x.name === 'delay')!;
  assert.equal(inferred.required, false);
  assert.equal(inferred.minFraction, Math.floor(((rows - nulls) / rows) * 10) / 10);
});
