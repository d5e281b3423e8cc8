/**
 * One monitoring window of 1M logged predictions analysed (src/monitor/windows.ts): the
 * Parquet prediction log read, features flattened from JSON, validation's statistics of
 * every feature and output, drift of every feature against the training rows (exact bins)
 * by the schema's comparators, out-of-domain shares, and the PCA reconstruction error
 * fitted on the training month. Goal (issue 13): at most 2 s. The reference in the same
 * run is DuckDB's own `SUMMARIZE` of the same rows, flattened (statistics alone, no drift).
 *
 * The log is flights February–April (the first 1M rows) in the prediction log's file layout (ten
 * files of 100k rows, as `loom serve` rotates them), written by DuckDB directly so setting
 * up is quick; the baseline is January (the training month).
 *
 * Run: node --import tsx bench/monitor-window.ts [--repeat 3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { flightsParquetPath } from '../src/data/datasets.js';
import { queryRows, readSource, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { openPredictionLog } from '../src/monitor/prediction-log-reader.js';
import { analyseWindows, type MonitorBaseline } from '../src/monitor/windows.js';
import { inferSchema } from '../src/validate/schema.js';
import { computeStatistics } from '../src/validate/statistics.js';

const ROWS = 1_000_000;
const { values: args } = parseArgs({ options: { repeat: { type: 'string', default: '3' } } });
const repeat = Math.max(1, Number(args.repeat));

const dir = await mkdtemp(join(tmpdir(), 'loom-bench-monitor-'));
try {
  const flights = sqlString(flightsParquetPath());
  const train = join(dir, 'train.parquet');
  const logDir = join(dir, 'predictions');
  await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT delay, distance, origin, destination FROM read_parquet(${flights}) WHERE month(date) = 1) TO ${sqlString(train)} (FORMAT PARQUET)`);
    await db.run(`CREATE TABLE log AS SELECT row_number() OVER () AS i, * FROM (SELECT delay, distance, origin, destination FROM read_parquet(${flights}) WHERE month(date) IN (2, 3, 4) LIMIT ${ROWS})`);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(logDir);
    for (let f = 0; f < 10; f++) {
      // The writer's columns: features and outputs as JSON objects, logged_at a timestamp.
      await db.run(`COPY (SELECT 'r' || i AS request_id, 'flights' AS model_name, 1 AS model_version, 'primary' AS role, 'v2' AS protocol,
          to_json({delay: delay, distance: distance, origin: origin, destination: destination}) AS features,
          to_json({probability: 1 / (1 + exp(-(distance - 1000) / 500))}) AS outputs, 0.5 AS latency_ms,
          epoch_ms(1767225600000 + i * 10) AS logged_at
        FROM log WHERE (i - 1) // 100000 = ${f}) TO ${sqlString(join(logDir, `predictions-${f}.parquet`))} (FORMAT PARQUET)`);
    }
  });
  const statistics = await computeStatistics(train);
  const baseline: MonitorBaseline = { schema: inferSchema(statistics), statistics, trainingRows: `SELECT * FROM ${readSource(train)}` };

  const loom: number[] = [];
  const summarize: number[] = [];
  let windows = 0;
  for (let r = 0; r < repeat; r++) {
    let start = performance.now();
    const result = await withDuckDB(async (db) => {
      const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'flights', version: 1 });
      return analyseWindows(db, log.relation, baseline, { window: { kind: 'requests', size: ROWS } });
    });
    loom.push(performance.now() - start);
    windows = result.length;
    if (result[0]!.rows !== ROWS) throw new Error(`the window has ${result[0]!.rows} rows, not ${ROWS}`);
    start = performance.now();
    await withDuckDB((db) =>
      queryRows(db, `SUMMARIZE SELECT (features->>'delay')::BIGINT AS delay, (features->>'distance')::BIGINT AS distance, features->>'origin' AS origin,
        features->>'destination' AS destination, (outputs->>'probability')::DOUBLE AS probability FROM read_parquet(${sqlString(join(logDir, '*.parquet'))})`),
    );
    summarize.push(performance.now() - start);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [l, s] = [median(loom), median(summarize)];
  console.log(`| what | median ms | × SUMMARIZE | goal |`);
  console.log(`|---|---:|---:|---|`);
  console.log(`| Loom window of ${ROWS.toLocaleString('en')} predictions (${windows} window): stats + drift vs training + PCA | ${l.toFixed(0)} | ${(l / s).toFixed(2)} | ≤ 2,000 ms |`);
  console.log(`| DuckDB SUMMARIZE of the same rows (flattened) | ${s.toFixed(0)} | 1.00 | reference |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
