import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.js';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { complementBasis, reconstructionErrors, symmetricEigen } from './multivariate.js';

/** d orthonormal directions (eigenvectors of a random symmetric matrix), the first k as the components (d × k). */
function components(d: number, k: number, seed: number): number[][] {
  const random = mulberry32(seed);
  const a = Array.from({ length: d }, () => Array.from({ length: d }, () => random() - 0.5));
  const symmetric = a.map((row, i) => row.map((_, j) => a[i]![j]! + a[j]![i]!));
  const { vectors } = symmetricEigen(symmetric);
  return vectors.map((row) => row.slice(0, k));
}

test('the complement of the components is orthonormal and orthogonal to them', () => {
  for (const [d, k] of [[4, 3], [6, 4], [3, 1]] as const) {
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
