/**
 * The rows online quality reads from the prediction log, as columns: each row's window,
 * logging time, score, label (NaN while none has arrived, and for a request id logged more
 * than once with a score: its label cannot name one row) and slice features (null on rows
 * without a label: slices are measured on labelled rows only, so the others' are not read).
 *
 * Labels live in the Loom database, not beside the log. They are joined in DuckDB from a
 * temporary table: the model's labels read whole when it has no more labels than the
 * window's log has rows (the usual case: a fraction of requests is ever labelled), else
 * those of the window's request ids, looked up in the label store.
 *
 * Usage: `const rows = await readQualityRows(db, relation, labels, { model, window, score, features })`
 */
import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBVector } from '@duckdb/node-api';
import { queryRows } from '../data/duckdb.js';
import type { LabelStore, LabelValue, StoredLabel } from './label-store.js';
import type { QualityRows } from './quality.js';
import { windowKey, type WindowSpec } from './windows.js';

export interface QualityRowsRequest {
  model: string;
  window: WindowSpec;
  /** SQL of each row's score over the log's columns (NULL when the row has none: left out). */
  score: string;
  /** SQL of each slice feature's value, by feature name. */
  features: Record<string, string>;
}

export interface LoggedQualityRows {
  rows: QualityRows;
  /** Each row's logging time, epoch ms. */
  at: Float64Array;
  /** Request ids logged more than once with a score. */
  multiRowRequests: number;
}

let tableCounter = 0;

/** A SQL value as a DOUBLE, NaN where it is NULL. */
function orNaN(sql: string): string {
  return `coalesce((${sql})::DOUBLE, 'NaN'::DOUBLE)`;
}

/** The scored rows of the log's `relation`, grouped by window in time order (rows within a window in no set order), with their labels. */
export async function readQualityRows(db: DuckDBConnection, relation: string, labels: LabelStore, request: QualityRowsRequest): Promise<LoggedQualityRows> {
  const names = Object.keys(request.features);
  // Request ids logged more than once with a score, found once (one hash of every id) and kept for the join.
  const duplicated = `__loom_duplicated_${tableCounter++}`;
  await db.run(`CREATE TEMP TABLE ${duplicated} AS SELECT request_id FROM (${relation}) GROUP BY request_id HAVING count(*) > 1 AND count(${request.score}) > 0`);
  const table = `__loom_labels_${tableCounter++}`;
  try {
    const [{ rows, multi }] = (await queryRows(db, `SELECT (SELECT count(*) FROM (${relation}))::DOUBLE AS rows, (SELECT count(*) FROM ${duplicated})::DOUBLE AS multi`)) as [{ rows: number; multi: number }];
    // The model's labels read whole when they are no more than the rows, else those of the window's ids; joined in DuckDB either way.
    const found = (await labels.countLabels(request.model)) <= rows ? await labels.labelValues(request.model) : await labelsOfWindow(db, relation, labels, request.model);
    await fillLabelTable(db, table, found);
    // Windows of N requests number the rows in time order, a sort needless when one window holds them all; time windows need no order at all (their key is the row's own).
    const size = request.window.kind === 'requests' ? Math.max(1, Math.floor(request.window.size)) : 0;
    const numbered = size > 0 && rows > size;
    const key = size > 0 ? '0' : windowKey(request.window);
    // Slices are measured on labelled rows only: the others' feature values are never read.
    const features = names.map((name, i) => `, CASE WHEN label IS NOT NULL THEN ${request.features[name]} END AS f${i}`).join('');
    // Missing numbers come as NaN, not NULL: a column without NULLs is read without a per-value validity check.
    const result = await db.run(
      `SELECT ${orNaN(`CASE WHEN score IS NOT NULL THEN ${key} END`)} AS w, epoch_ms(logged_at)::DOUBLE AS logged_ms, ${orNaN('score')} AS score, ${orNaN('label')} AS label${features} FROM (
         SELECT __q.*, CASE WHEN __d.request_id IS NULL THEN __l.label END AS label FROM (
           SELECT *, ${request.score} AS score FROM (${relation})
         ) AS __q LEFT JOIN ${table} AS __l ON __l.request_id = __q.request_id LEFT JOIN ${duplicated} AS __d ON __d.request_id = __q.request_id
       )${numbered ? ' ORDER BY logged_at, request_id' : ' WHERE score IS NOT NULL'}`,
    );
    const read = await readColumns(result, names.length);
    // A window of N requests is a run of N rows in time order, whether scored or not (as the monitor's windows count them).
    if (numbered) read.windows.forEach((w, i) => (read.windows[i] = Number.isNaN(w) ? w : Math.floor(i / size)));
    return { ...byWindow(read, names), multiRowRequests: multi };
  } finally {
    for (const name of [duplicated, table]) await db.run(`DROP TABLE IF EXISTS ${name}`);
  }
}

interface ReadColumns {
  /** Each row's window key; NaN for a row without a score. */
  windows: Float64Array;
  at: Float64Array;
  scores: Float64Array;
  labels: Float64Array;
  features: unknown[][];
}

/**
 * The result's columns (window key, time, score, label, then the features) read chunk by
 * chunk straight into typed arrays: no value object per cell, as reading whole columns makes.
 */
async function readColumns(result: DuckDBResult, featureCount: number): Promise<ReadColumns> {
  const chunks: DuckDBDataChunk[] = [];
  let total = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    chunks.push(chunk);
    total += chunk.rowCount;
  }
  const read: ReadColumns = {
    windows: new Float64Array(total),
    at: new Float64Array(total),
    scores: new Float64Array(total),
    labels: new Float64Array(total),
    features: Array.from({ length: featureCount }, () => new Array<unknown>(total).fill(null)),
  };
  const numbers = [read.windows, read.at, read.scores, read.labels];
  let offset = 0;
  for (const chunk of chunks) {
    const n = chunk.rowCount;
    for (let c = 0; c < numbers.length; c++) {
      const [target, vector] = [numbers[c]!, chunk.getColumnVector(c) as DuckDBVector<number>];
      for (let i = 0; i < n; i++) target[offset + i] = vector.getItem(i) ?? Number.NaN;
    }
    for (let f = 0; f < featureCount; f++) {
      const [target, vector] = [read.features[f]!, chunk.getColumnVector(numbers.length + f)];
      // Features are read for labelled rows only (NULL on the others).
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(read.labels[offset + i]!)) continue;
        const value = vector.getItem(i);
        if (value !== null) target[offset + i] = jsonScalar(value);
      }
    }
    offset += n;
  }
  return read;
}

/**
 * The scored rows grouped by window, windows in key order (time order): a stable counting
 * sort by window, skipped when the rows are already grouped (one window, or rows numbered in
 * time order). Rows without a score (read only to number the windows) are left out here.
 */
function byWindow(read: ReadColumns, names: string[]): { rows: QualityRows; at: Float64Array } {
  const distinct = new Set<number>();
  for (let i = 0, last = Number.NaN; i < read.windows.length; last = read.windows[i++]!) {
    if (read.windows[i] !== last && !Number.isNaN(read.windows[i]!)) distinct.add(read.windows[i]!);
  }
  const keys = [...distinct].sort((a, b) => a - b);
  const slot = new Map(keys.map((key, k) => [key, k]));
  const windowNames = keys.map(String);
  const starts = new Uint32Array(keys.length + 1);
  let scored = 0;
  let grouped = true;
  let previous = -1;
  // Rows come in runs of one window: its slot is looked up once per run.
  const slotOf = new Int32Array(read.windows.length);
  let last = Number.NaN;
  let k = -1;
  for (let i = 0; i < read.windows.length; i++) {
    const key = read.windows[i]!;
    if (key !== last) {
      k = slot.get(key) ?? -1;
      last = key;
    }
    slotOf[i] = k;
    if (k < 0) continue;
    if (k < previous) grouped = false;
    previous = k;
    starts[k + 1]!++;
    scored++;
  }
  for (let s = 0; s < keys.length; s++) starts[s + 1]! += starts[s]!;
  if (grouped && scored === read.windows.length) {
    // Already grouped, every row scored (the usual case): the columns as read, each window's name filled over its run.
    const windows = new Array<string>(scored);
    for (let s = 0; s < keys.length; s++) windows.fill(windowNames[s]!, starts[s]!, starts[s + 1]!);
    return { rows: { windows, scores: read.scores, labels: read.labels, features: Object.fromEntries(names.map((name, f) => [name, read.features[f]!])) }, at: read.at };
  }
  const rows: QualityRows = { windows: new Array<string>(scored), scores: new Float64Array(scored), labels: new Float64Array(scored), features: {} };
  const features = names.map((name) => (rows.features[name] = new Array<unknown>(scored)));
  const at = new Float64Array(scored);
  let next = 0;
  for (let i = 0; i < read.windows.length; i++) {
    const k = slotOf[i]!;
    if (k < 0) continue;
    const to = grouped ? next++ : starts[k]!++;
    rows.windows[to] = windowNames[k]!;
    rows.scores[to] = read.scores[i]!;
    rows.labels[to] = read.labels[i]!;
    at[to] = read.at[i]!;
    for (let f = 0; f < features.length; f++) features[f]![to] = read.features[f]![i];
  }
  return { rows, at };
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
