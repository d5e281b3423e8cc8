import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { groupNames, groupSlices, sliceLabels } from './slices.js';

test('time buckets of a TIMESTAMP agree with DuckDB hour(), dayofweek(), month() and the date', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const file = join(dir, 'flights.parquet');
  await writeFlightsSlice(file, { months: [1, 2], every: 5000 });
  const { values, expected } = await withDuckDB(async (db) => {
    const reader = await db.runAndReadAll(`SELECT date, hour(date) AS h, dayofweek(date) AS d, month(date) AS m, strftime(date, '%Y-%m-%d') AS day FROM read_parquet(${sqlString(file)})`);
    const columns = reader.getColumns();
    return { values: columns[0]!, expected: reader.getRowObjects() };
  });
  assert.ok(values.length > 50);
  assert.deepEqual(sliceLabels({ feature: 'date', time: 'hour_of_day' }, values), expected.map((r) => String(r.h)));
  assert.deepEqual(sliceLabels({ feature: 'date', time: 'day_of_week' }, values), expected.map((r) => String(r.d)));
  assert.deepEqual(sliceLabels({ feature: 'date', time: 'month' }, values), expected.map((r) => String(r.m)));
  assert.deepEqual(sliceLabels({ feature: 'date', time: 'date' }, values), expected.map((r) => String(r.day)));
});

test('values, top-k, boundaries and widths label rows; bigints and nulls are handled', () => {
  assert.deepEqual(sliceLabels({ feature: 'x', boundaries: [6, 12, 18] }, [0, 6, 11.5, 12, 23, null]), ['< 6', '[6, 12)', '[6, 12)', '[12, 18)', '>= 18', 'null']);
  assert.deepEqual(sliceLabels({ feature: 'x', width: 0.1 }, [0.05, 0.3, 0.99]), ['[0, 0.1)', '[0.3, 0.4)', '[0.9, 1)']);
  assert.deepEqual(sliceLabels({ feature: 'x' }, [1n, true, 'ATL', null]), ['1', 'true', 'ATL', 'null']);
  // Top 2 by frequency; the tie between B and C goes to the first name.
  assert.deepEqual(sliceLabels({ feature: 'x', top: 2 }, ['A', 'B', 'A', 'C', 'B', 'C', 'A']), ['A', 'B', 'A', null, 'B', null, 'A']);
});

test('crossed slices group rows by every combination present, in natural key order', () => {
  const slices = groupSlices(
    [{ feature: 'origin' }, { feature: 'hour', boundaries: [12] }],
    { origin: ['ATL', 'ORD', 'ATL', 'ATL'], hour: [9, 13, 14, 8] },
    4,
  );
  assert.deepEqual(
    slices.map((s) => [s.key, s.rows]),
    [
      ['origin:ATL, hour:< 12', [0, 3]],
      ['origin:ATL, hour:>= 12', [2]],
      ['origin:ORD, hour:>= 12', [1]],
    ],
  );
  assert.deepEqual(slices[0]!.values, { origin: 'ATL', hour: '< 12' });
  assert.deepEqual(groupNames(['g', 'r'], { g: ['f', 'm'], r: ['white', 'other'] }, 2), ['f, white', 'm, other']);
  const hours = groupSlices([{ feature: 'h' }], { h: [10, 2, 10] }, 3);
  assert.deepEqual(hours.map((s) => s.key), ['h:2', 'h:10']);
});
