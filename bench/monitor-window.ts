/**
 * One monitoring window of 1M logged predictions analysed (src/monitor/windows.ts): the
 * Parquet prediction log read (the writer's columnar layout, and the JSON layout of logs
 * written before it), validation's statistics of
 * every feature and output, drift of every feature against the training rows (exact bins)
 * by the schema's comparators, out-of-domain shares, and the PCA reconstruction error
 * fitted on the training month. Goal (issue 13): at most 2 s.
 *
 * The log is flights February–April (the first 1M rows) in the prediction log's file layout (ten
 * files of 100k rows, as `loom serve` rotates them; features and outputs as STRUCTs, one
 * Parquet column each, or as JSON text), written by DuckDB directly so setting up is quick;
 * the baseline is January (the training month). Runs interleave Loom and the references
 * (DuckDB's SUMMARIZE of the same rows, statistics alone: no drift, no PCA).
 *
 * Run: node --import tsx bench/monitor-window.ts [--repeat 3]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
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
  const logDirs = { columnar: join(dir, 'columnar'), json: join(dir, 'json') };
  await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT delay, distance, origin, destination FROM read_parquet(${flights}) WHERE month(date) = 1) TO ${sqlString(train)} (FORMAT PARQUET)`);
    await db.run(`CREATE TABLE log AS SELECT row_number() OVER () AS i, * FROM (SELECT delay, distance, origin, destination FROM read_parquet(${flights}) WHERE month(date) IN (2, 3, 4) LIMIT ${ROWS})`);
    for (const [layout, logDir] of Object.entries(logDirs)) {
      await mkdir(logDir);
      // The writer's columns: features and outputs as STRUCTs (columnar) or JSON objects, logged_at a timestamp.
      const object = layout === 'json' ? 'to_json' : '';
      for (let f = 0; f < 10; f++) {
        await db.run(`COPY (SELECT 'r' || i AS request_id, 'flights' AS model_name, 1 AS model_version, 'primary' AS role, 'v2' AS protocol,
            ${object}({delay: delay, distance: distance, origin: origin, destination: destination}) AS features,
            ${object}({probability: 1 / (1 + exp(-(distance - 1000) / 500))}) AS outputs, 0.5 AS latency_ms,
            epoch_ms(1767225600000 + i * 10) AS logged_at
          FROM log WHERE (i - 1) // 100000 = ${f}) TO ${sqlString(join(logDir, `predictions-${f}.parquet`))} (FORMAT PARQUET)`);
      }
    }
  });
  const statistics = await computeStatistics(train);
  const baseline: MonitorBaseline = { schema: inferSchema(statistics), statistics, trainingRows: `SELECT * FROM ${readSource(train)}` };

  const times = { columnar: [] as number[], json: [] as number[], summarize: [] as number[], summarizeJson: [] as number[] };
  let windows = 0;
  const window = async (logDir: string) => {
    const start = performance.now();
    const result = await withDuckDB(async (db) => {
      const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'flights', version: 1 });
      return analyseWindows(db, log.relation, baseline, { window: { kind: 'requests', size: ROWS } });
    });
    windows = result.length;
    if (result[0]!.rows !== ROWS) throw new Error(`the window has ${result[0]!.rows} rows, not ${ROWS}`);
    return performance.now() - start;
  };
  for (let r = 0; r < repeat; r++) {
    times.columnar.push(await window(logDirs.columnar));
    const start = performance.now();
    await withDuckDB((db) =>
      queryRows(db, `SUMMARIZE SELECT features.delay, features.distance, features.origin, features.destination, outputs.probability FROM read_parquet(${sqlString(join(logDirs.columnar, '*.parquet'))})`),
    );
    times.summarize.push(performance.now() - start);
    times.json.push(await window(logDirs.json));
    const startJson = performance.now();
    await withDuckDB((db) =>
      queryRows(db, `SUMMARIZE SELECT (features->>'delay')::BIGINT AS delay, (features->>'distance')::BIGINT AS distance, features->>'origin' AS origin,
        features->>'destination' AS destination, (outputs->>'probability')::DOUBLE AS probability FROM read_parquet(${sqlString(join(logDirs.json, '*.parquet'))})`),
    );
    times.summarizeJson.push(performance.now() - startJson);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const s = median(times.summarize);
  const line = (what: string, ms: number, goal: string) => console.log(`| ${what} | ${ms.toFixed(0)} | ${(ms / s).toFixed(2)} | ${goal} |`);
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')}; runs: ${JSON.stringify(times, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
  console.log(`| what | median ms | × SUMMARIZE | goal |`);
  console.log(`|---|---:|---:|---|`);
  line(`Loom window of ${ROWS.toLocaleString('en')} predictions (${windows} window), columnar log: stats + drift vs training + PCA`, median(times.columnar), '≤ 2,000 ms');
  line('the same window from a JSON-layout log (logs written before the columnar layout)', median(times.json), '');
  line('DuckDB SUMMARIZE of the same rows (columnar log)', s, 'reference');
  line('DuckDB SUMMARIZE of the same rows flattened from the JSON-layout log (the reference before)', median(times.summarizeJson), '');
} finally {
  await rm(dir, { recursive: true, force: true });
}
