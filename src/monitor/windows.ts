/**
 * Monitoring windows over the prediction log: the logged rows cut into hourly or daily
 * windows (UTC), or into windows of N requests, each analysed with validation's own code:
 * - per-feature statistics (`statisticsWithValueCounts`, validate/statistics.ts), or the
 *   same from the log files' profiles when they cover the window wholly (log-profiles.ts);
 * - drift against the training statistics of the served version, by the schema's `skew`
 *   comparators (training against serving data, TFDV's skew), and against the previous
 *   window by its `drift` comparators (`compareStatistics`); numeric binned measures from
 *   exact bin counts of the rows on both sides whenever the rows are at hand (the window's
 *   always, the training split's when lineage finds it);
 * - prediction drift: each numeric output against the previous window (Jensen-Shannon on
 *   exact bins, as TFDV's default for numbers, and KS);
 * - the share of values outside the schema's domain (strings) or range (numbers);
 * - multivariate drift: reconstruction error after PCA fitted on the training rows
 *   (multivariate.ts).
 *
 * Usage: `const windows = await analyseWindows(db, log.relation, baseline, { window: { kind: 'hourly' } })`
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { silentProgress, type Progress } from '../core/progress.js';
import { queryRows, sqlIdent, sqlString } from '../data/duckdb.js';
import { compareFeature, compareStatistics, numericBinEdges, type ExactBinCounts, type FeatureComparison } from '../validate/drift.js';
import { discreteValueCounts, exactBinCounts, type BinnedColumn } from '../validate/exact-bins.js';
import type { Schema, SchemaFeature } from '../validate/schema.js';
import { statisticsWithValueCounts, type DatasetStatistics, type ValueCounts } from '../validate/statistics.js';
import { statisticsFromProfiles, type LogProfiles, type ProfiledColumn, type TimeRange } from './log-profiles.js';
import { loggedValue, numericOutputFields, structFieldsOf } from './logged-fields.js';
import { reconstructionDrops, reconstructionErrors, reconstructionModel, type ReconstructionModel } from './multivariate.js';
import type { FitScope } from './version-fits.js';

/** How the log is cut: by UTC hour or day of `logged_at`, or every `size` requests in time order. */
export type WindowSpec = { kind: 'hourly' } | { kind: 'daily' } | { kind: 'requests'; size: number };

/** The monitoring history's name for a window kind: 'hourly', 'daily' or 'requests:N'. */
export function windowKindName(window: WindowSpec): string {
  return window.kind === 'requests' ? `requests:${window.size}` : window.kind;
}

/** What windows are compared with: the served version's training statistics and schema. */
export interface MonitorBaseline {
  schema: Schema;
  /** Statistics of the training split. */
  statistics: DatasetStatistics;
  /** A SELECT over the training rows, for exact bin counts and the PCA fit; without it both fall back (sketch bounds, no PCA). */
  trainingRows?: string;
}

export interface WindowAnalysis {
  /** 0-based, in time order. */
  index: number;
  /** Epoch ms of the first and last row. */
  start: number;
  end: number;
  rows: number;
  statistics: DatasetStatistics;
  /** Against the training statistics (the schema's skew comparators). */
  training: FeatureComparison[];
  /** Against the previous window (the schema's drift comparators); empty for the first. */
  previous: FeatureComparison[];
  /** Each numeric output against the previous window. */
  prediction: FeatureComparison[];
  /** Per feature with a domain or range: the share of present values outside it. */
  outOfDomain: { feature: string; share: number; count: number }[];
  /** Mean reconstruction error and whether it is outside the training chunks' band. */
  multivariate?: { error: number; lower: number; upper: number; alert: boolean };
}

export interface AnalyseOptions {
  window: WindowSpec;
  progress?: Progress;
  /** The served version's kept fits (`versionFits.scope`): the PCA is fitted by its first analysis only. */
  fits?: FitScope;
  /** The log's profiles (`openLogProfiles`): windows they cover wholly get their statistics from them, without a scan. */
  profiles?: LogProfiles;
}

const TABLE_PREFIX = '__loom_window_rows_';
let tableCounter = 0;

/** Analyses every window of `relation` (the reader's); windows with no rows do not appear. */
export async function analyseWindows(db: DuckDBConnection, relation: string, baseline: MonitorBaseline, options: AnalyseOptions): Promise<WindowAnalysis[]> {
  const features = servedFeatures(baseline.schema);
  const table = `${TABLE_PREFIX}${tableCounter++}`;
  const structs = await structFieldsOf(db, relation, ['features', 'outputs']);
  const [featureFields, outputFields] = [structs.get('features'), structs.get('outputs')];
  const outputs = await numericOutputFields(db, relation, outputFields);
  const columns = [
    ...features.map((f) => `${loggedValue('features', featureFields, f.name, f.type)} AS ${sqlIdent(f.name)}`),
    ...outputs.map((name) => `${loggedValue('outputs', outputFields, name, 'FLOAT')} AS ${sqlIdent(outputColumn(name))}`),
  ];
  // Windows of N requests number the rows in time order: a sort of the whole log, needless
  // when all its rows fit in one window (every row's key is 0 then).
  // That count also gives the one window's bounds, so its key query is not needed.
  const bounds = options.window.kind === 'requests' ? await logBounds(db, relation, options.profiles) : undefined;
  const single = bounds !== undefined && options.window.kind === 'requests' && Number(bounds.n) <= options.window.size;
  const key = single ? '0::BIGINT' : windowKey(options.window);
  const model = baseline.trainingRows ? await reconstructionModel(db, baseline.trainingRows, features, baseline.statistics, options.fits) : undefined;
  // The windows' rows flattened once: every window's scans read typed columns, not JSON. One
  // window of a columnar log (no value parsed from JSON text) is read where it is instead, as a
  // subquery (not even a view: one statement less): its few scans of the Parquet columns cost
  // less than writing its rows into a table.
  const flattened = `SELECT ${key} AS __window, epoch_ms(logged_at) AS __at, ${columns.join(', ')} FROM (${relation})`;
  const inPlace = single && !columns.some((c) => c.includes('->>'));
  if (!inPlace) await db.run(`CREATE TEMP TABLE ${table} AS ${flattened}`);
  const source = inPlace ? `(${flattened})` : table;
  try {
    const keys = single ? (Number(bounds.n) > 0 ? [bounds] : []) : await queryRows(db, `SELECT __window AS w, min(__at) AS start, max(__at) AS end, count(*)::DOUBLE AS n FROM ${source} GROUP BY 1 ORDER BY 1`);
    const trainingBins = baseline.trainingRows ? await trainingColumns(db, `${table}_training`, baseline.trainingRows, features, keys.length) : undefined;
    // The training rows' integers of a small span counted once per version: every window bins them on its own edges without reading them.
    const binned = binnedFeatures(features).map((f) => f.name);
    const trainingValues = async () => (trainingBins ? discreteValueCounts(db, trainingBins, baseline.statistics, binned) : new Map<string, ValueCounts>());
    const trainingCounts = trainingBins && keys.length > 0 ? await (options.fits ? options.fits.get('training-value-counts', trainingValues) : trainingValues()) : undefined;
    // Profiles serve hourly and daily windows and a single window of N requests (windows of N requests cut files anywhere).
    const profiled: ProfiledColumn[] | undefined =
      options.profiles && featureFields && outputFields && (options.window.kind !== 'requests' || single)
        ? [
            ...features.map((f): ProfiledColumn => ({ col: 'features', field: f.name, type: f.type, fieldType: featureFields.get(f.name) })),
            ...outputs.map((name): ProfiledColumn => ({ col: 'outputs', field: name, type: 'FLOAT', fieldType: outputFields.get(name) })),
          ]
        : undefined;
    const task = (options.progress ?? silentProgress).start('analysing windows', keys.length, 'windows');
    const results: WindowAnalysis[] = [];
    let previousRows: string | undefined;
    let previousCounts: Map<string, ValueCounts> | undefined;
    for (const [index, row] of keys.entries()) {
      const rows = `SELECT * EXCLUDE (__window, __at) FROM ${source} WHERE __window = ${Number(row.w)}`;
      const featureRows = `SELECT ${features.map((f) => sqlIdent(f.name)).join(', ') || '1 AS none'} FROM (${rows})`;
      const range = profiled && windowRange(options.window, Number(row.w));
      const counted = range ? await statisticsFromProfiles(db, options.profiles!, range, rows, profiled, Number(row.n)) : undefined;
      const { statistics, valueCounts } = counted ?? (await statisticsWithValueCounts(db, `SELECT * FROM (${rows})`));
      const previous = results.at(-1);
      const exactTraining = trainingBins ? await exactBetween(db, featureRows, trainingBins, statistics, baseline.statistics, features, [valueCounts, trainingCounts]) : undefined;
      const exactPrevious = previous && previousRows ? await exactBetween(db, rows, previousRows, statistics, previous.statistics, features, [valueCounts, previousCounts]) : undefined;
      results.push({
        index,
        start: Number(row.start),
        end: Number(row.end),
        rows: Number(row.n),
        statistics,
        training: compareStatistics(statistics, baseline.statistics, baseline.schema, 'skew', 'SERVING', { exactBins: exactTraining }),
        previous: previous ? compareStatistics(statistics, previous.statistics, baseline.schema, 'drift', 'SERVING', { exactBins: exactPrevious }) : [],
        prediction: previous && previousRows ? await predictionDrift(db, rows, previousRows, statistics, previous.statistics, outputs, [valueCounts, previousCounts]) : [],
        outOfDomain: await outOfDomain(db, rows, features, statistics),
        ...(model && { multivariate: await windowReconstruction(db, rows, model) }),
      });
      previousRows = rows;
      previousCounts = valueCounts;
      task.advance(1);
    }
    task.done();
    return results;
  } finally {
    // Every drop in one call: each statement run is a round trip.
    await db.run([`DROP TABLE IF EXISTS ${table}`, `DROP TABLE IF EXISTS ${table}_training`, ...(model ? reconstructionDrops(model) : [])].join('; '));
  }
}

/**
 * The whole log's rows and first and last time, as a window key row (`w` 0): from the
 * profiles' group rows when they cover the log wholly, else by a scan of its `logged_at`.
 */
async function logBounds(db: DuckDBConnection, relation: string, profiles: LogProfiles | undefined): Promise<Record<string, DuckDBValue>> {
  const extent = await profiles?.extent(ALL_TIME);
  if (extent) return { w: 0, start: extent.start ?? null, end: extent.end ?? null, n: extent.rows };
  const [bounds] = await queryRows(db, `SELECT 0 AS w, epoch_ms(min(logged_at)) AS start, epoch_ms(max(logged_at)) AS end, count(*)::DOUBLE AS n FROM (${relation})`);
  return bounds!;
}

const ALL_TIME: TimeRange = { from: -Infinity, to: Infinity };

/** The times a window (its key: `windowKey`'s value) covers; all time for the single window of N requests. */
export function windowRange(window: WindowSpec, key: number): TimeRange {
  if (window.kind === 'requests') return ALL_TIME;
  return { from: key, to: key + (window.kind === 'hourly' ? 3_600_000 : 86_400_000) };
}

/** A row's window over the reader's relation, as SQL: the window's start (epoch ms), or its number for windows of N requests. */
export function windowKey(window: WindowSpec): string {
  // N held to an integer JS prints in digits: past 1e21 it prints as 1e+21, a DOUBLE to DuckDB, and `//` by a DOUBLE
  // does not round (every row its own window). No log holds more rows than the cap, so the windows are the same.
  return window.kind === 'requests'
    ? `((row_number() OVER (ORDER BY logged_at, request_id, role, model_name, model_version, protocol, latency_ms, features, outputs) - 1) // ${Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.floor(window.size)))})`
    : `epoch_ms(date_trunc('${window.kind === 'hourly' ? 'hour' : 'day'}', logged_at))`;
}

/** The schema's features a served model receives (not the label, nothing absent in SERVING). */
export function servedFeatures(schema: Schema): SchemaFeature[] {
  return schema.features.filter((f) => f.name !== schema.label && !f.notInEnvironment?.includes('SERVING'));
}

/** The name a numeric output gets among the window's columns (apart from features). */
export function outputColumn(name: string): string {
  return `output:${name}`;
}

/** Binned features (numbers with a drift or skew comparator): exact counts need their rows. */
function binnedFeatures(features: SchemaFeature[]): SchemaFeature[] {
  return features.filter((f) => (f.type === 'INT' || f.type === 'FLOAT' || f.type === 'BOOL') && (f.drift || f.skew));
}

/**
 * The training rows' binned columns, for the exact bin counts of every window: kept in a
 * table when several windows count them, read where they are for one (writing the rows
 * would cost more than the one scan).
 */
async function trainingColumns(db: DuckDBConnection, table: string, trainingRows: string, features: SchemaFeature[], windows: number): Promise<string> {
  const select = `SELECT ${binnedFeatures(features).map((f) => sqlIdent(f.name)).join(', ') || '1 AS none'} FROM (${trainingRows})`;
  if (windows <= 1) return select;
  await db.run(`CREATE TEMP TABLE ${table} AS ${select}`);
  return `SELECT * FROM ${table}`;
}

/** Exact [baseline, current] bin counts of every binned feature, on the edges the measures use; value counts at hand ([current, baseline]) spare their scans. */
async function exactBetween(
  db: DuckDBConnection,
  currentRows: string,
  baselineRows: string,
  current: DatasetStatistics,
  baseline: DatasetStatistics,
  features: SchemaFeature[],
  known: [Map<string, ValueCounts> | undefined, Map<string, ValueCounts> | undefined],
): Promise<ExactBinCounts> {
  const columns: BinnedColumn[] = [];
  for (const f of binnedFeatures(features)) {
    const a = current.features.find((s) => s.name === f.name);
    const b = baseline.features.find((s) => s.name === f.name);
    const edges = a && b ? numericBinEdges(a, b) : undefined;
    if (edges && edges.length > 2) columns.push({ name: f.name, type: a!.type, edges });
  }
  const [now, before] = [await exactBinCounts(db, currentRows, columns, known[0]), await exactBinCounts(db, baselineRows, columns, known[1])];
  return new Map(columns.map((c) => [c.name, [before.get(c.name)!, now.get(c.name)!]]));
}

/**
 * Each numeric output against the previous window, on exact bins: from the windows' value counts
 * where they hold the output's (`known`: [current, previous]; profiled windows hold every
 * number's), else by a scan of its rows.
 */
async function predictionDrift(
  db: DuckDBConnection,
  rows: string,
  previousRows: string,
  current: DatasetStatistics,
  previous: DatasetStatistics,
  outputs: string[],
  known: [Map<string, ValueCounts> | undefined, Map<string, ValueCounts> | undefined],
): Promise<FeatureComparison[]> {
  const comparisons: FeatureComparison[] = [];
  for (const output of outputs) {
    const name = outputColumn(output);
    const a = current.features.find((f) => f.name === name);
    const b = previous.features.find((f) => f.name === name);
    if (!a || !b) continue;
    const edges = numericBinEdges(a, b);
    let exact: [number[], number[]] | undefined;
    if (edges && edges.length > 2) {
      const column = [{ name, type: a.type, edges }];
      exact = [(await exactBinCounts(db, previousRows, column, known[1])).get(name)!, (await exactBinCounts(db, rows, column, known[0])).get(name)!];
    }
    for (const measure of ['jensen_shannon', 'ks'] as const) {
      const result = compareFeature(a, b, { measure }, exact);
      if (result) comparisons.push({ feature: output, kind: 'drift', ...result });
    }
  }
  return comparisons;
}

/**
 * Shares outside the schema's domain (strings) or range (numbers). A string's count comes
 * from the window's statistics when they list every value it took (its histogram is
 * complete), so only ranges and strings of more values than the histogram holds need a scan.
 */
async function outOfDomain(db: DuckDBConnection, rows: string, features: SchemaFeature[], statistics: DatasetStatistics): Promise<WindowAnalysis['outOfDomain']> {
  const checked = features.filter((f) => (f.type === 'STRING' && f.domain) || ((f.type === 'INT' || f.type === 'FLOAT') && f.range));
  const counted = new Map<string, { count: number; present: number }>();
  for (const f of checked) {
    const string = f.domain && f.domain.length > 0 ? statistics.features.find((s) => s.name === f.name)?.string : undefined;
    if (!string?.complete) continue;
    const domain = new Set(f.domain);
    const present = statistics.features.find((s) => s.name === f.name)!.count;
    counted.set(f.name, { count: string.rankHistogram.reduce((n, v) => n + (domain.has(v.value) ? 0 : v.count), 0), present });
  }
  const scanned = checked.filter((f) => !counted.has(f.name));
  if (scanned.length > 0) {
    const parts = scanned.flatMap((f, i) => {
      const c = sqlIdent(f.name);
      const outside = f.domain ? `${c} NOT IN (${f.domain.map(sqlString).join(', ') || 'NULL'})` : `(${c} < ${f.range!.min} OR ${c} > ${f.range!.max})`;
      return [`count_if(${outside})::DOUBLE AS o${i}`, `count(${c})::DOUBLE AS n${i}`];
    });
    const [row] = await queryRows(db, `SELECT ${parts.join(', ')} FROM (${rows})`);
    scanned.forEach((f, i) => counted.set(f.name, { count: Number(row![`o${i}`]), present: Number(row![`n${i}`]) }));
  }
  return checked.map((f) => {
    const { count, present } = counted.get(f.name)!;
    return { feature: f.name, count, share: present > 0 ? count / present : 0 };
  });
}

async function windowReconstruction(db: DuckDBConnection, rows: string, model: ReconstructionModel): Promise<NonNullable<WindowAnalysis['multivariate']>> {
  const [row] = await queryRows(db, `SELECT avg(e) AS e FROM (${reconstructionErrors(model, rows)})`);
  const error = Number(row!.e);
  return { error, lower: model.lower, upper: model.upper, alert: error < model.lower || error > model.upper };
}
