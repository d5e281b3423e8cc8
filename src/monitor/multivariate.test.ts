import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { mulberry32 } from '../core/random.js';
import { ntileOfRow, sqlDouble } from './multivariate.js';

test("the training chunks' arithmetic numbering is DuckDB's ntile over the rows in order, for counts that do and do not divide evenly", async () => {
  await withDuckDB(async (db) => {
    for (const n of [1, 2, 9, 10, 11, 19, 101, 12_345]) {
      for (const chunks of [1, 3, 7, 10]) {
        const [row] = await queryRows(
          db,
          `SELECT count(*) FILTER (WHERE a IS DISTINCT FROM b)::INTEGER AS differ, count(DISTINCT b)::INTEGER AS used
           FROM (SELECT ntile(${chunks}) OVER (ORDER BY i) AS a, ${ntileOfRow('i', n, chunks)} AS b FROM (SELECT range + 1 AS i FROM range(${n})))`,
        );
        assert.equal(row!.differ, 0, `${n} rows in ${chunks} chunks`);
        assert.equal(row!.used, Math.min(n, chunks), `${n} rows fill ${Math.min(n, chunks)} chunks`);
      }
    }
  });
});

test("the scoring SQL's constants are read by DuckDB as the very doubles the fit holds, non-finite ones included", async () => {
  const random = mulberry32(3);
  const xs = [...Array.from({ length: 400 }, () => (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6)), -0.045532939379221496, 727.5736179238507, Number.MAX_VALUE, Number.MIN_VALUE, Number.NaN, Infinity, -Infinity];
  // Multiplied by a DOUBLE so that a literal read as a DECIMAL is cast (where decimal notation lands an ulp away about one time in ten).
  const [row] = await withDuckDB((db) => queryRows(db, `SELECT ${xs.map((x, i) => `1::DOUBLE * ${sqlDouble(x)} AS x${i}`).join(', ')}`));
  xs.forEach((x, i) => assert.ok(Object.is(Number(row![`x${i}`]), x), `${x}: read as ${row![`x${i}`]}`));
});
