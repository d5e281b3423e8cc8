import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { mergeStatistics } from './merge.js';
import { computeStatistics, type DatasetStatistics } from './statistics.js';

/** January and February flights with gaps, NaN, infinities and booleans, split in two shards by row. */
async function shards(dir: string): Promise<{ whole: string; a: string; b: string }> {
  const base = join(dir, 'janfeb.parquet');
  await writeFlightsSlice(base, { months: [1, 2], every: 50 });
  const whole = join(dir, 'whole.parquet');
  await withDuckDB(async (db) => {
    await db.run(`COPY (
      SELECT *, row_number() OVER () AS rn,
        CASE WHEN delay % 7 = 0 THEN NULL ELSE delay END AS delay_gappy,
        delay > 15 AS delayed,
        CASE WHEN distance % 11 = 0 THEN 'NaN'::DOUBLE WHEN distance % 17 = 0 THEN 'inf'::DOUBLE ELSE distance / 3.0 END AS third,
        CASE WHEN origin = 'ATL' THEN NULL ELSE origin END AS origin_gappy
      FROM read_parquet(${sqlString(base)})) TO ${sqlString(whole)} (FORMAT PARQUET)`);
    // Shards by month: their value ranges and airports differ, so the merge has real work.
    for (const [name, where] of [['a', 'month(date) = 1'], ['b', 'month(date) = 2']]) {
      await db.run(`COPY (SELECT * FROM read_parquet(${sqlString(whole)}) WHERE ${where} ORDER BY rn) TO ${sqlString(join(dir, `${name}.parquet`))} (FORMAT PARQUET)`);
    }
  });
  return { whole, a: join(dir, 'a.parquet'), b: join(dir, 'b.parquet') };
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

/** Equal except float rounding in mean, std and average length. */
function assertSameStatistics(merged: DatasetStatistics, whole: DatasetStatistics): void {
  assert.equal(merged.rowCount, whole.rowCount);
  assert.equal(merged.features.length, whole.features.length);
  whole.features.forEach((w, i) => {
    const m = merged.features[i]!;
    const { numeric: mn, string: ms, ...mRest } = m;
    const { numeric: wn, string: ws, ...wRest } = w;
    assert.deepEqual(mRest, wRest, `${w.name}: counts, missing, timestamps`);
    if (wn) {
      assert.ok(mn);
      const { mean, std, ...exact } = wn;
      close(mn.mean, mean, `${w.name} mean`);
      close(mn.std, std, `${w.name} std`);
      // min, max, zeros, NaN/inf, the sketch and everything derived from it: equal.
      assert.deepEqual({ ...mn, mean, std }, { ...exact, mean, std }, `${w.name} numeric`);
    }
    if (ws) {
      assert.ok(ms);
      close(ms.avgLength, ws.avgLength, `${w.name} avgLength`);
      assert.deepEqual({ ...ms, avgLength: 0 }, { ...ws, avgLength: 0 }, `${w.name} string`);
    }
  });
}

test('statistics of two shards merge into the statistics of the whole', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { whole, a, b } = await shards(dir);
  const [sa, sb, sw] = await Promise.all([computeStatistics(a), computeStatistics(b), computeStatistics(whole)]);
  assert.ok(sa.rowCount > 0 && sb.rowCount > 0);
  assertSameStatistics(mergeStatistics(sa, sb), sw);
  assertSameStatistics(mergeStatistics(sb, sa), sw);
  const third = sw.features.find((f) => f.name === 'third')!.numeric!;
  assert.ok(third.nan > 0 && third.posInf > 0, 'the merged shards carry NaN and infinity counts');
});

test('merging truncated value lists marks them incomplete and unique as a lower bound', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { whole, a, b } = await shards(dir);
  const options = { topK: 3, histogramSize: 10 };
  const merged = mergeStatistics(await computeStatistics(a, options), await computeStatistics(b, options), options);
  const exact = await computeStatistics(whole);
  const origin = merged.features.find((f) => f.name === 'origin')!.string!;
  const truth = exact.features.find((f) => f.name === 'origin')!.string!;
  assert.equal(origin.complete, false);
  assert.equal(origin.uniqueExact, false);
  assert.ok(origin.unique <= truth.unique && origin.unique >= 10);
  assert.equal(origin.rankHistogram.length, 10);
  assert.equal(origin.topValues.length, 3);
  // The busiest airports are in both shards' lists, so their counts are still exact.
  assert.deepEqual(origin.topValues, truth.topValues.slice(0, 3));
});

test('statistics of different columns do not merge', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const { a } = await shards(dir);
  const sa = await computeStatistics(a);
  const fewer = { ...sa, features: sa.features.slice(1) };
  assert.throws(() => mergeStatistics(sa, fewer), (e: unknown) => e instanceof LoomError && e.code === 'INVALID_ARGUMENT');
});
