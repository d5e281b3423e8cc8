/**
 * One monitoring window of 1M logged predictions analysed, Loom beside Evidently, NannyML and
 * TFDV on the same rows, in the same run (issue 13). Goals: Loom's window in at most 2 s, and
 * at least 20× faster than Evidently's `DataDriftPreset`, 5× faster than NannyML's univariate
 * drift + CBPE and than TFDV's statistics + validation.
 *
 * Loom, phase by phase: the training month's statistics (computeStatistics; stored by the
 * pipeline in production, timed here because every reference computes its own), the window
 * (src/monitor/windows.ts: the Parquet prediction log read, statistics of every feature and
 * output, drift of every feature against the training rows with exact bins by the schema's
 * comparators, out-of-domain shares, PCA reconstruction error fitted on the training month),
 * and estimated quality (CBPE, src/monitor/cbpe.ts: fitted on the training month's scores and
 * labels, estimated on the window's scores, both read from their files). The per-version fits
 * (the PCA of the window's multivariate drift, CBPE's calibration) are kept by the version's
 * first window and reused by its later ones (src/monitor/version-fits.ts): each repeat
 * analyses the window twice with a fresh scope, so the table gives the first window (fits
 * included) and a later window of the same version (fits kept) from the same run; then once
 * more with a new `VersionFits` over the same fit store (a SQLite file, src/monitor/fit-store.ts),
 * as a new process (a `loom monitor` call, a restarted server) loads the first window's fits.
 * The windows of one process run on its DuckDB engine (src/data/duckdb-shared.ts, as
 * `monitorVersion` runs them); the new process's window on a new engine, whose start is
 * not timed (its first statements' planning is). Each of these windows reads the log's files through a new directory of hard links, so to the
 * process they are files it has not seen (as a real later window's are): the log reader's
 * memory of files already found readable does not spare a later window its check.
 *
 * The log is flights February–April (the first N rows) in the prediction log's columnar file
 * layout (ten files, as `loom serve` rotates them; features and outputs as STRUCTs), written
 * by DuckDB directly, each with its profile written by the log writer's own call
 * (`writeLogProfile`, src/monitor/log-profile-write.ts; timed: "profile at rotation, per
 * file"). Loom's windows read the profiles (the window's statistics and the CBPE scores from
 * their summed counts); a later window is also analysed without them (every row scanned), and
 * the table gives the references' ratio to both; the reference is January (the training month; at --rows below 1M, its
 * first rows in the same proportion) with the model's score (a logistic curve of distance)
 * and the label (arrival delay over 15 minutes). The Python side (bench/python/monitor_reference.py)
 * reads the same log files and the same reference rows; its figure includes its Parquet read,
 * as Loom's does, but not its imports (Loom's modules are loaded before its clock starts too).
 * Each tool runs in a fresh process per repeat; runs interleave Loom, the references and
 * DuckDB's SUMMARIZE of the window's rows (a yardstick of the machine's load).
 *
 * The Python venvs (.venv-bench-monitor: Evidently + NannyML; .venv-bench-tfdv: TFDV, which
 * needs pandas 1 and TensorFlow) are created by pip on first use, from
 * python/requirements-bench-*.txt; LOOM_BENCH_MONITOR_PYTHON / LOOM_BENCH_TFDV_PYTHON name
 * other interpreters.
 *
 * Run: node --import tsx bench/monitor-window.ts [--repeat 3] [--rows 1000000] [--tools evidently,nannyml,tfdv] [--json-layout]
 */
import { spawnSync } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error plain ESM script without types
import { ensurePythonEnv } from '../scripts/python.mjs';
import { flightsParquetPath } from '../src/data/datasets.js';
import { numberColumn, queryChunks, queryRows, readSource, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { withSharedDuckDB } from '../src/data/duckdb-shared.js';
import { estimateQualityOfCounts, fitCbpe, readScoreCounts } from '../src/monitor/cbpe.js';
import { KyselyFitStore } from '../src/monitor/fit-store.js';
import { CBPE_FIT } from '../src/monitor/fit-store-formats.js';
import type { MonitorFitTables } from '../src/monitor/fit-store-tables.js';
import { writeLogProfile } from '../src/monitor/log-profile-write.js';
import { openLogProfiles, scoreCountsFromProfiles } from '../src/monitor/log-profiles.js';
import { openPredictionLog } from '../src/monitor/prediction-log-reader.js';
import { openDatabaseUrl } from '../src/platform/backends.js';
import type { Kysely } from 'kysely';
import { VersionFits, type FitScope } from '../src/monitor/version-fits.js';
import { structFields } from '../src/monitor/logged-fields.js';
import { analyseWindows, type MonitorBaseline } from '../src/monitor/windows.js';
import { inferSchema } from '../src/validate/schema.js';
import { computeStatistics } from '../src/validate/statistics.js';

const TOOLS = ['evidently', 'nannyml', 'tfdv'] as const;
type Tool = (typeof TOOLS)[number];
/** Goal: Loom at least this many times faster (issue 13). */
const GOALS: Record<Tool, number> = { evidently: 20, nannyml: 5, tfdv: 5 };
const NAMES: Record<Tool, string> = {
  evidently: 'Evidently `Report([DataDriftPreset()])`, 4 features',
  nannyml: 'NannyML `UnivariateDriftCalculator` (4 features) + `CBPE` (AUC, accuracy, precision, recall, F1)',
  tfdv: 'TFDV `generate_statistics_from_dataframe` ×2 + `infer_schema` + `validate_statistics` (skew comparators)',
};
const THRESHOLD = 0.5;
const FULL = 1_000_000;

const { values: args } = parseArgs({
  options: { repeat: { type: 'string', default: '3' }, rows: { type: 'string', default: String(FULL) }, tools: { type: 'string', default: TOOLS.join(',') }, 'json-layout': { type: 'boolean', default: false } },
});
const repeat = Math.max(1, Number(args.repeat));
const ROWS = Number(args.rows);
if (!Number.isInteger(ROWS) || ROWS < 1000 || ROWS > 2_000_000) throw new Error(`--rows ${args.rows}: give a whole number from 1000 to 2000000`);
const tools = args.tools.split(',').filter(Boolean) as Tool[];
for (const t of tools) if (!TOOLS.includes(t)) throw new Error(`--tools: unknown tool "${t}"; use some of ${TOOLS.join(',')}`);

// Created (by pip) before anything is timed; never during a run.
const pythons: Partial<Record<Tool, string>> = {};
if (tools.includes('evidently') || tools.includes('nannyml')) {
  const python = ensurePythonEnv({ venv: '.venv-bench-monitor', requirements: 'python/requirements-bench-monitor.txt', override: 'LOOM_BENCH_MONITOR_PYTHON' });
  pythons.evidently = pythons.nannyml = python as string;
}
if (tools.includes('tfdv')) pythons.tfdv = <string>ensurePythonEnv({ venv: '.venv-bench-tfdv', requirements: 'python/requirements-bench-tfdv.txt', override: 'LOOM_BENCH_TFDV_PYTHON' });

/** Loom's phases, ms. */
interface Phases {
  training: number;
  /** CBPE fitted on the reference's scores and labels (per model version, like the training statistics; ~0 when kept). */
  fit: number;
  window: number;
  cbpe: number;
}

interface ReferenceRun {
  version: string;
  rows: number;
  referenceRows: number;
  importMs: number;
  readMs: number;
  computeMs: number;
  totalMs: number;
  /** A later window: the window's read and the tool's per-window phase (its reference side fitted and kept). */
  windowMs: number;
  phases: { reference: number; window: number };
  [result: string]: unknown;
}

const dir = await mkdtemp(join(tmpdir(), 'loom-bench-monitor-'));
try {
  const flights = sqlString(flightsParquetPath());
  const train = join(dir, 'train.parquet');
  const reference = join(dir, 'reference.parquet');
  const logDirs = { columnar: join(dir, 'columnar'), json: join(dir, 'json') };
  const layouts = args['json-layout'] ? (['columnar', 'json'] as const) : (['columnar'] as const);
  let referenceRows = 0;
  /** Each columnar file's profile, written as the log's writer writes it at rotation (ms per file). */
  const profileMs: number[] = [];
  const score = (distance: string) => `1 / (1 + exp(-(${distance} - 1000) / 500))`;
  await withDuckDB(async (db) => {
    const january = `FROM read_parquet(${flights}) WHERE month(date) = 1`;
    const [{ n }] = (await queryRows(db, `SELECT count(*)::DOUBLE AS n ${january}`)) as [{ n: number }];
    referenceRows = Math.min(n, Math.round((n * ROWS) / FULL));
    await db.run(`COPY (SELECT delay, distance, origin, destination, ${score('distance')} AS probability, (delay > 15)::BIGINT AS label
      ${january} LIMIT ${referenceRows}) TO ${sqlString(reference)} (FORMAT PARQUET)`);
    await db.run(`COPY (SELECT delay, distance, origin, destination FROM read_parquet(${sqlString(reference)})) TO ${sqlString(train)} (FORMAT PARQUET)`);
    await db.run(`CREATE TABLE log AS SELECT row_number() OVER () AS i, * FROM (SELECT delay, distance, origin, destination FROM read_parquet(${flights}) WHERE month(date) IN (2, 3, 4) LIMIT ${ROWS})`);
    const perFile = Math.ceil(ROWS / 10);
    for (const layout of layouts) {
      await mkdir(logDirs[layout]);
      // The writer's columns: features and outputs as STRUCTs (columnar) or JSON objects, logged_at a timestamp.
      const object = layout === 'json' ? 'to_json' : '';
      for (let f = 0; f < 10; f++) {
        await db.run(`COPY (SELECT 'r' || i AS request_id, 'flights' AS model_name, 1 AS model_version, 'primary' AS role, 'v2' AS protocol,
            ${object}({delay: delay, distance: distance, origin: origin, destination: destination}) AS features,
            ${object}({probability: ${score('distance')}}) AS outputs, 0.5 AS latency_ms,
            epoch_ms(1767225600000 + i * 10) AS logged_at
          FROM log WHERE (i - 1) // ${perFile} = ${f}) TO ${sqlString(join(logDirs[layout], `predictions-${f}.parquet`))} (FORMAT PARQUET)`);
        if (layout === 'columnar') {
          // The writer's own call (src/serve/prediction-log-parquet.ts), on a connection like its worker's: one thread.
          const start = performance.now();
          await withDuckDB((one) => writeLogProfile(one, join(logDirs[layout], `predictions-${f}.parquet`)), { threads: 1 });
          profileMs.push(performance.now() - start);
        }
      }
    }
  });

  let estimates: Record<string, number> = {};
  /** Loom from the files: training statistics, the window, CBPE; each phase timed. `fits`: the version's kept fits; `profiles`: read the files' profiles (else scan every row). */
  const loom = async (logDir: string, fits: FitScope, profiles = true, json = false, engine: 'process' | 'new' = 'process'): Promise<Phases> => {
    const phases: Phases = { training: 0, fit: 0, window: 0, cbpe: 0 };
    let start = performance.now();
    const statistics = await computeStatistics(train);
    const baseline: MonitorBaseline = { schema: inferSchema(statistics), statistics, trainingRows: `SELECT * FROM ${readSource(train)}` };
    phases.training = performance.now() - start;
    // The process's engine, as `monitorVersion` runs a window (a server's passes share it); a new one for a new process.
    await (engine === 'process' ? withSharedDuckDB : withDuckDB)(async (db) => {
      start = performance.now();
      const estimator = await fits.get('cbpe', async () => {
        // Read straight into typed arrays (Loom's chunk reader), without a JS value per cell.
        const ref = await queryChunks(db, `SELECT probability::DOUBLE, label::DOUBLE FROM read_parquet(${sqlString(reference)})`);
        return fitCbpe(numberColumn(ref, 0), numberColumn(ref, 1), { threshold: THRESHOLD });
      }, CBPE_FIT);
      phases.fit = performance.now() - start;
      start = performance.now();
      const log = await openPredictionLog(db, { kind: 'parquet', dir: logDir }, { model: 'flights', version: 1 });
      const profiled = profiles ? await openLogProfiles(db, log) : undefined;
      try {
        const result = await analyseWindows(db, log.relation, baseline, { window: { kind: 'requests', size: ROWS }, fits, ...(profiled && { profiles: profiled }) });
        if (result.length !== 1 || result[0]!.rows !== ROWS) throw new Error(`expected one window of ${ROWS} rows, got ${result.map((w) => w.rows).join(', ')}`);
        phases.window = performance.now() - start;
        start = performance.now();
        const field = json ? `(outputs ->> 'probability')::DOUBLE` : 'outputs.probability';
        // From the profiles (summed counts), else DuckDB groups the window's scores: only distinct scores and their counts are read into JS.
        const fieldType = profiled && (await structFields(db, log.relation, 'outputs'))?.get('probability');
        const counted = profiled && (await scoreCountsFromProfiles(db, profiled, { from: -Infinity, to: Infinity }, 'probability', fieldType ?? undefined));
        const estimate = estimateQualityOfCounts(estimator, counted ?? (await readScoreCounts(db, log.relation, field)));
        if (estimate.rows !== ROWS || !(estimate.auc > 0)) throw new Error(`CBPE estimated nothing: ${JSON.stringify(estimate)}`);
        phases.cbpe = performance.now() - start;
        estimates = estimate;
      } finally {
        await profiled?.close();
        await log.close();
      }
    });
    return phases;
  };

  const python = (tool: Tool): ReferenceRun => {
    const run = spawnSync(pythons[tool]!, ['bench/python/monitor_reference.py', '--tool', tool, '--log', logDirs.columnar, '--reference', reference, '--threshold', String(THRESHOLD)], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', PYTHONWARNINGS: 'ignore' },
    });
    if (run.status !== 0) throw new Error(`${tool} failed (exit ${run.status ?? run.signal}):\n${run.stderr.slice(-4000)}`);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ReferenceRun;
    if (result.rows !== ROWS) throw new Error(`${tool} read ${result.rows} rows, not ${ROWS}`);
    return result;
  };
  let links = 0;
  /** A new directory holding hard links to `logDir`'s files (the log's Parquet files and their profiles). */
  const freshLinks = async (logDir: string): Promise<string> => {
    const linked = join(dir, `links-${links++}`);
    await mkdir(linked);
    for (const name of await readdir(logDir)) await link(join(logDir, name), join(linked, name));
    return linked;
  };
  const summarize = async () => {
    const start = performance.now();
    await withDuckDB((db) =>
      queryRows(db, `SUMMARIZE SELECT features.delay, features.distance, features.origin, features.destination, outputs.probability FROM read_parquet(${sqlString(join(logDirs.columnar, '*.parquet'))})`),
    );
    return performance.now() - start;
  };

  const runs = { loom: [] as Phases[], later: [] as Phases[], scanned: [] as Phases[], stored: [] as Phases[], json: [] as Phases[], summarize: [] as number[] };
  const fitDb = await openDatabaseUrl(`sqlite:${join(dir, 'fits.db')}`);
  const fitStore = new KyselyFitStore(fitDb.db as Kysely<MonitorFitTables>);
  const references: Partial<Record<Tool, ReferenceRun[]>> = {};
  const loads: number[] = [];
  for (let r = 0; r < repeat; r++) {
    // A fresh version's scope each repeat: its first window fits, the next one reuses.
    const fits = new VersionFits().scope('bench', 'flights', String(r), fitStore);
    // Each window reads the log's files through a directory of its own (hard links, made before the clock starts): to this
    // process they are new files, as a real later window's are, so nothing it learnt about the files before serves it.
    runs.loom.push(await loom(await freshLinks(logDirs.columnar), fits));
    runs.later.push(await loom(await freshLinks(logDirs.columnar), fits));
    runs.scanned.push(await loom(await freshLinks(logDirs.columnar), fits, false));
    runs.stored.push(await loom(await freshLinks(logDirs.columnar), new VersionFits().scope('bench', 'flights', String(r), fitStore), true, false, 'new'));
    for (const tool of tools) (references[tool] ??= []).push(python(tool));
    runs.summarize.push(await summarize());
    if (args['json-layout']) runs.json.push(await loom(await freshLinks(logDirs.json), new VersionFits().scope('bench', 'flights', `json ${r}`), true, true));
    loads.push(loadavg()[0]!);
    console.error(`run ${r + 1}/${repeat} done, load ${loadavg()[0]!.toFixed(1)}`);
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const total = (p: Phases) => p.training + p.fit + p.window + p.cbpe;
  const loomTotal = median(runs.loom.map(total));
  const fmt = (ms: number) => Math.round(ms).toLocaleString('en');
  const summary = (xs: object[]) => JSON.stringify(xs, (_k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v));
  console.log(`rows: window ${ROWS.toLocaleString('en')}, reference ${referenceRows.toLocaleString('en')}; repeat ${repeat}; load average (1 min) after each run: ${loads.map((l) => l.toFixed(1)).join(', ')}`);
  console.log(`Loom runs (ms), first window: ${summary(runs.loom)}; later window: ${summary(runs.later)}; later window scanned: ${summary(runs.scanned)}; new process, fits stored: ${summary(runs.stored)}; Loom CBPE estimate (compare NannyML's): ${summary([estimates])}`);
  for (const tool of tools) {
    const { importMs: _i, ...rest } = references[tool]![0]!;
    console.log(`${tool} runs (total ms): ${references[tool]!.map((x) => Math.round(x.totalMs)).join(', ')}; first run: ${summary([rest])}`);
  }
  console.log('');
  const laterTotal = median(runs.later.map((p) => p.window + p.cbpe));
  const scannedTotal = median(runs.scanned.map((p) => p.window + p.cbpe));
  console.log(`profile at rotation, per file (${profileMs.length} files of ${Math.ceil(ROWS / 10).toLocaleString('en')} rows, one DuckDB thread as the log's worker): median ${median(profileMs).toFixed(1)} ms (${profileMs.map((ms) => ms.toFixed(0)).join(', ')})`);
  console.log('');
  console.log(`| what | median ms (read + compute) | compute only | × Loom, first window | a later window, ms | × Loom, later window (from profiles) | × Loom, later window scanned (no profiles) | goal (on the later window from profiles) |`);
  console.log(`|---|---:|---:|---:|---:|---:|---:|---|`);
  const phase = (k: keyof Phases, of = runs.loom) => median(of.map((p) => p[k]));
  const row = (cells: (string | number)[]) => console.log(`| ${cells.map((c) => (typeof c === 'number' ? fmt(c) : c)).join(' | ')} |`);
  row(['**Loom**, first window of a version, from the files and their profiles: training statistics + CBPE fit + window (PCA fit included) + CBPE estimate', `**${fmt(loomTotal)}**`, '', '1.00', `**${fmt(laterTotal)}**`, '1.00', '', '']);
  row(['… profile at rotation, per file (the log\'s worker, at rotation: not in any window\'s time)', median(profileMs), '', '', '', '', '', '']);
  row(["… training month's statistics (stored by the pipeline in production: not counted in a later window)", phase('training'), '', '', '—', '', '']);
  row(["… CBPE fitted on the reference's scores and labels, read (per model version; kept: a lookup)", phase('fit'), '', '', phase('fit', runs.later), '', '']);
  row(['… the window: log read, statistics, drift of 4 features vs training (exact bins), out-of-domain, PCA error (PCA fitted, then kept)', phase('window'), '', '', phase('window', runs.later), '', '']);
  row(["… CBPE estimate from the window's scores (DuckDB groups them: distinct scores and counts read)", phase('cbpe'), '', '', phase('cbpe', runs.later), '', '']);
  row(['… window + CBPE estimate (the 2 s goal is the later window\'s)', median(runs.loom.map((p) => p.window + p.cbpe)), '', '', laterTotal, '', '', `≤ 2,000 ms (${laterTotal <= 2000 ? 'met' : 'not met'})`]);
  row(['**Loom, a later window without profiles** (every row scanned, as before profiles): window + CBPE estimate', '', '', '', scannedTotal, '', '1.00', '']);
  row(['… the window', '', '', '', phase('window', runs.scanned), '', '', '']);
  row(['… CBPE estimate', '', '', '', phase('cbpe', runs.scanned), '', '', '']);
  row(['**Loom, first window in a new process, fits stored** (PCA and CBPE read from the fit store): window + CBPE estimate', '', '', '', median(runs.stored.map((p) => p.window + p.cbpe)), '', '', '']);
  row(['… CBPE fit (stored: read and validated)', '', '', '', phase('fit', runs.stored), '', '', '']);
  for (const tool of tools) {
    const xs = references[tool]!;
    const t = median(xs.map((x) => x.totalMs));
    const later = median(xs.map((x) => x.windowMs));
    const [first, kept, scanned] = [t / loomTotal, later / laterTotal, later / scannedTotal];
    const verdict = (ratio: number) => (ratio >= GOALS[tool] ? 'met' : 'not met');
    row([`${NAMES[tool]} ${xs[0]!.version}`, t, median(xs.map((x) => x.computeMs)), `**${first.toFixed(1)}×**`, later, `**${kept.toFixed(1)}×**`, `${scanned.toFixed(1)}×`, `≥ ${GOALS[tool]}× (first: ${verdict(first)}; later: ${verdict(kept)}; later scanned: ${verdict(scanned)})`]);
  }
  console.log(`| DuckDB SUMMARIZE of the window's rows (yardstick) | ${fmt(median(runs.summarize))} | | ${(median(runs.summarize) / loomTotal).toFixed(2)}× | | ${(median(runs.summarize) / laterTotal).toFixed(2)}× | ${(median(runs.summarize) / scannedTotal).toFixed(2)}× | |`);
  if (args['json-layout']) console.log(`| Loom, the same from a JSON-layout log (written before the columnar layout; no profiles) | ${fmt(median(runs.json.map(total)))} | | | | | | |`);
  await fitDb.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
