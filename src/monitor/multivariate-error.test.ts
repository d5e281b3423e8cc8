import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../core/random.js';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { RECONSTRUCTION_FIT, decodeFit, encodeFit } from './fit-store-formats.js';
import { inferSchema } from '../validate/schema.js';
import { statisticsOfRelation, type DatasetStatistics } from '../validate/statistics.js';
import { complementBasis, dropReconstruction, loadReconstruction, reconstructionErrors, reconstructionModel, symmetricEigen, type ReconstructionModel } from './multivariate.js';

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

/** Each served row's distance to its reconstruction, in JS: non-finite numbers and missing values imputed (z = 0), strings as their training share. */
function referenceErrors(model: ReconstructionModel, statistics: DatasetStatistics, rows: Record<string, number | string | null>[]): number[] {
  const shares = new Map(statistics.features.map((f) => [f.name, new Map(f.string?.rankHistogram.map((v) => [v.value, v.count / f.count]))]));
  const w = model.components;
  return rows.map((row) => {
    const z = model.columns.map((c) => {
      const x = row[c.name];
      const value = typeof x === 'string' ? (shares.get(c.name)!.get(x) ?? 0) : x;
      return value === null || value === undefined || !Number.isFinite(value) ? 0 : (value - c.mean) / c.std;
    });
    const coords = w[0]!.map((_, k) => z.reduce((s, zi, i) => s + zi * w[i]![k]!, 0));
    return Math.sqrt(z.reduce((s, zi, i) => s + (zi - coords.reduce((t, a, k) => t + a * w[i]![k]!, 0)) ** 2, 0));
  });
}

test('with one component kept of five, the error is taken from the norm, strings looked up; NaN and ±∞ count as missing, in a DOUBLE beside INTEGER and BIGINT columns', async () => {
  const random = mulberry32(5);
  const cities = ['ORD', 'DFW', 'ATL', 'LAX', 'PHX'];
  const oddities = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null];
  // a, b and c follow one latent value (one component explains most of the variance); a sometimes not finite.
  const row = (n: number, seen: boolean) => {
    const latent = random() * 10;
    const city = random() < 0.1 ? null : seen ? cities[Math.floor(random() ** 2 * cities.length)]! : `X${Math.floor(random() * 3)}`;
    const a = random() < 0.15 ? oddities[Math.floor(random() * oddities.length)]! : latent + random();
    return { n, a, b: Math.round(latent * 100 + random() * 50), c: Math.round(latent * 3 + random()), d: Math.round(20 - latent * 2 + random()), origin: city };
  };
  const double = (x: number | null) => (x === null ? 'NULL' : Number.isFinite(x) ? `${x}` : `'${x}'`);
  const values = (rows: ReturnType<typeof row>[]) => rows.map((r) => `(${r.n}, ${double(r.a)}::DOUBLE, ${r.b}::BIGINT, ${r.c}::INTEGER, ${r.d}::INTEGER, ${r.origin === null ? 'NULL' : `'${r.origin}'`})`).join(', ');
  const training = Array.from({ length: 400 }, (_, n) => row(n, true));
  const served = Array.from({ length: 300 }, (_, n) => row(n, random() < 0.8));
  await withDuckDB(async (db) => {
    for (const [name, rows] of [['training', training], ['served', served]] as const) await db.run(`CREATE TABLE ${name} AS SELECT * FROM (VALUES ${values(rows)}) AS t(n, a, b, c, d, origin)`);
    const statistics = await statisticsOfRelation(db, 'SELECT * EXCLUDE (n) FROM training');
    const features = inferSchema(statistics).features;
    const model = (await reconstructionModel(db, 'SELECT * EXCLUDE (n) FROM training', features, statistics))!;
    assert.deepEqual(model.columns.map((c) => c.name), ['a', 'b', 'c', 'd', 'origin']);
    assert.equal(model.components[0]!.length, 1, 'one component kept');
    assert.equal(model.directions?.fromNorm, true, 'the error from the norm less the projection');
    const kept = { columns: model.columns.map(({ name, mean, std }) => ({ name, mean, std })), components: model.components, lower: model.lower, upper: model.upper, referenceErrors: model.referenceErrors };
    const rowWise = await loadReconstruction(db, kept, features, statistics);
    const errors = async (m: ReconstructionModel) => (await queryRows(db, `SELECT e FROM (${reconstructionErrors(m, 'SELECT * FROM served', ['n'])}) ORDER BY n`)).map((r) => Number(r.e));
    const [looked, plain] = [await errors(model), await errors(rowWise)];
    assert.deepEqual(looked, plain, 'looked up as computed row-wise');
    const reference = referenceErrors(model, statistics, served);
    looked.forEach((e, n) => assert.ok(Math.abs(e - reference[n]!) < 1e-9, `row ${n} (a = ${served[n]!.a}): ${e} vs ${reference[n]}`));
    assert.ok(served.some((r) => r.a !== null && !Number.isFinite(r.a)) && served.some((r) => r.origin?.startsWith('X')), 'non-finite numbers and unseen strings are served');
    await dropReconstruction(db, model);
    await dropReconstruction(db, rowWise);
  });
});
