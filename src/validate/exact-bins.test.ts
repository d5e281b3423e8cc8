import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSource, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { runPythonJson, testPython } from '../../test/support/python.js';
import { chiSquaredTest, jensenShannonDivergence, linfDistance, populationStabilityIndex } from './distance.js';
import { compareFeature, compareStatistics, numericBinEdges } from './drift.js';
import { exactBinCounts } from './exact-bins.js';
import type { Schema } from './schema.js';
import { computeStatistics, type DatasetStatistics } from './statistics.js';

const SCRIPT = join(import.meta.dirname, '../../test/python/drift_reference.py');

type Numeric = { bins: number; psi: number; jensen_shannon: number; linf: number; edges: number[]; chi_squared_statistic: number | null; chi_squared_p: number };

function close(actual: number, expected: number, tolerance: number, what: string): void {
  const error = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(error <= tolerance, `${what}: ${actual} vs SciPy ${expected} (relative error ${error.toExponential(2)})`);
}

const feature = (stats: DatasetStatistics, name: string) => stats.features.find((f) => f.name === name)!;

test('numeric drift from exact bin counts equals NumPy/SciPy on flights, January against March; the sketch only bounds χ²', async (t) => {
  const python = testPython();
  if (!python) return t.skip('LOOM_TEST_PYTHON is not set');
  const dir = await makeTempDir(t.after.bind(t));
  const jan = join(dir, 'jan.csv');
  const mar = join(dir, 'mar.csv');
  await writeFlightsSlice(jan, { months: [1], every: 20 });
  await writeFlightsSlice(mar, { months: [3], every: 20 });
  const reference = await computeStatistics(jan);
  const current = await computeStatistics(mar);
  const expected = runPythonJson<{ numeric: Record<string, Numeric> }>(python, SCRIPT, [jan, mar]);

  for (const name of ['delay', 'distance']) {
    const want = expected.numeric[name]!;
    const edges = numericBinEdges(feature(current, name), feature(reference, name))!;
    assert.deepEqual(edges, want.edges, `${name}: the same bin edges as numpy.histogram_bin_edges(…, 'sturges'), bit for bit`);
    const columns = [{ name, type: feature(current, name).type, edges }];
    const [ref, cur] = await withDuckDB(async (db) => [
      (await exactBinCounts(db, `SELECT * FROM ${readSource(jan)}`, columns)).get(name)!,
      (await exactBinCounts(db, `SELECT * FROM ${readSource(mar)}`, columns)).get(name)!,
    ]);
    const chi = chiSquaredTest(ref, cur);
    // SciPy's inf (March has delays in a bin January never had) is null in JSON.
    const wantChi = want.chi_squared_statistic ?? Number.POSITIVE_INFINITY;
    if (wantChi === Number.POSITIVE_INFINITY) assert.equal(chi.statistic, wantChi, `${name} χ² infinite as SciPy's`);
    else close(chi.statistic, wantChi, 1e-9, `${name} χ²`);
    if (want.chi_squared_p > 1e-12) close(chi.pValue, want.chi_squared_p, 1e-6, `${name} χ² p-value`);
    else assert.ok(chi.pValue < 1e-12, `${name} χ² p ${chi.pValue}`);
    close(linfDistance(ref, cur), want.linf, 1e-9, `${name} L∞`);
    close(populationStabilityIndex(ref, cur), want.psi, 1e-9, `${name} PSI`);
    close(jensenShannonDivergence(ref, cur), want.jensen_shannon, 1e-9, `${name} JS`);

    // Through compareFeature with the exact counts: the same χ².
    const exact = compareFeature(feature(current, name), feature(reference, name), { measure: 'chi_squared' }, [ref, cur])!;
    if (wantChi === Number.POSITIVE_INFINITY) assert.deepEqual([exact.statistic, exact.value, exact.exceeded], [undefined, 0, true], `${name}: infinite χ² reported as p = 0 without a statistic`);
    else close(exact.statistic!, wantChi, 1e-9, `${name} χ² via compareFeature`);
    // From the sketch alone: never a point value that could be far off; bounds that hold the exact χ².
    const sketched = compareFeature(feature(current, name), feature(reference, name), { measure: 'chi_squared' })!;
    if (sketched.bounds) {
      const [low, high] = sketched.bounds.statistic;
      assert.ok(low <= wantChi && wantChi <= high, `${name}: exact χ² ${wantChi} within the sketch's bounds [${low}, ${high}]`);
      assert.equal(sketched.statistic, undefined, `${name}: no point statistic from inexact counts`);
    } else if (wantChi === Number.POSITIVE_INFINITY) {
      assert.equal(sketched.value, 0, `${name}: the sketch decided every bin, so χ² is exact (infinite)`);
    } else {
      close(sketched.statistic!, wantChi, 1e-9, `${name}: the sketch decided every bin, so χ² is exact`);
    }
  }
  // Distances above 100 share sketch buckets: the sketch cannot give the exact χ².
  assert.ok(compareFeature(feature(current, 'distance'), feature(reference, 'distance'), { measure: 'chi_squared' })!.bounds);
});

test('a category the baseline never had: p = 0, no 1.797e308 statistic anywhere, and the reason given', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const jan = join(dir, 'jan.parquet');
  const feb = join(dir, 'feb.parquet');
  await writeFlightsSlice(jan, { months: [1], every: 2000 });
  await writeFlightsSlice(feb, { months: [2, 3], every: 200 });
  const reference = await computeStatistics(jan);
  const current = await computeStatistics(feb);
  const schema = { version: 1, features: [{ name: 'origin', type: 'STRING', drift: { measure: 'chi_squared' } }] } as unknown as Schema;
  const [origin] = compareStatistics(current, reference, schema, 'drift');
  assert.ok(origin, 'origin compared');
  assert.equal(origin.value, 0);
  assert.equal(origin.exceeded, true);
  assert.equal(origin.statistic, undefined);
  assert.match(origin.note!, /never had/);
  assert.doesNotMatch(JSON.stringify(origin), /e\+308|Infinity/);
  assert.equal(chiSquaredTest([5, 0], [5, 1]).statistic, Number.POSITIVE_INFINITY, 'as SciPy: inf, not the largest double');
});

test('every value is counted in the bin its edges give: values on, just below and just above each edge, integers and floats, even and uneven edges', async () => {
  // The next double below / above x (no subnormals or zero here).
  const view = new DataView(new ArrayBuffer(8));
  const nextTo = (x: number, up: boolean) => {
    view.setFloat64(0, x);
    view.setBigInt64(0, view.getBigInt64(0) + ((x > 0) === up ? 1n : -1n));
    return view.getFloat64(0);
  };
  const binOf = (edges: number[], v: number) => edges.slice(1, -1).filter((e) => e <= v).length;
  const cases: { name: string; type: 'INT' | 'FLOAT'; edges: number[]; values: number[] }[] = [];
  // numericBinEdges' evenly spaced edges with steps that do not add up exactly (0.1, 1/3 ...).
  const even = (min: number, max: number, bins: number) => Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : i * ((max - min) / bins) + min));
  for (const [min, max, bins] of [[-0.7, 2.3, 21], [1e-3, 1 / 3, 7], [-1e12, 1e12 + 0.5, 13]] as const) {
    const edges = even(min, max, bins);
    const values = edges.flatMap((e) => [e, nextTo(e, false), nextTo(e, true)]).concat(min - 1, max + 1, (min + max) / 2);
    cases.push({ name: `f${cases.length}`, type: 'FLOAT', edges, values });
  }
  // Uneven edges: counted edge by edge.
  cases.push({ name: 'uneven', type: 'FLOAT', edges: [0, 1, 10, 100, 1000], values: [-1, 0, 0.5, 1, 9.99, 10, 99, 100, 999, 1000, 5000] });
  // Integers of a small span (counted per value) and of a huge one (binned per row).
  for (const [min, max, bins] of [[-40, 1500, 22], [0, 4e15, 11]] as const) {
    const edges = even(min, max, bins);
    const values = edges.flatMap((e) => [Math.floor(e), Math.ceil(e), Math.floor(e) - 1, Math.ceil(e) + 1]);
    cases.push({ name: `i${cases.length}`, type: 'INT', edges, values });
  }
  const longest = Math.max(...cases.map((c) => c.values.length));
  const column = (c: (typeof cases)[number]) => {
    const sqlType = c.type === 'INT' ? 'BIGINT' : 'DOUBLE';
    // Each value twice, and NULLs (missing) where a column has fewer values than the longest.
    const values = Array.from({ length: longest * 2 }, (_, i) => (i % longest < c.values.length ? `${String(c.values[i % longest])}::${sqlType}` : `NULL::${sqlType}`));
    return `[${values.join(', ')}]`;
  };
  const relation = `SELECT ${cases.map((c) => `unnest(${column(c)}) AS ${c.name}`).join(', ')}`;
  const counts = await withDuckDB((db) => exactBinCounts(db, relation, cases));
  for (const c of cases) {
    const expected = new Array<number>(c.edges.length - 1).fill(0);
    for (const v of c.values) expected[binOf(c.edges, v)]! += 2;
    assert.deepEqual(counts.get(c.name), expected, `${c.name}: every value in the bin counting its edges gives`);
  }
});
