import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.js';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { RECONSTRUCTION_FIT, decodeFit, encodeFit } from './fit-store-formats.js';
import { inferSchema } from '../validate/schema.js';
import { statisticsOfRelation } from '../validate/statistics.js';
import { complementBasis, dropReconstruction, loadReconstruction, reconstructionErrors, reconstructionModel, symmetricEigen } from './multivariate.js';

/** d orthonormal directions (eigenvectors of a random symmetric matrix), the first k as the components (d × k). */
function components(d: number, k: number, seed: number): number[][] {
  const random = mulberry32(seed);
  const a = Array.from({ length: d }, () => Array.from({ length: d }, () => random() - 0.5));
  const symmetric = a.map((row, i) => row.map((_, j) => a[i]![j]! + a[j]![i]!));
  const { vectors } = symmetricEigen(symmetric);
  return vectors.map((row) => row.slice(0, k));
}

test('the complement of the components is orthonormal and orthogonal to them', () => {
  for (const [d, k] of [[4, 3], [6, 4], [3, 1], [2, 1], [40, 25]] as const) {
    const w = components(d, k, d * 10 + k);
    const u = complementBasis(w);
    assert.equal(u.length, d - k);
    const columns = [...Array.from({ length: k }, (_, c) => w.map((row) => row[c]!)), ...u];
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        const dot = columns[a]!.reduce((s, x, i) => s + x * columns[b]![i]!, 0);
        assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-12, `${d}×${k}: column ${a}·${b} = ${dot}`);
      }
    }
  }
});

test("each row's error in SQL is its distance to its reconstruction, whether taken from the left-out directions or from the kept ones", async () => {
  const random = mulberry32(7);
  // 4 features with 3 components: the error from the one left-out direction; 5 with 2: from the norm and the kept ones.
  for (const [d, k] of [[4, 3], [5, 2]] as const) {
    const w = components(d, k, d);
    const columns = Array.from({ length: d }, (_, i) => ({ name: `x${i}`, encoded: `__r.x${i}`, mean: i - 1, std: 0.5 + i }));
    const rows = Array.from({ length: 200 }, () => columns.map((c) => (random() < 0.05 ? null : c.mean + (random() - 0.5) * 6 * c.std)));
    const values = rows.map((r, n) => `(${n}, ${r.map((x) => (x === null ? 'NULL::DOUBLE' : `${x}::DOUBLE`)).join(', ')})`).join(', ');
    const relation = `SELECT * FROM (VALUES ${values}) AS t(n, ${columns.map((c) => c.name).join(', ')})`;
    const sql = reconstructionErrors({ columns, components: w }, `${relation} ORDER BY n`);
    const errors = await withDuckDB((db) => queryRows(db, sql));
    assert.equal(errors.length, rows.length);
    rows.forEach((row, n) => {
      // z with the mean imputed (0), then z − W Wᵀ z.
      const z = row.map((x, i) => (x === null ? 0 : (x - columns[i]!.mean) / columns[i]!.std));
      const coords = Array.from({ length: k }, (_, c) => z.reduce((s, zi, i) => s + zi * w[i]![c]!, 0));
      const distance = Math.sqrt(z.reduce((s, zi, i) => s + (zi - coords.reduce((t, a, c) => t + a * w[i]![c]!, 0)) ** 2, 0));
      assert.ok(Math.abs(Number(errors[n]!.e) - distance) < 1e-9, `${d}×${k}, row ${n}: ${errors[n]!.e} vs ${distance}`);
    });
    assert.ok(errors.some((e) => Number(e.e) > 0.1), 'the rows are not all on the components');
  }
});

test('a PCA fit kept before the error came from the left-out directions is fitted again, not read: its band no longer fits the errors', async () => {
  // d = k = 2 (two uncorrelated features both kept): the old ‖z‖² − ‖Wᵀz‖² was rounding noise
  // (~1e-9 per chunk, so a band above 0), the error now is exactly 0, below that band: an alert on every window.
  const c = Math.SQRT1_2;
  const kept = { columns: [{ name: 'a', mean: 1.5, std: 0.87 }, { name: 'b', mean: 3.5, std: 2.02 }], components: [[c, -c], [c, c]], lower: 9.8e-10, upper: 1.35e-9, referenceErrors: [1.1e-9, 1.2e-9] };
  const columns = kept.columns.map((col, i) => ({ ...col, encoded: `__r.x${i}` }));
  const [row] = await withDuckDB((db) => queryRows(db, reconstructionErrors({ columns, components: kept.components }, 'SELECT 2.0::DOUBLE AS x0, 7.0::DOUBLE AS x1')));
  assert.equal(Number(row!.e), 0);
  assert.equal(decodeFit(RECONSTRUCTION_FIT, JSON.stringify({ format: 1, fit: kept })).ok, false);
  assert.equal(decodeFit(RECONSTRUCTION_FIT, encodeFit(RECONSTRUCTION_FIT, { ...kept, lower: 0, upper: 0, referenceErrors: [0, 0] })).ok, true);
});

test("a string's z-score looked up from its training values gives every row the error the row-wise standardisation gives, unseen and missing values included", async () => {
  const random = mulberry32(11);
  const cities = ['ORD', 'DFW', 'ATL', 'LAX', 'PHX'];
  const row = (seen: boolean) => {
    const city = random() < 0.1 ? null : seen ? cities[Math.floor(random() ** 2 * cities.length)]! : `X${Math.floor(random() * 3)}`;
    return `(${(random() * 100).toFixed(3)}::DOUBLE, ${random() < 0.05 ? 'NULL' : Math.floor(random() * 2000)}::BIGINT, ${city === null ? 'NULL' : `'${city}'`}, '${cities[Math.floor(random() * 5)]}')`;
  };
  const table = (name: string, n: number, seen: () => boolean) => `CREATE TABLE ${name} AS SELECT * FROM (VALUES ${Array.from({ length: n }, () => row(seen())).join(', ')}) AS t(a, b, origin, destination)`;
  await withDuckDB(async (db) => {
    await db.run(table('training', 400, () => true));
    await db.run(table('served', 300, () => random() < 0.8));
    const statistics = await statisticsOfRelation(db, 'SELECT * FROM training');
    const features = inferSchema(statistics).features;
    const model = (await reconstructionModel(db, 'SELECT * FROM training', features, statistics))!;
    assert.deepEqual(model.columns.map((c) => c.lookup !== undefined), [false, false, true, true], 'both string columns looked up');
    const kept = { columns: model.columns.map(({ name, mean, std }) => ({ name, mean, std })), components: model.components, lower: model.lower, upper: model.upper, referenceErrors: model.referenceErrors };
    const rowWise = await loadReconstruction(db, kept, features, statistics);
    const errors = async (m: typeof model) => (await queryRows(db, `SELECT e FROM (${reconstructionErrors(m, 'SELECT * FROM served')}) ORDER BY e`)).map((r) => Number(r.e));
    const [looked, plain] = [await errors(model), await errors(rowWise)];
    assert.equal(looked.length, 300);
    assert.deepEqual(looked, plain);
    assert.ok(new Set(plain).size > 100, 'the rows have many different errors');
    await dropReconstruction(db, model);
    await dropReconstruction(db, rowWise);
  });
});
