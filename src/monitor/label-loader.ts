/**
 * The bulk label loader (`loom monitor labels load`): labels from a CSV, Parquet or NDJSON
 * file, or from a DuckDB query, into the label store, in batches.
 *
 * Keyed by request id (a `request_id` column), or by entity key and time: each label row
 * names entity columns (the same names as logged features, e.g. `origin`, `flight_no`) and
 * the time the outcome belongs to, and takes the request id of the latest logged
 * prediction for that entity at or before that time: a point-in-time (ASOF) join, so a
 * label never attaches to a prediction made after the fact it describes.
 *
 * Every row is checked before anything is written, and the labels are written in one
 * transaction: a bad row (a text label, a torn last line) or a source that fails as it is
 * read refuses the whole load naming the row or the source, and leaves the store as it was.
 *
 * Usage: `await loadLabels(platform.labels, location, { model: 'flights', source: { file: 'labels.csv' }, labelColumn: 'delayed' })`
 */
import { LoomError } from '../core/errors.js';
import { queryRows, readSource, sqlIdent, sqlString, withDuckDB } from '../data/duckdb.js';
import { newLabelSchema, type LabelStore, type NewLabel } from './label-store.js';
import { openPredictionLog, type PredictionLogLocation } from './prediction-log-reader.js';

export interface LabelLoadRequest {
  model: string;
  source: { file: string } | { sql: string };
  /** Default `label`. */
  labelColumn?: string;
  /** Keyed by request id: the column holding it; default `request_id`. Ignored with `entity`. */
  requestIdColumn?: string;
  /** Keyed by entity and time instead: the entity columns (named as the logged features) and the time column. */
  entity?: { keys: string[]; timeColumn: string };
}

export interface LabelLoadResult {
  /** Rows read from the source. */
  rows: number;
  written: number;
  /** Rows that matched no logged prediction (entity mode: no prediction for the entity at or before the time). */
  unmatched: number;
}

/**
 * Why the source cannot be read (not found, not CSV/Parquet/NDJSON, torn, a value of another
 * type than its column's, a query that fails), as the user's error: DuckDB's summary (up to its
 * list of reader settings), and the column when it names one.
 */
function unreadable(error: unknown): LoomError {
  const text = error instanceof Error ? error.message : String(error);
  const summary = text.split('\n\n')[0]!.split('\n').join('; ');
  const column = /converting column "([^"]+)"/.exec(summary)?.[1];
  return new LoomError('INVALID_ARGUMENT', `cannot read the labels: ${summary}`, {
    field: column ?? 'source',
    fix: column
      ? `give the "${column}" column one type on every row (a label is a number or boolean)`
      : 'give a whole CSV, Parquet or NDJSON file (one cut short fails here), or a DuckDB query that selects the labels and runs',
  });
}

/** A label row the store would refuse, named by its row number (from 1) and column, with the fix. */
function badRow(row: number, label: NewLabel, columns: { label: string; requestId: string; time?: string }): LoomError | undefined {
  const parsed = newLabelSchema.safeParse(label);
  if (parsed.success) return undefined;
  const path = String(parsed.error.issues[0]?.path[0] ?? 'label');
  const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value));
  if (path === 'label') {
    const what = label.label === null || label.label === undefined ? 'has no label' : `has the label ${shown(label.label)}, not a number or boolean`;
    return new LoomError('INVALID_ARGUMENT', `row ${row} of the labels ${what}`, {
      field: columns.label,
      fix: `give the "${columns.label}" column a number or boolean on every row (1/0, true/false); a file cut short leaves its last row without one`,
    });
  }
  const [field, what] = path === 'requestId' ? [columns.requestId, `the request id ${shown(label.requestId)}`] : [columns.time ?? 'observedAt', `the time ${shown(label.observedAt)}`];
  return new LoomError('INVALID_ARGUMENT', `row ${row} of the labels has ${what}: ${parsed.error.issues[0]!.message}`, { field, fix: `correct the "${field}" column of that row` });
}

export async function loadLabels(store: LabelStore, log: PredictionLogLocation, request: LabelLoadRequest): Promise<LabelLoadResult> {
  const labelColumn = request.labelColumn ?? 'label';
  const source = 'file' in request.source ? `SELECT * FROM ${readSource(request.source.file)}` : request.source.sql;
  const sourceName = 'file' in request.source ? `load:${request.source.file}` : 'load:sql';
  return withDuckDB(async (db) => {
    const columns = await queryRows(db, `DESCRIBE SELECT * FROM (${source})`).catch((error: unknown) => {
      throw unreadable(error);
    });
    const names = new Set(columns.map((c) => String(c.column_name)));
    const [only] = names;
    // DuckDB's CSV sniffer gives up on the delimiter when a line has fewer fields than the header (a torn last line).
    if (names.size === 1 && /[,;\t|]/.test(only!)) {
      throw new LoomError('INVALID_ARGUMENT', `the labels read as one column named ${JSON.stringify(only)}: a line with fewer fields than the header (a torn last line?) hides the delimiter`, {
        field: 'source',
        fix: 'complete or remove the short line (usually the last), then load again',
      });
    }
    const need = (column: string, field: string) => {
      if (!names.has(column)) throw new LoomError('INVALID_ARGUMENT', `the labels have no column "${column}" (columns: ${[...names].map((n) => JSON.stringify(n)).join(', ')})`, { field, fix: `name the column with --${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` });
    };
    need(labelColumn, 'labelColumn');
    let select: string;
    let close = async () => {};
    if (request.entity) {
      for (const key of request.entity.keys) need(key, 'entity');
      need(request.entity.timeColumn, 'timeColumn');
      const opened = await openPredictionLog(db, log, { model: request.model });
      close = opened.close;
      const keys = request.entity.keys;
      const predictions = `SELECT request_id, logged_at, ${keys.map((k) => `(features ->> ${sqlString(k)}) AS ${sqlIdent(k)}`).join(', ')} FROM (${opened.relation})`;
      const labels = `SELECT ${keys.map((k) => `${sqlIdent(k)}::VARCHAR AS ${sqlIdent(k)}`).join(', ')}, ${sqlIdent(request.entity.timeColumn)}::TIMESTAMP AS __t, ${sqlIdent(labelColumn)} AS __label FROM (${source})`;
      // ASOF: for each label, the latest prediction of its entity logged at or before its time.
      select = `SELECT p.request_id AS __id, l.__label, epoch_ms(l.__t) AS __observed FROM (${labels}) l
        ASOF LEFT JOIN (${predictions}) p ON ${keys.map((k) => `l.${sqlIdent(k)} = p.${sqlIdent(k)}`).join(' AND ')} AND l.__t >= p.logged_at`;
    } else {
      const idColumn = request.requestIdColumn ?? 'request_id';
      need(idColumn, 'requestIdColumn');
      select = `SELECT ${sqlIdent(idColumn)}::VARCHAR AS __id, ${sqlIdent(labelColumn)} AS __label, NULL AS __observed FROM (${source})`;
    }
    try {
      const rows = await queryRows(db, select).catch((error: unknown) => {
        throw unreadable(error);
      });
      const labels: NewLabel[] = [];
      const columnNames = { label: labelColumn, requestId: request.entity ? request.entity.keys.join(', ') : (request.requestIdColumn ?? 'request_id'), time: request.entity?.timeColumn };
      let unmatched = 0;
      for (const [i, row] of rows.entries()) {
        if (row.__id === null || row.__id === undefined) {
          unmatched++;
          continue;
        }
        const label = typeof row.__label === 'bigint' ? Number(row.__label) : row.__label;
        const parsed: NewLabel = { requestId: String(row.__id), modelName: request.model, label: label as number, ...(row.__observed !== null && { observedAt: Number(row.__observed) }) };
        const refused = badRow(i + 1, parsed, columnNames);
        if (refused) throw refused;
        labels.push(parsed);
      }
      // One call, one transaction: the load is written whole or not at all.
      const { written } = await store.putLabels(labels, sourceName);
      return { rows: rows.length, written, unmatched };
    } finally {
      await close();
    }
  });
}
