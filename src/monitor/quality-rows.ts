/**
 * The rows online quality reads from the prediction log, as columns: each row's window,
 * logging time, score, slice features and label (NaN while none has arrived, and for a
 * request id logged more than once with a score: its label cannot name one row).
 *
 * Labels live in the Loom database, not beside the log. They are joined in DuckDB from a
 * temporary table: the model's labels read whole when it has no more labels than the
 * window's log has rows (the usual case: a fraction of requests is ever labelled), else
 * those of the window's request ids, looked up in the label store.
 *
 * Usage: `const rows = await readQualityRows(db, relation, labels, { model, window, score, features })`
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { queryRows } from '../data/duckdb.js';
import type { LabelStore, StoredLabel } from './label-store.js';
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

/** The scored rows of the log's `relation` in time order, with their labels. */
export async function readQualityRows(db: DuckDBConnection, relation: string, labels: LabelStore, request: QualityRowsRequest): Promise<LoggedQualityRows> {
  const names = Object.keys(request.features);
  const features = names.map((name, i) => `, ${request.features[name]} AS f${i}`).join('');
  // Request ids logged more than once with a score, found once (one hash of every id) and kept for the join.
  const duplicated = `__loom_duplicated_${tableCounter++}`;
  await db.run(`CREATE TEMP TABLE ${duplicated} AS SELECT request_id FROM (${relation}) GROUP BY request_id HAVING count(*) > 1 AND count(${request.score}) > 0`);
  const table = `__loom_labels_${tableCounter++}`;
  try {
    const [{ rows, multi }] = (await queryRows(db, `SELECT (SELECT count(*) FROM (${relation}))::DOUBLE AS rows, (SELECT count(*) FROM ${duplicated})::DOUBLE AS multi`)) as [{ rows: number; multi: number }];
    // The model's labels read whole when they are no more than the rows, else those of the window's ids; joined in DuckDB either way.
    const found = (await labels.countLabels(request.model)) <= rows ? await labels.listLabels({ model: request.model }) : await labelsOfWindow(db, relation, labels, request.model);
    await fillLabelTable(db, table, found);
    const result = await db.runAndReadAll(
      `SELECT w, logged_ms, score, label${names.map((_, i) => `, f${i}`).join('')} FROM (
         SELECT __q.*, CASE WHEN __d.request_id IS NULL THEN __l.label END AS label FROM (
           SELECT ${windowKey(request.window)}::BIGINT AS w, epoch_ms(logged_at)::DOUBLE AS logged_ms, request_id, ${request.score} AS score${features}, logged_at FROM (${relation})
         ) AS __q LEFT JOIN ${table} AS __l ON __l.request_id = __q.request_id LEFT JOIN ${duplicated} AS __d ON __d.request_id = __q.request_id
       ) WHERE score IS NOT NULL ORDER BY logged_at, request_id`,
    );
    // DuckDB answers no rows with no columns at all: an empty window has empty ones.
    const read = result.getColumns();
    const [windows, at, scores, labelled, ...featureValues] = Array.from({ length: result.columnCount }, (_, i): DuckDBValue[] => read[i] ?? []);
    return {
      rows: {
        windows: windows!.map(String),
        scores: Float64Array.from(scores!, Number),
        labels: Float64Array.from(labelled!, (v) => (v === null ? Number.NaN : Number(v))),
        // Numbers are sliced as numbers, as the evaluation's Parquet columns were.
        features: Object.fromEntries(names.map((name, i) => [name, featureValues[i]!.map(jsonScalar)])),
      },
      at: Float64Array.from(at!, Number),
      multiRowRequests: multi,
    };
  } finally {
    for (const name of [duplicated, table]) await db.run(`DROP TABLE IF EXISTS ${name}`);
  }
}

/** The labels in a new temporary table `table` (request_id, label), appended in one go. */
async function fillLabelTable(db: DuckDBConnection, table: string, labels: readonly StoredLabel[]): Promise<void> {
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
