/**
 * Where one monitoring window's time goes (issue 13 goal: 1M logged predictions analysed in
 * at most 2 s; bench/monitor-window.ts measures the whole against its references). The same
 * window as there (flights February–April, the first 1M rows, in the prediction log's
 * columnar layout, ten files; January the training month), analysed `--repeat` times;
 * every DuckDB statement is timed and summed by phase, and the median of each phase is
 * printed. The statements are told apart by their text, so a phase renamed in the code
 * shows up as "other". Each repeat analyses the window twice with one fresh scope of kept
 * per-version fits (src/monitor/version-fits.ts): the first window of a version (PCA fitted)
 * and a later window of the same version (PCA kept), printed side by side. After each window,
 * its CBPE estimate's read (the window's scores counted), as bench/monitor-window.ts times it.
 * The log's files have their profiles (src/monitor/log-profile-write.ts), which both windows
 * read (statistics and scores from the summed counts); a third column gives the later window
 * without them (every row scanned). Each window reads the files through a new directory of
 * hard links, as bench/monitor-window.ts does, so the reader's check of the files is paid.
 *
 * Run: node --import tsx bench/monitor-window-phases.ts [--repeat 3] [--rows 1000000]
 */
import { link, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBConnection } from '@duckdb/node-api';
import { flightsParquetPath } from '../src/data/datasets.js';
import { readSource, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { withSharedDuckDB } from '../src/data/duckdb-shared.js';
import { estimateQualityOfCounts, type CbpeEstimator, readScoreCounts } from '../src/monitor/cbpe.js';
import { writeLogProfile } from '../src/monitor/log-profile-write.js';
import { openLogProfiles, scoreCountsFromProfiles } from '../src/monitor/log-profiles.js';
import { openPredictionLog } from '../src/monitor/prediction-log-reader.js';
import { VersionFits } from '../src/monitor/version-fits.js';
import { structFields } from '../src/monitor/logged-fields.js';
import { analyseWindows, type MonitorBaseline } from '../src/monitor/windows.js';
import { inferSchema } from '../src/validate/schema.js';
import { computeStatistics } from '../src/validate/statistics.js';

const { values: args } = parseArgs({ options: { repeat: { type: 'string', default: '3' }, rows: { type: 'string', default: '1000000' } } });
const repeat = Math.max(1, Number(args.repeat));
const rows = Number(args.rows);

const PHASES: [string, RegExp][] = [
  // Before the fit: the window's error also joins the fit's frequency tables.
  ['PCA reconstruction error of the window', /^SELECT avg\(e\) AS e/],
  ['PCA fit on January (500k rows)', /__loom_reconstruction|__loom_frequencies|AS chunk|^SELECT avg\(coalesce/],
  ['flatten + window key (a table; a view for one window)', /CREATE TEMP (TABLE|VIEW) __loom_window_rows_\d+ AS|^SELECT __window AS w|^SELECT count\(\*\)::DOUBLE AS n FROM|^SELECT 0 AS w, epoch_ms\(min/],
  ["statistics (validation's two queries)", /GROUPING\(g0\)|AS row_count FROM __loom_stats_/],
  // The training rows' value counts (GROUPING(v0)) are counted by a version's first window only.
  ['exact bins, window + training', /GROUPING\(b0\)|GROUPING\(k0\)|GROUPING\(v0\)|_training AS/],
  // After the window, as bench/monitor-window.ts times it: readScoreCounts (src/monitor/cbpe.ts).
  ['CBPE estimate (the scores counted)', /^SELECT (count\(\*\)::DOUBLE AS n, approx_count_distinct|w, s|s FROM \(SELECT w, s)|^SELECT v, sum\(n\)::DOUBLE AS n FROM/],
  // The reader's check that every file not known readable is (prediction-log-reader.ts readProblem).
  ['reader: files checked readable', /^SELECT count\(\*\), max\((hash\()?logged_at\)?\) FROM read_parquet/],
  // Profiles loaded and checked, and the statistics' queries on their summed counts.
  ['profiles (loaded, checked; statistics from the summed counts)', /__loom_log_profiles_|__loom_stats_counts_|parquet_file_metadata|\.profile'/],
];

// Every statement goes through `run` (runAndReadAll calls it): time each one.
const timed: [number, string][] = [];
const proto = DuckDBConnection.prototype as unknown as { run(sql: string, ...rest: unknown[]): Promise<unknown> };
const run = proto.run;
proto.run = async function (this: DuckDBConnection, sql: string, ...rest: unknown[]) {
  const start = performance.now();
  try {
    return await run.call(this, sql, ...rest);
  } finally {
    timed.push([performance.now() - start, sql.trim()]);
  }
};

const dir = await mkdtemp(join(tmpdir(), 'loom-bench-monitor-phases-'));
try {
  const flights = sqlString(flightsParquetPath());
  const train = join(dir, 'train.parquet');
  const logDir = join(dir, 'columnar');
  await mkdir(logDir);
  await withDuckDB(async (db) => {
    await db.run(`COPY (SELECT delay, distance, origin, destination FROM read_parquet(${flights}) WHERE month(date) = 1) TO ${sqlString(train)} (FORMAT PARQUET)`);
    await db.run(`CREATE TABLE log AS SELECT row_number() OVER () AS i, * FROM (SELECT delay, distance, origin, destination FROM read_parquet(${flights}) WHERE month(date) IN (2, 3, 4) LIMIT ${rows})`);
    for (let f = 0; f < 10; f++) {
      await db.run(`COPY (SELECT 'r' || i AS request_id, 'flights' AS model_name, 1 AS model_version, 'primary' AS role, 'v2' AS protocol,
          {delay: delay, distance: distance, origin: origin, destination: destination} AS features,
          {probability: 1 / (1 + exp(-(distance - 1000) / 500))} AS outputs, 0.5 AS latency_ms, epoch_ms(1767225600000 + i * 10) AS logged_at
        FROM log WHERE (i - 1) * 10 // ${rows} = ${f}) TO ${sqlString(join(logDir, `predictions-${f}.parquet`))} (FORMAT PARQUET)`);
      await writeLogProfile(db, join(logDir, `predictions-${f}.parquet`));
    }
  });
  const statistics = await computeStatistics(train);
  const baseline: MonitorBaseline = { schema: inferSchema(statistics), statistics, trainingRows: `SELECT * FROM ${readSource(train)}` };
  // The estimate's cost is the scores' read; any threshold, no calibration, does for timing it.
  const estimator: CbpeEstimator = { threshold: 0.5, referenceRows: 0 };
  const runs: Map<string, number>[] = [];
  const later: Map<string, number>[] = [];
  const scanned: Map<string, number>[] = [];
  let links = 0;
  for (let r = 0; r < repeat; r++) {
    const fits = new VersionFits().scope('bench', 'flights', String(r));
    for (const into of [runs, later, scanned]) {
      // The log's files through a new directory of hard links, as bench/monitor-window.ts reads them: new files to this
      // process, as a real later window's are, so the reader checks them (nothing it learnt about them before serves it).
      const linked = join(dir, `links-${links++}`);
      await mkdir(linked);
      for (const name of await readdir(logDir)) await link(join(logDir, name), join(linked, name));
      timed.length = 0;
      const start = performance.now();
      // The process's engine, as `monitorVersion` runs a window (src/data/duckdb-shared.ts).
      await withSharedDuckDB(async (db) => {
        const log = await openPredictionLog(db, { kind: 'parquet', dir: linked }, { model: 'flights', version: 1 });
        const profiles = into === scanned ? undefined : await openLogProfiles(db, log);
        const [window] = await analyseWindows(db, log.relation, baseline, { window: { kind: 'requests', size: rows }, fits, ...(profiles && { profiles }) });
        if (window?.rows !== rows) throw new Error(`the window has ${window?.rows} rows, not ${rows}`);
        const fieldType = (await structFields(db, log.relation, 'outputs'))?.get('probability');
        const counted = profiles && (await scoreCountsFromProfiles(db, profiles, { from: -Infinity, to: Infinity }, 'probability', fieldType));
        if (profiles && !counted) throw new Error('the profiles did not serve the scores');
        await profiles?.close();
        const estimate = estimateQualityOfCounts(estimator, counted ?? (await readScoreCounts(db, log.relation, 'outputs.probability')));
        if (estimate.rows !== rows) throw new Error(`the estimate has ${estimate.rows} rows, not ${rows}`);
      });
      const phases = new Map<string, number>([...PHASES.map(([name]): [string, number] => [name, 0]), ['other (reading the log, small queries)', 0]]);
      for (const [ms, sql] of timed) {
        const name = PHASES.find(([, pattern]) => pattern.test(sql))?.[0] ?? 'other (reading the log, small queries)';
        phases.set(name, phases.get(name)! + ms);
      }
      phases.set('**total** (the window + estimate, end to end)', performance.now() - start);
      into.push(phases);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')}`);
  console.log(`| phase (${rows.toLocaleString('en')} rows, median of ${repeat}) | first window of a version, ms | later window (fits kept), ms | later window without profiles, ms |`);
  console.log('|---|---:|---:|---:|');
  for (const name of runs[0]!.keys()) console.log(`| ${name} | ${[runs, later, scanned].map((of) => median(of.map((p) => p.get(name)!)).toFixed(0)).join(' | ')} |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
