import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { ntileOfRow } from './multivariate.js';

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
