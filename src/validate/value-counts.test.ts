import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { FLIGHTS_PARQUET } from '../../test/support/flights.js';
import { numericBinEdges } from './drift.js';
import { discreteValueCounts, exactBinCounts } from './exact-bins.js';
import { statisticsWithValueCounts } from './statistics.js';
import { momentsOfValueCounts } from './value-counts.js';

// Real flights rows (every 400th of February) with the awkward cases mixed in: missing
// values, empty strings, a constant column, an all-NULL column, booleans.
const ROWS = `SELECT CASE WHEN j % 7 = 0 THEN NULL ELSE delay END AS delay, distance, 3::BIGINT AS constant, NULL::BIGINT AS absent, delay > 15 AS late,
    CASE WHEN j % 5 = 0 THEN NULL WHEN j % 11 = 0 THEN '' ELSE origin END AS origin, NULL::VARCHAR AS nothing
  FROM (SELECT row_number() OVER () AS j, * FROM (SELECT row_number() OVER () AS i, * FROM read_parquet(${sqlString(FLIGHTS_PARQUET)}) WHERE month(date) = 2) WHERE i % 400 = 0)`;

test("statistics' value counts and string figures equal the rows' own, counted apart, on flights rows with NULLs, empty strings, a constant and an all-NULL column; none for no rows", async () => {
  await withDuckDB(async (db) => {
    const { statistics, valueCounts } = await statisticsWithValueCounts(db, ROWS);
    assert.ok(statistics.rowCount > 1000);
    assert.deepEqual([...valueCounts.keys()].sort(), ['absent', 'constant', 'delay', 'distance', 'late']);
    for (const name of valueCounts.keys()) {
      const rows = await queryRows(db, `SELECT ${name}::DOUBLE AS v, count(*)::DOUBLE AS n FROM (${ROWS}) WHERE ${name} IS NOT NULL GROUP BY 1`);
      const expected = new Map(rows.map((r) => [Number(r.v), Number(r.n)]));
      const { values, counts } = valueCounts.get(name)!;
      assert.deepEqual(new Map(values.map((v, i) => [v, counts[i]!])), expected, name);
      assert.equal(counts.reduce((a, n) => a + n, 0), statistics.features.find((f) => f.name === name)!.count, `${name}: every present value`);
    }
    // Strings' count and mean length come from their groups: the same as counting the rows.
    for (const name of ['origin', 'nothing']) {
      const [row] = await queryRows(db, `SELECT count(${name})::DOUBLE AS n, coalesce(avg(length(${name})), 0) AS len FROM (${ROWS})`);
      const string = statistics.features.find((f) => f.name === name)!;
      assert.equal(string.count, Number(row!.n), `${name} count`);
      assert.equal(string.missing, statistics.rowCount - Number(row!.n), `${name} missing`);
      assert.ok(Math.abs(string.string!.avgLength - Number(row!.len)) <= 1e-15 * Number(row!.len), `${name} avgLength ${string.string!.avgLength} vs ${row!.len}`);
    }
    const origin = statistics.features.find((f) => f.name === 'origin')!;
    assert.ok(origin.string!.rankHistogram.some((v) => v.value === '') && origin.missing > 0 && origin.count > 0, 'origin has empty strings, missing and present values');
    const empty = await statisticsWithValueCounts(db, `SELECT * FROM (${ROWS}) WHERE false`);
    assert.equal(empty.statistics.rowCount, 0);
    assert.deepEqual(empty.statistics.features.find((f) => f.name === 'origin')!.string, { unique: 0, uniqueExact: true, topValues: [], rankHistogram: [], complete: true, avgLength: 0 });
    assert.ok([...empty.valueCounts.values()].every((c) => c.values.length === 0));
  });
});

test('bins from value counts at hand (the statistics’ or discreteValueCounts’) equal those counted in the rows, on the edges drift uses', async () => {
  await withDuckDB(async (db) => {
    const march = ROWS.replace('month(date) = 2', 'month(date) = 3');
    const [feb, mar] = [await statisticsWithValueCounts(db, ROWS), await statisticsWithValueCounts(db, march)];
    const columns = ['delay', 'distance', 'late', 'constant'].map((name) => {
      const [a, b] = [mar.statistics, feb.statistics].map((s) => s.features.find((f) => f.name === name)!);
      return { name, type: a!.type, edges: numericBinEdges(a!, b!) ?? [0, 1, 2] };
    });
    assert.ok(columns.filter((c) => c.edges.length > 3).length >= 2, 'delay and distance binned on many edges');
    const scanned = await exactBinCounts(db, march, columns);
    assert.deepEqual(await exactBinCounts(db, march, columns, mar.valueCounts), scanned, "from the window's statistics");
    const kept = await discreteValueCounts(db, march, mar.statistics, columns.map((c) => c.name));
    assert.deepEqual(await exactBinCounts(db, march, columns, kept), scanned, 'from counts kept for the rows');
    assert.ok([...scanned.values()].every((bins) => bins.some((n) => n > 0)));
  });
});

test("integers' count, mean, std and zeros equal DuckDB's aggregates of the rows: read off the value counts for a small span, aggregated for a wide one", async () => {
  await withDuckDB(async (db) => {
    const rows = `SELECT *, CASE WHEN distance % 3 = 0 THEN 0 ELSE distance * 1000 + coalesce(delay, 0) END AS wide FROM (${ROWS})`;
    const { statistics, valueCounts } = await statisticsWithValueCounts(db, rows);
    assert.ok(!valueCounts.has('wide') && valueCounts.has('delay'), 'wide is aggregated from its rows, delay from its counts');
    for (const name of ['delay', 'distance', 'constant', 'absent', 'late', 'wide']) {
      const v = `${name}::INTEGER::DOUBLE`;
      const [row] = await queryRows(db, `SELECT count(${v})::DOUBLE AS n, coalesce(avg(${v}), 0) AS mean, coalesce(stddev_pop(${v}), 0) AS std, count_if(${v} = 0)::DOUBLE AS zeros FROM (${rows})`);
      const numeric = statistics.features.find((f) => f.name === name)!.numeric!;
      const count = statistics.features.find((f) => f.name === name)!.count;
      assert.deepEqual([count, numeric.mean, numeric.zeros], [Number(row!.n), Number(row!.mean), Number(row!.zeros)], `${name}: count, mean (to the bit) and zeros`);
      assert.ok(Math.abs(numeric.std - Number(row!.std)) <= 1e-13 * Number(row!.std), `${name} std ${numeric.std} vs ${row!.std}`);
    }
    assert.ok(statistics.features.find((f) => f.name === 'wide')!.numeric!.zeros > 0 && statistics.features.find((f) => f.name === 'delay')!.numeric!.zeros > 0);
    assert.deepEqual(momentsOfValueCounts({ values: [], counts: [] }), { count: 0, mean: 0, std: 0, zeros: 0 });
  });
});

test("FLOAT counts from the grouped keys: present values, zeros (±0), NaN and ±inf equal DuckDB's counts of the rows; the sketch is that of the finite values", async () => {
  await withDuckDB(async (db) => {
    const rows = `SELECT CASE WHEN distance % 13 = 0 THEN 'NaN'::DOUBLE WHEN distance % 17 = 0 THEN 'inf'::DOUBLE WHEN distance % 19 = 0 THEN '-inf'::DOUBLE
        WHEN distance % 23 = 0 THEN 0.0 WHEN distance % 29 = 0 THEN -0.0 WHEN distance % 31 = 0 THEN 1e-12 WHEN distance % 37 = 0 THEN NULL ELSE delay / 7.0 END::DOUBLE AS x FROM (${ROWS})`;
    const x = (await statisticsWithValueCounts(db, rows)).statistics.features[0]!;
    const finite = (await statisticsWithValueCounts(db, `SELECT CASE WHEN isfinite(x) THEN x END AS x FROM (${rows})`)).statistics.features[0]!;
    const [row] = await queryRows(
      db,
      `SELECT count_if(isfinite(x))::DOUBLE AS n, count_if(isfinite(x) AND x = 0)::DOUBLE AS zeros, count_if(isnan(x))::DOUBLE AS nan, count_if(x = 'inf'::DOUBLE)::DOUBLE AS pos, count_if(x = '-inf'::DOUBLE)::DOUBLE AS neg,
         count_if(isfinite(x) AND abs(x) <= 1e-9)::DOUBLE AS tiny FROM (${rows})`,
    );
    const n = x.numeric!;
    assert.deepEqual([x.count, n.zeros, n.nan, n.posInf, n.negInf, n.sketch.zeroCount], [row!.n, row!.zeros, row!.nan, row!.pos, row!.neg, row!.tiny].map(Number));
    assert.ok(n.nan > 0 && n.posInf > 0 && n.negInf > 0 && n.zeros > 0 && n.sketch.zeroCount > n.zeros, 'every special case occurs');
    // Mean and std are sums whose order may differ between the two runs: equal to rounding.
    for (const key of ['mean', 'std'] as const) assert.ok(Math.abs(n[key] - finite.numeric![key]) <= 1e-13 * Math.abs(n[key]), key);
    const same = { nan: 0, posInf: 0, negInf: 0, mean: 0, std: 0 };
    assert.deepEqual({ ...x, numeric: { ...n, ...same } }, { ...finite, numeric: { ...finite.numeric!, ...same } }, 'the same figures as its finite values alone');
  });
});
