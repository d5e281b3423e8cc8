import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { openFreshPostgres, openTestPlatform, postgresTestUrl } from '../../test/support/databases.js';
import { makeTempDir } from '../../test/support/flights.js';
import { LoomError } from '../core/errors.js';
import { buildServingModel, registerFlightsChampion } from '../../test/support/serving-model.js';
import { PredictionLog, toLogRows, type PredictionLogRow, type PredictionLogSink, type PredictionRecord, type PredictionSinkSpec } from './prediction-log.js';
import { packRecords, packedLogRows, packedSpoolLines, unpackRecords } from './prediction-log-pack.js';
import { spoolLines } from './prediction-log-spool.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';
import { ParquetPredictionSink, PostgresPredictionSink } from './prediction-sinks.js';
import { startModelServer } from './server.js';

function record(i: number, rows = 2): PredictionRecord {
  return {
    requestId: `r${i}`,
    modelName: 'flights',
    modelVersion: 3,
    role: 'primary',
    protocol: 'v2',
    inputNames: ['origin', 'distance'],
    rows: { rowCount: rows, columns: [Array.from({ length: rows }, (_, r) => `O${r}`), Array.from({ length: rows }, (_, r) => 100 * r)] },
    outputs: [{ name: 'probability', type: 'float32', shape: [rows, 1], data: Array.from({ length: rows }, (_, r) => r / 8) }],
    latencyMs: 0.4,
    at: 1_700_000_000_000 + i,
  };
}

const parquetFiles = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith('.parquet')).sort();
const countRows = (glob: string) => withDuckDB(async (db) => Number((await queryRows(db, `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(glob)})`))[0]!.n));

/** Polls until `check` holds; fails after `ms` (a wait for behaviour, not a timing assertion). */
async function eventually(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('Parquet sink in the worker: one row per request row, rotated by size, every row readable by DuckDB', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const sink = new ParquetPredictionSink(dir, { rotateRows: 10 });
  const log = new PredictionLog(sink, { flushIntervalMs: 5 });
  for (let i = 0; i < 12; i++) {
    log.record(record(i));
    await log.flush();
  }
  await log.close();
  const files = await parquetFiles(dir);
  assert.equal(files.length, 3, `24 rows at 10 per file: ${files.join(', ')}`);
  assert.deepEqual([...sink.writtenFiles].map((path) => path.slice(dir.length + 1)).sort(), files, 'the sink hears of every file the worker wrote');
  const rows = await withDuckDB((db) =>
    queryRows(db, `SELECT request_id, model_version, features->>'origin' AS origin, (features->>'distance')::INTEGER AS distance,
      (outputs->>'probability')::DOUBLE AS p, logged_at FROM read_parquet('${join(dir, '*.parquet')}') ORDER BY logged_at, distance`),
  );
  assert.equal(rows.length, 24);
  assert.deepEqual(rows.slice(0, 2).map((row) => [row.request_id, row.model_version, row.origin, row.distance, row.p]), [
    ['r0', 3, 'O0', 0, 0],
    ['r0', 3, 'O1', 100, 0.125],
  ]);
  assert.equal(String(rows[0]!.logged_at), '2023-11-14 22:13:20');
  assert.deepEqual([log.written, log.dropped], [24, 0]);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('.spool')), [], 'no spool is left after close');
});

test('idle rotation: a file is finished after a quiet interval, while the log stays open', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const log = new PredictionLog(new ParquetPredictionSink(dir, { idleMs: 200 }), { flushIntervalMs: 10 });
  t.after(() => log.close());
  for (let i = 0; i < 5; i++) log.record(record(i, 3));
  await log.flush();
  await eventually(async () => (await parquetFiles(dir)).length === 1, 'a Parquet file after 200 ms without predictions');
  assert.equal(await countRows(join(dir, '*.parquet')), 15);
  // The next prediction starts a new file; the finished one is left alone.
  log.record(record(9, 1));
  await log.flush();
  await eventually(async () => (await parquetFiles(dir)).length === 2, 'a second file after the next quiet interval');
  assert.equal(await countRows(join(dir, '*.parquet')), 16);
});

test('a spool left by a process that was killed is converted when the next log starts, torn last line skipped', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // A serving process that logged 40 rows, which reached its spool, then died without closing.
  const script = `
    import { PredictionLog } from ${JSON.stringify(new URL('./prediction-log.ts', import.meta.url).href)};
    import { ParquetPredictionSink } from ${JSON.stringify(new URL('./prediction-sinks.ts', import.meta.url).href)};
    const log = new PredictionLog(new ParquetPredictionSink(${JSON.stringify(dir)}, { idleMs: 600000 }));
    for (let i = 0; i < 20; i++) log.record(${record.toString().replace(/^function record/, 'function')}(i));
    await log.flush();
    process.kill(process.pid, 'SIGKILL');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const signal = await new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  assert.equal(signal, 'SIGKILL', stderr);
  const spools = (await readdir(dir)).filter((name) => name.startsWith('.spool'));
  assert.equal(spools.length, 1, 'the dead process left its spool');
  assert.deepEqual(await parquetFiles(dir), []);
  // The spool holds the 40 rows as columnar frames, one line per batch (prediction-log-frames.ts).
  assert.match(spools[0]!, /\.frames$/);
  const frames = (await readFile(join(dir, spools[0]!), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { rows: number });
  assert.equal(frames.reduce((sum, frame) => sum + frame.rows, 0), 40);
  // A crash in the middle of an append leaves half a batch's frame.
  await appendFile(join(dir, spools[0]!), '{"rows":2,"request_id":["torn","torn-2"],"model_na');

  const files: string[] = [];
  const errors: unknown[] = [];
  const sink = new ParquetPredictionSink(dir);
  sink.fileWritten = (path) => void files.push(path);
  const log = new PredictionLog(sink, { onError: (error) => void errors.push(error) });
  await log.close();
  assert.equal(files.length, 1, 'the next start converted the leftover spool');
  assert.equal(errors.length, 1, 'the torn batch is reported');
  // Reported from the log's worker with its code and fix (not a plain Error), naming the spool.
  assert.ok(errors[0] instanceof LoomError, String(errors[0]));
  assert.equal(errors[0].code, 'FAILED_PRECONDITION');
  assert.equal(errors[0].retryable, false);
  assert.ok(errors[0].fix);
  assert.ok(errors[0].message.includes(join(dir, spools[0]!)), errors[0].message);
  assert.match(errors[0].message, /cut short by a crash/);
  assert.equal(await countRows(files[0]!), 40);
  assert.deepEqual((await readdir(dir)).filter((name) => !name.endsWith('.parquet') && !name.endsWith('.profile')), [], 'the spool is gone');
  // A second start finds nothing left to convert: recovery happens once.
  const again = new PredictionLog(new ParquetPredictionSink(dir));
  await again.close();
  assert.equal((await parquetFiles(dir)).length, 1);
});

test('a spool of a crashed writer in this process is recovered once, even when two writers recover at the same time', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const crashed = new ParquetSpoolWriter(dir, { token: 'dead', idleMs: 600_000, rotateMs: 600_000 });
  await crashed.write(toLogRows([record(1, 7)]));
  // Another live writer's spool in the same process is not touched.
  const alive = new ParquetSpoolWriter(dir, { token: 'live', idleMs: 600_000, rotateMs: 600_000 });
  await alive.write(toLogRows([record(2, 2)]));
  const files: string[] = [];
  const [a, b] = [0, 1].map(() => new ParquetSpoolWriter(dir, { onFile: (path) => void files.push(path) }));
  const recovered = (await Promise.all([a!.recover(['dead']), b!.recover(['dead'])])).flat();
  assert.equal(recovered.length, 1, 'claimed by one of them');
  assert.deepEqual(files, recovered);
  assert.equal(await countRows(recovered[0]!), 7);
  assert.match(recovered[0]!, /predictions-\d{8}T\d{9}Z-\d+-dead-0\.parquet$/);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('.spool')).map((name) => name.split('-')[2]), ['live']);
  await Promise.all([a!.close(), b!.close(), alive.close()]);
  assert.equal(await countRows(join(dir, '*.parquet')), 9);
});

test('records cross to the worker packed: multi-value features, string outputs and several models come back as they were', () => {
  const other: PredictionRecord = {
    ...record(5, 3),
    modelName: 'trains',
    role: 'shadow',
    inputNames: ['embedding', 'station'],
    rows: { rowCount: 3, columns: [[1, 2, 3, 4, 5, 6], ['a', 'b|c', '']] },
    outputs: [
      { name: 'label', type: 'string', shape: [3], data: ['late', 'on time', 'late'] },
      { name: 'scores', type: 'float32', shape: [3, 2], data: [0.1, 0.9, 0.5, 0.5, 0.7, 0.3] },
    ],
  };
  const records = [record(1), other, record(2, 1)];
  assert.deepEqual(unpackRecords(packRecords(records)), records);
  assert.deepEqual(JSON.parse(toLogRows([other])[1]!.features), { embedding: [3, 4], station: 'b|c' });
  assert.deepEqual(JSON.parse(toLogRows([other])[2]!.outputs), { label: 'late', scores: [0.7, 0.3] });
  // The worker writes rows read straight from the packed arrays: byte for byte the rows of the records.
  const awkward: PredictionRecord = { ...record(7, 2), inputNames: ['quote"d', 'é'], rows: { rowCount: 2, columns: [[Number.NaN, -0], ['line\nbreak', '\u2028"']] } };
  assert.deepEqual(packedLogRows(packRecords([...records, awkward])), toLogRows([...records, awkward]));
  // The Parquet writer's spool lines, encoded straight from the packed arrays: the lines of those rows, failures included.
  const failed: PredictionRecord = { ...record(8), inputNames: [], rows: { rowCount: 1, columns: [] }, outputs: [], failure: { status: 400, code: 'INVALID_ARGUMENT' } };
  const all = [...records, failed, awkward];
  const rows = toLogRows(all);
  const { text, rows: count } = packedSpoolLines(packRecords(all));
  assert.equal(text, spoolLines(rows));
  assert.equal(count, rows.length);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'every line ends in a newline');
  assert.deepEqual(
    lines.map((line) => JSON.parse(line)),
    rows.map((row) => ({
      request_id: row.requestId,
      model_name: row.modelName,
      model_version: row.modelVersion,
      role: row.role,
      protocol: row.protocol,
      features: JSON.parse(row.features),
      outputs: JSON.parse(row.outputs),
      latency_ms: row.latencyMs,
      logged_at: row.loggedAt,
      ...(row.status !== undefined && { status: row.status, error_code: row.errorCode }),
    })),
  );
  assert.deepEqual(JSON.parse(lines[6]!).outputs, {}, 'the failed request: no outputs');
  assert.equal(JSON.parse(lines[6]!).error_code, 'INVALID_ARGUMENT');
});

test('overload on a slow sink: rows beyond the capacity are dropped and counted, never blocking; a failed write counts its rows', async () => {
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
  // Capacity 10 rows; each record has 2 rows (the bound is rows, not requests).
  const log = new PredictionLog(slow, { capacity: 10, flushIntervalMs: 1_000_000, onDropped: (n) => (droppedReported += n), onError: (e) => errors.push(e) });
  log.record(record(0));
  const writing = log.flush();
  // The sink is stuck on 2 rows; 8 more fit, the other 6 records' rows are dropped.
  for (let i = 1; i <= 10; i++) log.record(record(i));
  assert.equal(log.dropped, 12);
  log.record(record(99, 11));
  assert.equal(log.dropped, 23, 'a request with more rows than the capacity cannot fit');
  await new Promise(setImmediate); // the write reaches the sink on the next turn
  release();
  await writing;
  failNext = true;
  await log.flush();
  assert.equal(log.dropped, 31, 'the 8 queued rows of the failed write are counted too');
  assert.equal(droppedReported, 31);
  assert.match(String(errors[0]), /disk full/);
  assert.equal(written.length, 2);
  await log.close();
  log.record(record(100));
  assert.equal(log.dropped, 33, 'after close records are dropped and counted');
});

test('a burst larger than the queue over real HTTP: every request answers 200, the overflow is dropped and counted in /metrics', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const fixture = await buildServingModel(dir);
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  await registerFlightsChampion(db.registry, fixture, 'burst test');
  const instances = await withDuckDB((conn) =>
    queryRows(conn, `SELECT hour::INTEGER AS hour, weekday::INTEGER AS weekday, distance::INTEGER AS distance, origin, destination
      FROM read_parquet(${sqlString(join(fixture.examples.path, 'eval', 'data.parquet'))}) LIMIT 3`),
  );
  const logDir = join(dir, 'predictions');
  // Nothing leaves the queue during the burst (no timer, no early hand-off): exactly 30 rows fit.
  const server = await startModelServer({
    port: 0,
    models: ['flights@champion'],
    registry: db.registry,
    artifacts: fixture.artifacts,
    watchIntervalMs: 0,
    predictionLog: new ParquetPredictionSink(logDir),
    predictionLogOptions: { capacity: 30, flushIntervalMs: 1_000_000, batchRows: 1_000_000 },
  });
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));
  const requests = 200;
  const statuses = await Promise.all(
    Array.from({ length: requests }, async (_, i) => {
      const response = await fetch(`${server.url}/v2/models/flights/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': `burst-${i}` },
        body: JSON.stringify({ instances }),
      });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  assert.deepEqual([...new Set(statuses)], [200], 'logging never fails a request');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const dropped = Number(/^loom_serve_prediction_log_dropped_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
  assert.equal(dropped, requests * 3 - 30, 'every row that did not fit is counted');
  await server.close();
  closed = true;
  assert.deepEqual([server.log!.written, server.log!.dropped], [30, requests * 3 - 30]);
  assert.equal(await countRows(join(logDir, '*.parquet')), 30, 'close wrote every row that was queued');
});

test('a worker that cannot start: batches are dropped and counted, the error reported, restarts stop after three, close does not hang', async () => {
  const errors: unknown[] = [];
  const broken: PredictionLogSink = { spec: { kind: 'parquet-v9' } as unknown as PredictionSinkSpec, write: async () => {}, close: async () => {} };
  const log = new PredictionLog(broken, { flushIntervalMs: 1_000_000, onError: (e) => errors.push(e) });
  for (let round = 0; round < 5; round++) {
    log.record(record(round));
    await log.flush();
  }
  await log.close();
  assert.deepEqual([log.written, log.dropped], [0, 10]);
  assert.match(String(errors[0]), /unknown prediction log sink "parquet-v9"/);
  assert.ok(errors.some((error) => /failed 3 times; logging is off/.test(String(error))), String(errors));
});

const url = postgresTestUrl('prediction log on PostgreSQL');
if (url) {
  test('PostgreSQL sink in the worker: batched rows land in prediction_log with JSON features and outputs', async () => {
    const db = await openFreshPostgres(url);
    const schema = db.config.database.schema!;
    try {
      const log = new PredictionLog(new PostgresPredictionSink({ url, schema }), { flushIntervalMs: 5, batchRows: 20 });
      for (let i = 0; i < 50; i++) log.record(record(i, 3));
      await log.close();
      assert.deepEqual([log.written, log.dropped], [150, 0]);
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const result = await client.query(`SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS requests,
          max((outputs->>'probability')::float8) AS p, min(features->>'origin') AS origin FROM prediction_log WHERE model_name = 'flights'`);
        assert.deepEqual(result.rows[0], { n: 150, requests: 50, p: 0.25, origin: 'O0' });
      } finally {
        await client.end();
      }
    } finally {
      await db.close();
    }
  });

  test('PostgreSQL sink: a string holding a lone surrogate or a NUL (valid in a request\'s JSON, refused by jsonb) is stored with U+FFFD in its place, and its batch with it', async () => {
    const db = await openFreshPostgres(url);
    const schema = db.config.database.schema!;
    try {
      const log = new PredictionLog(new PostgresPredictionSink({ url, schema }), { flushIntervalMs: 1_000_000, batchRows: 1_000 });
      const hostile = (i: number, origin: string): PredictionRecord => ({ ...record(i, 1), rows: { rowCount: 1, columns: [[origin], [100]] } });
      log.record(hostile(0, 'a\ud800b'));
      log.record(hostile(1, 'nul\u0000x'));
      for (let i = 2; i < 10; i++) log.record(record(i, 1));
      await log.close();
      assert.deepEqual([log.written, log.dropped], [10, 0]);
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const result = await client.query(`SELECT request_id, features->>'origin' AS origin FROM prediction_log WHERE request_id IN ('r0', 'r1') ORDER BY request_id`);
        assert.deepEqual(result.rows, [{ request_id: 'r0', origin: 'a\ufffdb' }, { request_id: 'r1', origin: 'nul\ufffdx' }]);
      } finally {
        await client.end();
      }
    } finally {
      await db.close();
    }
  });

  test('PostgreSQL unreachable: writes fail in the worker, rows are dropped and counted, the error is reported', async () => {
    const errors: unknown[] = [];
    const log = new PredictionLog(new PostgresPredictionSink({ url: 'postgres://nobody@127.0.0.1:1/none' }), { flushIntervalMs: 1_000_000, onError: (e) => errors.push(e) });
    for (let i = 0; i < 4; i++) log.record(record(i));
    await log.flush();
    await log.close();
    assert.deepEqual([log.written, log.dropped], [0, 8]);
    assert.match(String(errors[0]), /ECONNREFUSED|connect/);
  });
}

test('a spool that cannot be converted is reported and does not keep the other spools from being recovered', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  for (const token of ['bad', 'good']) {
    const crashed = new ParquetSpoolWriter(dir, { token, idleMs: 600_000, rotateMs: 600_000 });
    await crashed.write(toLogRows([record(1, 5)]));
  }
  const bad = (await readdir(dir)).find((name) => name.startsWith('.spool') && name.includes('-bad-'))!;
  await writeFile(join(dir, bad), 'this is not a prediction record\n');
  const errors: unknown[] = [];
  const writer = new ParquetSpoolWriter(dir, { onError: (error) => void errors.push(error) });
  t.after(() => writer.close());
  const recovered = await writer.recover(['bad', 'good']);
  assert.equal(recovered.length, 1, 'the good spool is converted');
  assert.match(recovered[0]!, /-good-0\.parquet$/);
  assert.equal(await countRows(recovered[0]!), 5);
  assert.equal(errors.length, 1, 'the bad spool is reported once');
});

test('a rotation by size that fails in the background makes close() reject when no one was told, and its rows stay in the spool', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const writer = new ParquetSpoolWriter(dir, { rotateRows: 1, idleMs: 600_000, rotateMs: 600_000 });
  // One line DuckDB cannot read: the rotation its row starts fails.
  await writer.writeLines('this is not a prediction record\n', 1);
  await assert.rejects(writer.close());
  const left = (await readdir(dir)).filter((name) => name.startsWith('.spool'));
  assert.equal(left.length, 1, 'the spool is kept for recovery');
  assert.equal(await readFile(join(dir, left[0]!), 'utf8'), 'this is not a prediction record\n');

  // With onError the failure is told there, and close() succeeds.
  const told: unknown[] = [];
  const other = new ParquetSpoolWriter(await makeTempDir(t.after.bind(t)), { rotateRows: 1, idleMs: 600_000, rotateMs: 600_000, onError: (error) => void told.push(error) });
  await other.writeLines('this is not a prediction record\n', 1);
  await other.close();
  assert.equal(told.length, 1);
});

test('a request larger than the log\'s capacity is logged in parts, in row order, to real Parquet files', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // The default capacity (50,000 rows): a 60,001-row request used to be only counted as dropped.
  const log = new PredictionLog(new ParquetPredictionSink(dir), { flushIntervalMs: 5 });
  const big = record(7, 60_001);
  log.record(big);
  await log.close();
  assert.deepEqual([log.written, log.dropped], [60_001, 0]);
  const rows = await withDuckDB((db) =>
    queryRows(db, `SELECT count(*)::INTEGER AS n, count(DISTINCT request_id)::INTEGER AS ids, min(request_id) AS id,
      sum((features->>'distance')::BIGINT)::BIGINT AS distances, sum((outputs->>'probability')::DOUBLE) AS p FROM read_parquet('${join(dir, '*.parquet')}')`),
  );
  const expectedDistance = (big.rows.columns[1] as number[]).reduce((a, b) => a + b, 0);
  const expectedP = (big.outputs[0]!.data as number[]).reduce((a, b) => a + b, 0);
  assert.deepEqual([rows[0]!.n, rows[0]!.ids, rows[0]!.id, Number(rows[0]!.distances)], [60_001, 1, 'r7', expectedDistance]);
  assert.ok(Math.abs(Number(rows[0]!.p) - expectedP) < 1e-3, 'every row keeps its own outputs');
});

test('parts of a large request wait for room; a second large one while they wait is dropped and counted', async () => {
  const written: PredictionLogRow[] = [];
  const sink: PredictionLogSink = { write: async (rows) => void written.push(...rows), close: async () => {} };
  const log = new PredictionLog(sink, { capacity: 50, batchRows: 20, flushIntervalMs: 1_000_000 });
  log.record(record(1, 125));
  log.record(record(2, 60));
  assert.equal(log.dropped, 60, 'one oversized request waits at a time');
  log.record(record(3, 2));
  await log.close();
  assert.deepEqual([log.written, log.dropped], [127, 60]);
  const first = written.filter((row) => row.requestId === 'r1');
  assert.equal(first.length, 125);
  assert.deepEqual(first.map((row) => JSON.parse(row.features).distance), Array.from({ length: 125 }, (_, r) => 100 * r), 'parts keep row order');
  assert.deepEqual(first.map((row) => JSON.parse(row.outputs).probability), Array.from({ length: 125 }, (_, r) => r / 8));
});
