import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { runPythonJson, testPython } from '../../test/support/python.js';
import { chiSquaredTest, gammaQ, jensenShannonDivergence, kolmogorovQ, linfDistance, populationStabilityIndex } from './distance.js';
import { compareFeature } from './drift.js';
import { DRIFT_MEASURES, type DriftMeasure } from './schema.js';
import { computeStatistics, type DatasetStatistics } from './statistics.js';

const SCRIPT = join(import.meta.dirname, '../../test/python/drift_reference.py');

type Reference = {
  categorical: Record<string, Record<'linf' | 'jensen_shannon' | 'psi' | 'chi_squared', number>>;
  numeric: Record<string, { bins: number; psi: number; jensen_shannon: number; linf: number; ks_statistic: number; ks_p: number; wasserstein: number }>;
  special: { chi2_sf: [number, number, number][]; kolmogorov_sf: [number, number][] };
};

function relativelyClose(actual: number, expected: number, tolerance: number, what: string): void {
  const error = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(error <= tolerance || Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs reference ${expected} (relative error ${error.toExponential(2)})`);
}

function measure(current: DatasetStatistics, reference: DatasetStatistics, feature: string, m: DriftMeasure) {
  const a = current.features.find((f) => f.name === feature)!;
  const b = reference.features.find((f) => f.name === feature)!;
  return compareFeature(a, b, { measure: m })!;
}

test('measures on known distributions', () => {
  assert.equal(linfDistance([1, 0], [0, 1]), 1);
  assert.equal(linfDistance([2, 2], [1, 1]), 0);
  assert.ok(Math.abs(jensenShannonDivergence([1, 0], [0, 1]) - 1) < 1e-12, 'disjoint distributions: JS divergence 1 (base 2)');
  assert.equal(jensenShannonDivergence([3, 1], [6, 2]), 0);
  // PSI of 50/50 against 25/75: 0.25·ln 2 + 0.25·ln(3/2)... by definition.
  const expected = (0.5 - 0.25) * Math.log(0.5 / 0.25) + (0.5 - 0.75) * Math.log(0.5 / 0.75);
  assert.ok(Math.abs(populationStabilityIndex([1, 1], [1, 3]) - expected) < 1e-12);
  assert.equal(chiSquaredTest([5, 5], [5, 5]).pValue, 1);
  assert.equal(chiSquaredTest([5, 0], [5, 1]).pValue, 0, 'a category the reference never had');
});

test('drift measures from statistics match numpy/scipy on the raw flights rows', async (t) => {
  const python = testPython();
  if (!python) return t.skip('LOOM_TEST_PYTHON is not set');
  const dir = await makeTempDir(t.after.bind(t));
  const jan = join(dir, 'jan.csv');
  await writeFlightsSlice(jan, { months: [1], every: 20 });
  // The current data: March, with delays 10 minutes longer so that every measure has something to find.
  const mar = join(dir, 'mar.csv');
  const marShifted = join(dir, 'mar-shifted.csv');
  await writeFlightsSlice(mar, { months: [3], every: 20 });
  await withDuckDB((db) => db.run(`COPY (SELECT * REPLACE (delay + 10 AS delay) FROM read_csv(${sqlString(mar)})) TO ${sqlString(marShifted)} (FORMAT CSV, HEADER)`));
  const reference = await computeStatistics(jan);
  const current = await computeStatistics(marShifted);
  const expected = runPythonJson<Reference>(python, SCRIPT, [jan, marShifted]);

  // Categories: exact counts, so the measures equal the reference up to float rounding.
  for (const [feature, values] of Object.entries(expected.categorical)) {
    for (const m of ['linf', 'jensen_shannon', 'psi', 'chi_squared'] as const) {
      relativelyClose(measure(current, reference, feature, m).value, values[m], 1e-6, `${feature} ${m}`);
    }
  }
  // Numbers: from the quantile sketches, with numpy's Sturges bins. Delays below 100
  // minutes get a sketch bucket per integer, so their bin counts and KS's D are exact;
  // distances share buckets (0.5% wide), so an edge cutting one shares its count out by
  // interpolation. Measured errors: delay below 0.1%, distance below 5% (of values near 0.001).
  const tolerances: Record<string, Record<DriftMeasure, number>> = {
    delay: { linf: 1e-9, jensen_shannon: 0.005, psi: 0.005, ks: 1e-9, chi_squared: 1, wasserstein: 0.005 },
    distance: { linf: 0.06, jensen_shannon: 0.06, psi: 0.06, ks: 0.01, chi_squared: 1, wasserstein: 0.01 },
  };
  for (const [feature, values] of Object.entries(expected.numeric)) {
    const tolerance = tolerances[feature]!;
    for (const m of ['linf', 'jensen_shannon', 'psi', 'wasserstein'] as const) {
      relativelyClose(measure(current, reference, feature, m).value, values[m], tolerance[m], `${feature} ${m}`);
    }
    const ks = measure(current, reference, feature, 'ks');
    relativelyClose(ks.statistic!, values.ks_statistic, tolerance.ks, `${feature} KS statistic`);
    if (values.ks_p > 1e-6) relativelyClose(ks.value, values.ks_p, 0.05, `${feature} KS p-value`);
    else assert.ok(ks.value < 1e-4, `${feature} KS p-value ${ks.value} vs reference ${values.ks_p}`);
  }
  assert.equal(measure(current, reference, 'delay', 'wasserstein').exceeded, true, 'a 10 minute shift is 0.35 std: drift by Wasserstein');
  assert.equal(measure(current, reference, 'distance', 'wasserstein').exceeded, false, 'distances did not move');
  assert.ok(measure(current, reference, 'delay', 'ks').exceeded, 'a 10 minute shift in delays is drift by KS');

  for (const [x, df, p] of expected.special.chi2_sf) relativelyClose(gammaQ(df / 2, x / 2), p, 1e-9, `chi2.sf(${x}, ${df})`);
  for (const [x, p] of expected.special.kolmogorov_sf) relativelyClose(kolmogorovQ(x), p, 1e-9, `kstwobign.sf(${x})`);
  assert.deepEqual([...DRIFT_MEASURES].sort(), ['chi_squared', 'jensen_shannon', 'ks', 'linf', 'psi', 'wasserstein']);
});
