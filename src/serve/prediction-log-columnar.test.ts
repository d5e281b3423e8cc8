import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { openPredictionLog } from '../monitor/prediction-log-reader.js';
import { makeTempDir } from '../../test/support/flights.js';
import { join } from 'node:path';
import type { PredictionOutput } from './batcher.js';
import type { PredictionLogRow, PredictionRecord } from './prediction-log.js';
import { packedLogRows, packRecords } from './prediction-log-pack.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';
import { packedStructure } from './prediction-log-structure.js';

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

test("the layout the log's worker tracks while writing is the one DuckDB finds reading the spool back: same Parquet types, same rows", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const names = ['count', 'delta', 'mixed', 'ratio', 'origin', 'late', 'sometimes'];
  // Integers ≥ 0, < 0 and of both signs; integers then fractions; text; booleans; a field null in one batch.
  const batch = (first: number, sometimes: unknown) =>
    packRecords(
      [0, 1, 2].map((i): PredictionRecord => ({
        requestId: `r${first + i}`,
        modelName: 'flights',
        modelVersion: 1,
        role: 'primary',
        protocol: 'v2',
        inputNames: names,
        rows: { rowCount: 1, columns: [[first + i], [-1 - i], [i - 1], [first === 0 ? i : i + 0.5], ['ORD'], [i % 2 === 0], [sometimes]] },
        outputs: [{ name: 'probability', type: 'float32', shape: [1, 1], data: new Float32Array([i / 4]) as unknown as PredictionOutput['data'] }],
        latencyMs: 0.5,
        at: 1_700_000_000_000 + first + i,
      })),
    );
  const written = async (tracked: boolean) => {
    const writer = new ParquetSpoolWriter(join(dir, String(tracked)));
    for (const packed of [batch(0, null), batch(3, 'N1')]) await writer.write(packedLogRows(packed), tracked ? packedStructure(packed) : undefined);
    const path = (await writer.rotate())!;
    await writer.close();
    return withDuckDB(async (db) => ({
      types: (await queryRows(db, `DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`)).map((r) => `${String(r.column_name)} ${String(r.column_type)}`),
      rows: (await queryRows(db, `SELECT to_json(p)::VARCHAR AS j FROM read_parquet(${sqlString(path)}) AS p ORDER BY logged_at`)).map((r) => String(r.j)),
    }));
  };
  const [tracked, found] = [await written(true), await written(false)];
  // Integers of both signs are HUGEINT, which Parquet stores as DOUBLE.
  assert.ok(tracked.types.includes('features STRUCT(count UBIGINT, delta BIGINT, mixed DOUBLE, ratio DOUBLE, origin VARCHAR, late BOOLEAN, sometimes VARCHAR)'), tracked.types.join('; '));
  assert.deepEqual(tracked, found);
});
