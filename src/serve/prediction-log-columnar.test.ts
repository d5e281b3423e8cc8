import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { openPredictionLog } from '../monitor/prediction-log-reader.js';
import { makeTempDir } from '../../test/support/flights.js';
import type { PredictionLogRow } from './prediction-log.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';

function row(i: number, features: Record<string, unknown>, outputs: Record<string, unknown> = { probability: i / 8 }): PredictionLogRow {
  return { requestId: `r${i}`, modelName: 'flights', modelVersion: 1, role: 'primary', protocol: 'v2', features: JSON.stringify(features), outputs: JSON.stringify(outputs), latencyMs: 0.5, loggedAt: 1_700_000_000_000 + i };
}

async function writeFile(dir: string, rows: PredictionLogRow[]): Promise<string> {
  const writer = new ParquetSpoolWriter(dir);
  await writer.write(rows);
  const path = await writer.rotate();
  await writer.close();
  return path!;
}

/** The Parquet leaf columns of a file (one per stored value, the columnar layout's point). */
async function leaves(path: string): Promise<string[]> {
  const rows = await withDuckDB((db) => queryRows(db, `SELECT path_in_schema AS p FROM parquet_metadata(${sqlString(path)}) WHERE row_group_id = 0 ORDER BY column_id`));
  return rows.map((r) => String(r.p));
}

test('the Parquet log is columnar: each feature and output its own column, typed by every row of the batch, read back as logged', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // `tail` appears in the last row only, `distance` is an integer then a float: the whole batch decides the columns.
  const rows = [row(0, { origin: 'ORD', distance: 100 }), row(1, { origin: 'SFO', distance: 2.5, embedding: [1, 2] }), row(2, { origin: null, distance: 7, tail: 'N1' })];
  const path = await writeFile(dir, rows);
  assert.deepEqual(
    (await leaves(path)).filter((p) => p.startsWith('features') || p.startsWith('outputs')),
    ['features, origin', 'features, distance', 'features, embedding, list, element', 'features, tail', 'outputs, probability'],
  );
  const back = await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
    return queryRows(db, `SELECT request_id, features->>'origin' AS origin, (features->>'distance')::DOUBLE AS distance, features->>'tail' AS tail, features->'embedding' AS embedding,
      (outputs->>'probability')::DOUBLE AS p FROM (${log.relation}) ORDER BY logged_at`);
  });
  assert.deepEqual(
    back.map((r) => [r.request_id, r.origin, r.distance, r.tail, r.embedding === null ? null : JSON.parse(String(r.embedding)), r.p]),
    [['r0', 'ORD', 100, null, null, 0], ['r1', 'SFO', 2.5, null, [1, 2], 0.125], ['r2', null, 7, 'N1', null, 0.25]],
  );
});

test('a batch without keys, or with keys equal but for case, is kept as JSON text; old JSON files and columnar files read together', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const json = await writeFile(dir, [row(0, {}), row(1, {})]);
  assert.ok((await leaves(json)).includes('features'), 'JSON text in one column');
  const cased = await writeFile(dir, [row(2, { origin: 'LAX', Origin: 'lax' }), row(3, { origin: 'BOS' })]);
  assert.ok((await leaves(cased)).includes('features'), 'JSON text in one column');
  const columnar = await writeFile(dir, [row(4, { origin: 'SEA' })]);
  assert.ok((await leaves(columnar)).includes('features, origin'));
  const back = await withDuckDB(async (db) => {
    const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights' });
    return queryRows(db, `SELECT request_id, features->>'origin' AS origin, features->>'Origin' AS upper, (outputs->>'probability')::DOUBLE AS p FROM (${log.relation}) ORDER BY logged_at`);
  });
  assert.deepEqual(back.map((r) => [r.request_id, r.origin, r.upper, r.p]), [['r0', null, null, 0], ['r1', null, null, 0.125], ['r2', 'LAX', 'lax', 0.25], ['r3', 'BOS', null, 0.375], ['r4', 'SEA', null, 0.5]]);
});
