import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { toTensor } from '../onnx/tensors.js';
import { fitTransform } from './analyzers.js';
import { countRows } from '../data/duckdb.js';
import { applyTransform, FEATURES_FILE, LABELS_FILE } from './apply.js';
import { buildTransformGraph, transformInputs } from './graph.js';

async function writeFeatures(dir: string): Promise<string> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [2], every: 150 });
  const path = join(dir, 'data.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (SELECT hour(date)::BIGINT AS hour, distance, origin, delay > 15 AS delayed, delay AS delay_minutes, origin AS airport
                  FROM read_parquet(${sqlString(raw)})) TO ${sqlString(path)} (FORMAT PARQUET)`),
  );
  return path;
}

test('streams features and labels to float32 files equal to running the graph on all rows at once', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const parquet = await writeFeatures(dir);
  const fitted = await fitTransform(parquet, { labelColumn: 'delayed', features: ['hour', 'distance', 'origin'] });
  const graphPath = join(dir, 'transform.onnx');
  const graph = buildTransformGraph(fitted);
  await writeFile(graphPath, graph);

  let advanced = 0;
  const applied = await applyTransform({ graphPath, parquetPath: parquet, splitDir: join(dir, 'small'), labelColumn: 'delayed', batchSize: 700, progress: { advance: (n) => (advanced += n) } });
  const rows = await countRows(parquet);
  assert.deepEqual(applied, { rowCount: rows, width: fitted.outputWidth });
  assert.equal(advanced, rows);

  const bytes = await readFile(join(dir, 'small', FEATURES_FILE));
  assert.equal(bytes.byteLength, rows * fitted.outputWidth * 4);
  const records = await withDuckDB(async (db) => (await db.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(parquet)})`)).getRowObjects());
  const session = await ort.InferenceSession.create(graph);
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of transformInputs(fitted)) feeds[spec.name] = toTensor(spec, records.map((row) => row[spec.name]));
  const direct = (await session.run(feeds)).features.data as Float32Array;
  await session.release();
  assert.deepEqual(Buffer.from(bytes), Buffer.from(direct.buffer, direct.byteOffset, direct.byteLength));

  const labels = new Float32Array((await readFile(join(dir, 'small', LABELS_FILE))).buffer.slice(0));
  assert.deepEqual([...labels], records.map((row) => (row.delayed ? 1 : 0)));

  // Numeric labels pass through as numbers.
  await applyTransform({ graphPath, parquetPath: parquet, splitDir: join(dir, 'minutes'), labelColumn: 'delay_minutes' });
  const minutes = new Float32Array((await readFile(join(dir, 'minutes', LABELS_FILE))).buffer.slice(0));
  assert.deepEqual([...minutes], records.map((row) => Number(row.delay_minutes)));
});

test('a string label is INVALID_ARGUMENT', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const parquet = await writeFeatures(dir);
  const fitted = await fitTransform(parquet, { labelColumn: 'delayed', features: ['hour'] });
  const graphPath = join(dir, 'transform.onnx');
  await writeFile(graphPath, buildTransformGraph(fitted));
  await assert.rejects(
    applyTransform({ graphPath, parquetPath: parquet, splitDir: join(dir, 'out'), labelColumn: 'airport' }),
    (error: unknown) => error instanceof LoomError && error.code === 'INVALID_ARGUMENT' && error.field === 'labelColumn',
  );
});
