import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { findAnomalies, formatComparisons } from './anomalies.js';
import { inferSchema, type Schema } from './schema.js';
import { computeStatistics } from './statistics.js';

async function slices(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await makeTempDir(t.after);
  const jan = join(dir, 'jan.parquet');
  const feb = join(dir, 'feb.parquet');
  await writeFlightsSlice(jan, { months: [1], every: 100 });
  await writeFlightsSlice(feb, { months: [2], every: 100 });
  const edited = async (name: string, select: string): Promise<string> => {
    const path = join(dir, `${name}.parquet`);
    await withDuckDB((db) => db.run(`COPY (SELECT ${select} FROM read_parquet(${sqlString(jan)})) TO ${sqlString(path)} (FORMAT PARQUET)`));
    return path;
  };
  return { jan, feb, edited };
}

test('February against January (span N against N-1): measured, no drift at the inferred thresholds', async (t) => {
  const { jan, feb } = await slices({ after: t.after.bind(t) });
  const previous = await computeStatistics(jan);
  const schema = inferSchema(previous, { label: 'delay' });
  const report = findAnomalies(await computeStatistics(feb), schema, { previous });
  assert.equal(report.errorCount, 0);
  assert.deepEqual(
    report.drift!.map((c) => [c.feature, c.measure, c.threshold, c.exceeded]),
    [
      ['delay', 'jensen_shannon', 0.1, false],
      ['distance', 'jensen_shannon', 0.1, false],
      ['origin', 'linf', 0.1, false],
      ['destination', 'linf', 0.1, false],
    ],
  );
  assert.ok(report.drift!.every((c) => c.value > 0), 'real months differ a little');
  assert.equal(report.skew, undefined);
});

test('a shifted span drifts: later delays by Jensen-Shannon, flights moved between hubs by L-infinity', async (t) => {
  const { jan, edited } = await slices({ after: t.after.bind(t) });
  const previous = await computeStatistics(jan);
  const schema = inferSchema(previous);
  // Every flight an hour later, and ORD and DFW flights rerouted through ATL.
  const shifted = await computeStatistics(await edited('shifted', `* REPLACE (delay + 60 AS delay, CASE WHEN origin IN ('ORD', 'DFW') THEN 'ATL' ELSE origin END AS origin)`));
  const report = findAnomalies(shifted, schema, { previous });
  assert.deepEqual(
    report.anomalies.map((a) => [a.type, a.feature, a.severity]),
    [
      ['DRIFT', 'delay', 'ERROR'],
      ['DRIFT', 'origin', 'ERROR'],
    ],
  );
  const origin = report.anomalies[1]!;
  assert.equal(origin.comparison!.measure, 'linf');
  // L-infinity is the largest change in one airport's share: ATL gained ORD's and DFW's flights.
  const share = (stats: typeof previous, airport: string) => {
    const s = stats.features.find((f) => f.name === 'origin')!.string!;
    return (s.rankHistogram.find((v) => v.value === airport)?.count ?? 0) / stats.rowCount;
  };
  assert.ok(Math.abs(origin.comparison!.value - (share(shifted, 'ATL') - share(previous, 'ATL'))) < 1e-12);
  assert.match(origin.long, /"origin" differs from the previous span: linf 0\.\d{4} is above the threshold 0\.1/);
  assert.match(formatComparisons(report.drift!), /drift delay +jensen_shannon +0\.\d{4} +threshold 0\.1 +EXCEEDED/);

  // Per feature the user picks the measure: Evidently's KS test on distance sees no drift.
  const ks: Schema = { ...schema, features: schema.features.map((f) => (f.name === 'distance' ? { ...f, drift: { measure: 'ks' } } : f)) };
  const distance = findAnomalies(shifted, ks, { previous }).drift!.find((c) => c.feature === 'distance')!;
  assert.deepEqual([distance.measure, distance.value, distance.threshold, distance.exceeded], ['ks', 1, 0.05, false]);
});

test('serving data in kilometres is skew by Wasserstein; the label, absent in SERVING, is not expected there', async (t) => {
  const { jan, edited } = await slices({ after: t.after.bind(t) });
  const training = await computeStatistics(jan);
  const inferred = inferSchema(training, { label: 'delay' });
  assert.deepEqual(inferred.features.find((f) => f.name === 'delay')!.notInEnvironment, ['SERVING']);
  const schema: Schema = { ...inferred, features: inferred.features.map((f) => (f.name === 'distance' ? { ...f, skew: { measure: 'wasserstein', threshold: 0.1 } } : f)) };
  // The serving client sends kilometres and, of course, no label.
  const serving = await computeStatistics(await edited('serving', `* EXCLUDE (delay) REPLACE (round(distance * 1.609)::BIGINT AS distance)`));

  const asServing = findAnomalies(serving, schema, { environment: 'SERVING' });
  assert.equal(asServing.anomalies.length, 0, 'no missing label in SERVING');
  assert.equal(asServing.environment, 'SERVING');
  const asTraining = findAnomalies(serving, schema, { environment: 'TRAINING' });
  assert.deepEqual(asTraining.anomalies.map((a) => [a.type, a.feature]), [['MISSING_COLUMN', 'delay']]);

  const report = findAnomalies(training, schema, { serving, environment: 'TRAINING' });
  assert.deepEqual(report.anomalies.map((a) => [a.type, a.feature]), [['SKEW', 'distance']]);
  const skew = report.anomalies[0]!.comparison!;
  assert.equal(skew.measure, 'wasserstein');
  // Every distance grew by 61%: the mean moved by 0.609·mean, in units of the training std.
  const d = training.features.find((f) => f.name === 'distance')!.numeric!;
  assert.ok(Math.abs(skew.value - (0.609 * d.mean) / d.std) < 0.02 * skew.value, `${skew.value}`);
  assert.deepEqual(report.skew!.map((c) => c.feature), ['distance', 'origin', 'destination'], 'the label has no skew');

  assert.throws(
    () => findAnomalies(serving, schema, { environment: 'STAGING' }),
    (e: unknown) => e instanceof LoomError && e.code === 'INVALID_ARGUMENT' && e.field === 'environment',
  );
});
