import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { openDatabase } from '../metadata/database.js';
import { dropSchema, postgresTestUrl, randomSchemaName } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { PredictionLog, type PredictionLogRow, type PredictionLogSink, type PredictionRecord } from './prediction-log.js';
import { ParquetPredictionSink, PostgresPredictionSink } from './prediction-sinks.js';

function record(i: number, rows = 2): PredictionRecord {
  return {
    requestId: `r${i}`,
    modelName: 'flights',
    modelVersion: 3,
    role: 'primary',
    protocol: 'v2',
    inputNames: ['origin', 'distance'],
    rows: { rowCount: rows, columns: [Array.from({ length: rows }, (_, r) => `O${r}`), Array.from({ length: rows }, (_, r) => 100 * r)] },
    outputs: [{ name: 'probability', type: 'float32', shape: [rows, 1], data: Array.from({ length: rows }, (_, r) => r / 10) }],
    latencyMs: 0.4,
    at: 1_700_000_000_000 + i,
  };
}

test('Parquet sink: one row per request row, rotated into files by size', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const sink = new ParquetPredictionSink(dir, { rotateRows: 10 });
  const log = new PredictionLog(sink, { flushIntervalMs: 5 });
  for (let i = 0; i < 12; i++) {
    log.record(record(i));
    await log.flush();
  }
  await log.close();
  const files = (await readdir(dir)).filter((name) => name.endsWith('.parquet')).sort();
  assert.equal(files.length, 3, `24 rows at 10 per file: ${files.join(', ')}`);
  const rows = await withDuckDB((db) =>
    queryRows(db, `SELECT request_id, model_version, features->>'origin' AS origin, (features->>'distance')::INTEGER AS distance,
      (outputs->>'probability')::DOUBLE AS p, logged_at FROM read_parquet('${join(dir, '*.parquet')}') ORDER BY logged_at, distance`),
  );
  assert.equal(rows.length, 24);
  assert.deepEqual(rows.slice(0, 2).map((row) => [row.request_id, row.model_version, row.origin, row.distance, row.p]), [
    ['r0', 3, 'O0', 0, 0],
    ['r0', 3, 'O1', 100, 0.1],
  ]);
  assert.equal(String(rows[0]!.logged_at), '2023-11-14 22:13:20');
  assert.equal(log.dropped, 0);
});

test('overload: records beyond the queue capacity are dropped and counted, never blocking; a failed write counts its records', async () => {
  let release: () => void = () => {};
  const written: PredictionLogRow[] = [];
  let failNext = false;
  const slow: PredictionLogSink = {
    write: (rows) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('disk full'));
      }
      written.push(...rows);
      return new Promise((resolve) => (release = resolve));
    },
    close: async () => {},
  };
  let droppedReported = 0;
  const errors: unknown[] = [];
  const log = new PredictionLog(slow, { capacity: 5, flushIntervalMs: 1_000_000, onDropped: (n) => (droppedReported += n), onError: (e) => errors.push(e) });
  log.record(record(0));
  const writing = log.flush();
  // The sink is stuck; the queue fills to 5 and the rest are dropped.
  for (let i = 1; i <= 8; i++) log.record(record(i));
  assert.equal(log.dropped, 3);
  release();
  await writing;
  failNext = true;
  await log.flush();
  assert.equal(log.dropped, 8, 'the 5 queued records of the failed write are counted too');
  assert.equal(droppedReported, 8);
  assert.match(String(errors[0]), /disk full/);
  assert.equal(written.length, 2);
  await log.close();
});

const url = postgresTestUrl('prediction log on PostgreSQL');
if (url) {
  test('PostgreSQL sink: batched rows land in prediction_log with JSON features and outputs', async () => {
    const schema = randomSchemaName();
    const db = await openDatabase({ kind: 'postgres', url, schema });
    try {
      const log = new PredictionLog(new PostgresPredictionSink({ url, schema }), { flushIntervalMs: 5 });
      for (let i = 0; i < 50; i++) log.record(record(i, 3));
      await log.close();
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const result = await client.query(`SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS requests,
          max((outputs->>'probability')::float8) AS p, min(features->>'origin') AS origin FROM prediction_log WHERE model_name = 'flights'`);
        assert.deepEqual(result.rows[0], { n: 150, requests: 50, p: 0.2, origin: 'O0' });
      } finally {
        await client.end();
      }
    } finally {
      await db.close();
      await dropSchema(url, schema);
    }
  });
}
