import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from './duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { GraphBuilder, attr } from '../onnx/builder.js';
import { runModelOverParquet } from './batch-runner.js';

/** distance * 2 as float, and origin's index in a two-airport vocabulary (2 for any other). */
async function writeModel(path: string): Promise<void> {
  const g = new GraphBuilder('runner');
  g.addInput('distance', 'float32', [-1, 1]);
  g.addInput('origin', 'string', [-1, 1]);
  g.addInitializer('two', new Float32Array([2]), [1, 1]);
  g.addNode('Mul', ['distance', 'two'], ['doubled']);
  g.addNode('LabelEncoder', ['origin'], ['code'], { keys_strings: attr.strings(['ORD', 'ATL']), values_int64s: attr.ints([0, 1]), default_int64: attr.int(2) }, 'ai.onnx.ml');
  g.addOutput('doubled', 'float32', [-1, 1]);
  g.addOutput('code', 'int64', [-1, 1]);
  await writeFile(path, g.toBytes());
}

test('scores every row of a Parquet file in batches of exactly batchSize, with extra columns', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const parquet = join(dir, 'flights.parquet');
  const rows = await writeFlightsSlice(parquet, { months: [1], every: 200 });
  const modelPath = join(dir, 'model.onnx');
  await writeModel(modelPath);
  const expected = await withDuckDB(async (db) =>
    (await db.runAndReadAll(`SELECT distance, origin, delay FROM read_parquet(${sqlString(parquet)})`)).getRowObjects(),
  );

  const batchSizes: number[] = [];
  const doubled: number[] = [];
  const codes: number[] = [];
  const delays: unknown[] = [];
  let advanced = 0;
  const result = await runModelOverParquet(modelPath, parquet, {
    batchSize: 1000,
    extraColumns: ['delay'],
    progress: { advance: (n) => (advanced += n) },
    onBatch({ rowCount, outputs, extra }) {
      batchSizes.push(rowCount);
      assert.equal(outputs.doubled.length, rowCount);
      doubled.push(...outputs.doubled);
      codes.push(...outputs.code);
      delays.push(...Array.from(extra.delay));
    },
  });
  assert.equal(result.rowCount, rows);
  assert.equal(advanced, rows);
  assert.ok(batchSizes.length > 2);
  assert.ok(batchSizes.slice(0, -1).every((size) => size === 1000));
  assert.equal(batchSizes.reduce((a, b) => a + b, 0), rows);
  assert.deepEqual(doubled, expected.map((row) => Math.fround(Number(row.distance)) * 2));
  assert.deepEqual(codes, expected.map((row) => (row.origin === 'ORD' ? 0 : row.origin === 'ATL' ? 1 : 2)));
  assert.deepEqual(delays, expected.map((row) => row.delay));
});

test('a missing column or one that cannot be cast to the input type is INVALID_ARGUMENT', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const modelPath = join(dir, 'model.onnx');
  await writeModel(modelPath);
  const isInvalid = (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT';

  const noOrigin = join(dir, 'no-origin.parquet');
  const badDistance = join(dir, 'bad-distance.parquet');
  await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT 100 AS distance) TO ${sqlString(noOrigin)} (FORMAT PARQUET)`);
    await db.run(`COPY (SELECT 'far' AS distance, 'ORD' AS origin) TO ${sqlString(badDistance)} (FORMAT PARQUET)`);
  });
  await assert.rejects(runModelOverParquet(modelPath, noOrigin, { onBatch() {} }), (error: unknown) => isInvalid(error) && (error as LoomError).field === 'origin');
  await assert.rejects(runModelOverParquet(modelPath, badDistance, { onBatch() {} }), isInvalid);
  await assert.rejects(runModelOverParquet(modelPath, noOrigin, { batchSize: 0, onBatch() {} }), isInvalid);
});

test('a value that cannot be cast deep in a 2M-row file fails naming its row and column, never a short success', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const modelPath = join(dir, 'model.onnx');
  await writeModel(modelPath);
  const rows = 2_000_000;
  /** distance as text, 'x' on 1-based row `badRow` (none when -1). */
  const write = (path: string, badRow: number) =>
    withDuckDB((db) =>
      db.run(`COPY (SELECT CASE WHEN i = ${badRow - 1} THEN 'x' ELSE (i % 3000)::VARCHAR END AS distance, 'ORD' AS origin FROM range(${rows}) t(i)) TO ${sqlString(path)}`),
    );
  const bad = join(dir, 'bad.parquet');
  await write(bad, 1_500_001);
  let scored = 0;
  // Before streamSelect checked the end, DuckDB's stream stopped quietly after ~1.3M rows and this resolved.
  await assert.rejects(runModelOverParquet(modelPath, bad, { onBatch: ({ rowCount }) => void (scored += rowCount) }), (error: unknown) => {
    assert.ok(error instanceof LoomError, String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, 'distance');
    assert.match(error.message, /cannot read row 1500001 of .*bad\.parquet, column "distance": Conversion Error/);
    return true;
  });
  assert.ok(scored < rows);

  const good = join(dir, 'good.parquet');
  await write(good, -1);
  scored = 0;
  const result = await runModelOverParquet(modelPath, good, { onBatch: ({ rowCount }) => void (scored += rowCount) });
  assert.deepEqual([result.rowCount, scored], [rows, rows]);
});

test('a TIMESTAMP column feeds an int64 input as epoch milliseconds (UTC)', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const parquet = join(dir, 'flights.parquet');
  await writeFlightsSlice(parquet, { months: [4], every: 500 });
  const g = new GraphBuilder('hours');
  g.addInput('date', 'int64', [-1, 1]);
  g.addInitializer('ms_per_hour', new BigInt64Array([3_600_000n]), []);
  g.addNode('Div', ['date', 'ms_per_hour'], ['hours']);
  g.addOutput('hours', 'int64', [-1, 1]);
  const modelPath = join(dir, 'hours.onnx');
  await writeFile(modelPath, g.toBytes());
  const hours: number[] = [];
  await runModelOverParquet(modelPath, parquet, { onBatch: ({ outputs }) => void hours.push(...outputs.hours) });
  const expected = await withDuckDB(async (db) =>
    (await db.runAndReadAll(`SELECT date_diff('hour', TIMESTAMP '1970-01-01', date) AS h FROM read_parquet(${sqlString(parquet)})`)).getRowObjects().map((row) => Number(row.h)),
  );
  assert.ok(expected.length > 100);
  assert.deepEqual(hours, expected);
  // Hours since 1970 of April 2001, not of some other zone or unit.
  assert.ok(hours.every((hour) => hour >= Date.UTC(2001, 3, 1) / 3_600_000 && hour < Date.UTC(2001, 4, 1) / 3_600_000));
});
