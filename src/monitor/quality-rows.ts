/**
 * What online quality reads from the prediction log: every window's scores counted (CBPE
 * estimates from the scores alone, so the scored rows are not read one by one) and its
 * first and last logging time, then, read whole, only the rows whose label has arrived, with
 * their slice features. A request id logged more than once with a score has no label here:
 * its label cannot name one row.
 *
 * Labels live in the Loom database, not beside the log. They are joined in DuckDB from a
 * temporary table: the model's labels read whole when it has no more labels than the
 * window's log has rows (the usual case: a fraction of requests is ever labelled), else
 * those of the window's request ids, looked up in the label store.
 *
 * Usage: `const { labelled, windows } = await readQualityRows(db, relation, labels, { model, window, score, features })`
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { numberColumn, queryChunks, queryRows } from '../data/duckdb.js';
import { readWindowScoreCounts, type ScoreCounts } from './cbpe.js';
import type { LabelStore, LabelValue, StoredLabel } from './label-store.js';
import { scoreCountsFromProfiles, type LogProfiles, type TimeRange } from './log-profiles.js';
import type { QualityRows, ScoredWindow } from './quality.js';
import { windowKey, windowRange, type WindowSpec } from './windows.js';

export interface QualityRowsRequest {
  model: string;
  window: WindowSpec;
  /** SQL of each row's score over the log's columns (NULL when the row has none: left out). */
  score: string;
  /** SQL of each slice feature's value, by feature name. */
  features: Record<string, string>;
  /**
   * The log's profiles, given only when `score` is the output field `output` (of the logged
   * type `fieldType`) read as a DOUBLE: the windows they cover wholly get their scores counted
   * from them (the same counts), the others by a scan.
   */
  profiled?: { profiles: LogProfiles; output: string; fieldType: string };
}

/** A window with a scored row: its scores counted, and its earliest and latest logging time (epoch ms). */
export interface LoggedWindow extends ScoredWindow {
  start: number;
  end: number;
}

export interface LoggedQualityRows {
  /** The scored rows whose label has arrived and names them, in no set order. */
  labelled: QualityRows;
  /** Every window with a scored row, in time order. */
  windows: LoggedWindow[];
  /** Request ids logged more than once with a score. */
  multiRowRequests: number;
}

let tableCounter = 0;

/** The windows of the log's `relation` with their labelled rows. */
export async function readQualityRows(db: DuckDBConnection, relation: string, labels: LabelStore, request: QualityRowsRequest): Promise<LoggedQualityRows> {
  const names = Object.keys(request.features);
  // Request ids logged more than once with a score, found once (one hash of every id) and kept for the join.
  const duplicated = `__loom_duplicated_${tableCounter++}`;
  await db.run(`CREATE TEMP TABLE ${duplicated} AS SELECT request_id FROM (${relation}) GROUP BY request_id HAVING count(*) > 1 AND count(${request.score}) > 0`);
  const table = `__loom_labels_${tableCounter++}`;
  const numbered = `__loom_numbered_${tableCounter++}`;
  try {
    const [{ rows, multi }] = (await queryRows(db, `SELECT (SELECT count(*) FROM (${relation}))::DOUBLE AS rows, (SELECT count(*) FROM ${duplicated})::DOUBLE AS multi`)) as [{ rows: number; multi: number }];
    // The model's labels read whole when they are no more than the rows, else those of the window's ids; joined in DuckDB either way.
    const found = (await labels.countLabels(request.model)) <= rows ? await labels.labelValues(request.model) : await labelsOfWindow(db, relation, labels, request.model);
    await fillLabelTable(db, table, found);
    const columns = `logged_at, request_id, ${request.score} AS score${names.map((name, i) => `, ${request.features[name]} AS f${i}`).join('')}`;
    // Windows of N requests are runs of N rows in the log's total order, scored or not, numbered by the monitor's own
    // `windowKey` (so both split ties alike): one sort, needless when one window holds them all; time windows need no order
    // at all (their key is the row's own).
    const size = request.window.kind === 'requests' ? Math.max(1, Math.floor(request.window.size)) : 0;
    const inRuns = size > 0 && rows > size;
    if (inRuns) await db.run(`CREATE TEMP TABLE ${numbered} AS SELECT ${windowKey(request.window)} AS w, ${columns} FROM (${relation})`);
    const source = inRuns ? `SELECT * FROM ${numbered}` : `SELECT ${size > 0 ? '0' : windowKey(request.window)} AS w, ${columns} FROM (${relation})`;
    const scored = `SELECT * FROM (${source}) WHERE score IS NOT NULL AND w IS NOT NULL`;
    // Profiles serve hourly and daily windows and a single window of N requests (runs of N rows cut files anywhere).
    const range = request.profiled && !inRuns ? (key: number) => windowRange(request.window, key) : undefined;
    const counts = request.profiled && range ? { ...request.profiled, range } : undefined;
    return { labelled: await labelledRows(db, scored, table, duplicated, names), windows: await loggedWindows(db, scored, counts), multiRowRequests: multi };
  } finally {
    for (const name of [duplicated, table, numbered]) await db.run(`DROP TABLE IF EXISTS ${name}`);
  }
}

/** Where a window's scores may be counted from the profiles: its time range by its key. */
interface ProfiledScores {
  profiles: LogProfiles;
  output: string;
  fieldType: string;
  range: (key: number) => TimeRange;
}

/**
 * The windows of `scored` (rows with a window key `w`, a `score` and `logged_at`), in key
 * order, each with its scores counted: from the profiles where they cover the window, and
 * the rest in one scan of their rows.
 */
async function loggedWindows(db: DuckDBConnection, scored: string, profiled?: ProfiledScores): Promise<LoggedWindow[]> {
  const read = await queryChunks(db, `SELECT w::DOUBLE, min(epoch_ms(logged_at))::DOUBLE, max(epoch_ms(logged_at))::DOUBLE FROM (${scored}) GROUP BY w ORDER BY w`);
  const [keys, starts, ends] = [0, 1, 2].map((column) => numberColumn(read, column)) as [Float64Array, Float64Array, Float64Array];
  const counts = new Map<number, ScoreCounts>();
  if (profiled) {
    for (const key of keys) {
      const counted = await scoreCountsFromProfiles(db, profiled.profiles, profiled.range(key), profiled.output, profiled.fieldType);
      if (counted) counts.set(key, counted);
    }
  }
  const unserved = Array.from(keys).filter((key) => !counts.has(key));
  if (unserved.length > 0) {
    const rest = unserved.length === keys.length ? scored : `SELECT * FROM (${scored}) WHERE w IN (${unserved.join(', ')})`;
    for (const [key, counted] of await readWindowScoreCounts(db, rest, 'score', 'w')) counts.set(key, counted);
  }
  return Array.from(keys, (key, k) => ({ window: String(key), start: starts[k]!, end: ends[k]!, scores: counts.get(key)! }));
}

/** The rows of `scored` with a label in `table`, except those of a request id in `duplicated`: window, score, label and slice features. */
async function labelledRows(db: DuckDBConnection, scored: string, table: string, duplicated: string, names: string[]): Promise<QualityRows> {
  const read = await queryChunks(
    db,
    `SELECT __q.w::DOUBLE, __q.score::DOUBLE, __l.label::DOUBLE${names.map((_, i) => `, __q.f${i}`).join('')} FROM (${scored}) AS __q
       JOIN ${table} AS __l ON __l.request_id = __q.request_id LEFT JOIN ${duplicated} AS __d ON __d.request_id = __q.request_id
     WHERE __d.request_id IS NULL`,
  );
  const features = names.map(() => new Array<unknown>(read.rows));
  let offset = 0;
  for (const chunk of read.chunks) {
    for (let f = 0; f < names.length; f++) {
      const vector = chunk.getColumnVector(3 + f);
      for (let i = 0; i < chunk.rowCount; i++) features[f]![offset + i] = jsonScalar(vector.getItem(i));
    }
    offset += chunk.rowCount;
  }
  return {
    windows: Array.from(numberColumn(read, 0), String),
    scores: numberColumn(read, 1),
    labels: numberColumn(read, 2),
    features: Object.fromEntries(names.map((name, f) => [name, features[f]!])),
  };
}

/** The labels in a new temporary table `table` (request_id, label), appended in one go. */
async function fillLabelTable(db: DuckDBConnection, table: string, labels: readonly LabelValue[]): Promise<void> {
  await db.run(`CREATE TEMP TABLE ${table} (request_id VARCHAR, label DOUBLE)`);
  const appender = await db.createAppender(table);
  try {
    for (const label of labels) {
      appender.appendVarchar(label.requestId);
      appender.appendDouble(label.label);
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
}

/** The model's labels of the window's request ids (when the model has more labels than the window has rows). */
async function labelsOfWindow(db: DuckDBConnection, relation: string, labels: LabelStore, model: string): Promise<StoredLabel[]> {
  const ids = (await db.runAndReadAll(`SELECT DISTINCT request_id FROM (${relation})`)).getColumns()[0] ?? [];
  return [...(await labels.getLabels(ids.map(String))).values()].filter((label) => label.modelName === model);
}

/** A logged value as a number when it reads as one, else its text. */
function jsonScalar(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const text = String(value);
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : text;
}
