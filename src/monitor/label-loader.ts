/**
 * The bulk label loader (`loom monitor labels load`): labels from a CSV, Parquet or NDJSON
 * file, or from a DuckDB query, into the label store, in batches.
 *
 * Keyed by request id (a `request_id` column), or by entity key and time: each label row
 * names entity columns (the same names as logged features, e.g. `origin`, `flight_no`) and
 * the time the outcome belongs to, and takes the request id of the latest logged
 * prediction for that entity at or before that time: a point-in-time (ASOF) join, so a
 * label never attaches to a prediction made after the fact it describes. Any column name
 * loads, the loader's own (`__t`, `__label`, `rowid`) and the log's (`request_id`) included:
 * the source's columns are read by name once, under names of the loader's.
 *
 * Every row is checked before anything is written, and the labels are written in one
 * transaction: a bad row (a text label, a torn last line) or a source that fails as it is
 * read refuses the whole load naming the row (and how many rows are bad, and where) or the
 * source, and leaves the store as it was. The loader's memory stays bounded whatever the
 * source's size: the source is read once into a DuckDB table (which spills to disk past
 * DuckDB's memory limit), then read from it a page of rows at a time, twice: once to check
 * every row, then again in batches into one transaction (`LabelStore.putLabelBatches`).
 * Pages are whole query results, not DuckDB's streaming results: those can end early
 * without the error that ended them (a conversion failing mid-file), which would load a
 * file's first rows as if they were all of it.
 *
 * Usage: `await loadLabels(platform.labels, location, { model: 'flights', source: { file: 'labels.csv' }, labelColumn: 'delayed' })`
 */
import { LoomError } from '../core/errors.js';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
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
  /**
   * Labels stored: the distinct request ids among the matched rows (a request id given on
   * several rows is stored once, with its last row's label, and counted once).
   */
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
  // A value of the entity mode's time column that is not a time (cast after reading, so no reader names its column).
  const time = /when casting from source column (\S+)/.exec(summary)?.[1];
  if (time) {
    return new LoomError('INVALID_ARGUMENT', `cannot read the labels: ${summary}`, { field: time, fix: `give the "${time}" column a time on every row (YYYY-MM-DD HH:MM:SS, or a timestamp column)` });
  }
  return new LoomError('INVALID_ARGUMENT', `cannot read the labels: ${summary}`, {
    field: column ?? 'source',
    fix: column
      ? `give the "${column}" column one type on every row (a label is a number or boolean)`
      : 'give a whole CSV, Parquet or NDJSON file (one cut short fails here), or a DuckDB query that selects the labels and runs',
  });
}

/** The source's columns a refusal names. */
interface LabelColumns {
  label: string;
  requestId: string;
  time?: string;
}

/** A label row the store would refuse, named by its row number (from 1) and column, with the fix. */
function badRow(row: number, label: NewLabel, columns: LabelColumns): LoomError | undefined {
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
    // The statements that build the staged table, in order.
    let stages: string[];
    let close = async () => {};
    if (request.entity) {
      for (const key of request.entity.keys) need(key, 'entity');
      need(request.entity.timeColumn, 'timeColumn');
      const opened = await openPredictionLog(db, log, { model: request.model });
      close = opened.close;
      const keys = request.entity.keys;
      // Past the source's select, every column is one of the loader's own names (the keys by position),
      // so no name the user's columns or features have (`__t`, `rowid`, `request_id`) can clash with one.
      const key = (i: number) => `__key${i}`;
      const predictions = `SELECT request_id AS __id, logged_at AS __logged, ${keys.map((k, i) => `(features ->> ${sqlString(k)}) AS ${key(i)}`).join(', ')} FROM (${opened.relation})`;
      const labels = `SELECT ${keys.map((k, i) => `${sqlIdent(k)}::VARCHAR AS ${key(i)}`).join(', ')}, ${sqlIdent(request.entity.timeColumn)}::TIMESTAMP AS __t, ${sqlIdent(labelColumn)} AS __label FROM (${source})`;
      // The join answers in its own order (by entity and time), so the source's rows are staged first,
      // their rowids numbering them in the source's order, and the join's answer is put back in it:
      // a refusal names the row of the source, and a request id's last row in the source wins.
      stages = [
        `CREATE TEMP TABLE ${LABEL_ROWS} AS ${labels}`,
        // ASOF: for each label, the latest prediction of its entity logged at or before its time.
        `CREATE TEMP TABLE ${STAGED} AS SELECT p.__id, l.__label, epoch_ms(l.__t) AS __observed FROM (SELECT rowid AS __row, * FROM ${LABEL_ROWS}) l
          ASOF LEFT JOIN (${predictions}) p ON ${keys.map((_, i) => `l.${key(i)} = p.${key(i)}`).join(' AND ')} AND l.__t >= p.__logged
          ORDER BY l.__row`,
      ];
    } else {
      const idColumn = request.requestIdColumn ?? 'request_id';
      need(idColumn, 'requestIdColumn');
      stages = [`CREATE TEMP TABLE ${STAGED} AS SELECT ${sqlIdent(idColumn)}::VARCHAR AS __id, ${sqlIdent(labelColumn)} AS __label, NULL AS __observed FROM (${source})`];
    }
    try {
      const columnNames = { label: labelColumn, requestId: request.entity ? request.entity.keys.join(', ') : (request.requestIdColumn ?? 'request_id'), time: request.entity?.timeColumn };
      return await loadStaged(db, store, stages, { model: request.model, sourceName, columns: columnNames });
    } finally {
      await close();
    }
  });
}

/** Stages the label rows (`stages` build `STAGED`), checks every one, then writes them in one transaction. */
async function loadStaged(db: DuckDBConnection, store: LabelStore, stages: readonly string[], load: { model: string; sourceName: string; columns: LabelColumns }): Promise<LabelLoadResult> {
  // Read once: a query's answer cannot change between the check and the write, and a file is parsed once.
  for (const stage of stages) {
    await db.run(stage).catch((error: unknown) => {
      throw unreadable(error);
    });
  }
  const [counts] = await queryRows(db, `SELECT count(*)::BIGINT AS rows, count(__id)::BIGINT AS matched, count(DISTINCT __id)::BIGINT AS distinct_ids FROM ${STAGED}`);
  const rows = Number(counts!.rows);
  await checkLabels(db, rows, load.model, load.columns);
  // Each request id once, its last row's label: an id repeated across pages (the source's order
  // need not group them) would otherwise be written once per page it is in.
  await db.run(`CREATE TEMP TABLE ${LAST_LABELS} AS SELECT __id, __label, __observed FROM ${STAGED} WHERE __id IS NOT NULL QUALIFY row_number() OVER (PARTITION BY __id ORDER BY rowid DESC) = 1`);
  // One transaction, however many batches: the load is written whole or not at all.
  await store.putLabelBatches(labelBatches(db, Number(counts!.distinct_ids), load.model), load.sourceName);
  return { rows, written: Number(counts!.distinct_ids), unmatched: rows - Number(counts!.matched) };
}

/**
 * The label rows in DuckDB, in the source's order: its `rowid`s 0, 1, … number them (a new
 * table's, in insertion order, which DuckDB keeps for a plain read and for an ORDER BY).
 */
const STAGED = '__labels';
/** Entity mode: the source's rows before the join, numbered (by `rowid`) in the source's order. */
const LABEL_ROWS = '__label_rows';
/** The matched rows, one per request id (its last in `STAGED`): what is written. */
const LAST_LABELS = '__last_labels';

/** Rows per page read from the staged table, and per batch written: a page is all the loader holds of the source. */
const PAGE_ROWS = 10_000;

/** A staged table's `rows` rows a page at a time, in order; a page that comes back short is an error, never the end. */
async function* pages(db: DuckDBConnection, table: string, rows: number): AsyncGenerator<Record<string, DuckDBValue>[]> {
  for (let from = 0; from < rows; from += PAGE_ROWS) {
    const page = await queryRows(db, `SELECT __id, __label, __observed FROM ${table} WHERE rowid >= ${from} AND rowid < ${from + PAGE_ROWS} ORDER BY rowid`);
    const expected = Math.min(PAGE_ROWS, rows - from);
    if (page.length !== expected) throw new LoomError('INTERNAL', `the labels' rows ${from + 1}-${from + expected} read back as ${page.length} rows; nothing was written`, { fix: 'load again; report it if it happens again' });
    yield page;
  }
}

/** A row of the label query as the label to store; none for a row that matched no logged prediction. */
function labelOf(row: Record<string, DuckDBValue>, model: string): NewLabel | undefined {
  if (row.__id === null || row.__id === undefined) return undefined;
  const label = typeof row.__label === 'bigint' ? Number(row.__label) : row.__label;
  return { requestId: String(row.__id), modelName: model, label: label as number, ...(row.__observed !== null && { observedAt: Number(row.__observed) }) };
}

/** Bad rows named by number in a refusal; the rest are counted. */
const SHOWN_BAD_ROWS = 10;

/**
 * The first pass: every matched row checked; a bad row refuses the load, naming the first and,
 * when there are more, how many are bad and where (the first few row numbers).
 */
async function checkLabels(db: DuckDBConnection, rows: number, model: string, columns: LabelColumns): Promise<void> {
  let row = 0;
  let first: LoomError | undefined;
  const bad: number[] = [];
  let badCount = 0;
  for await (const page of pages(db, STAGED, rows)) {
    for (const read of page) {
      row++;
      const label = labelOf(read, model);
      const refused = label && badRow(row, label, columns);
      if (!refused) continue;
      first ??= refused;
      badCount++;
      if (bad.length < SHOWN_BAD_ROWS) bad.push(row);
    }
  }
  if (!first) return;
  if (badCount === 1) throw first;
  const where = `rows ${bad.join(', ')}${badCount > bad.length ? ', …' : ''}`;
  throw new LoomError(first.code, `${first.message} (${badCount} bad rows in all: ${where})`, { field: first.field, fix: first.fix });
}

/** The second pass: the labels to write (one per request id, `LAST_LABELS`), a page at a time. */
async function* labelBatches(db: DuckDBConnection, rows: number, model: string): AsyncGenerator<NewLabel[]> {
  for await (const page of pages(db, LAST_LABELS, rows)) {
    const batch = page.flatMap((row) => labelOf(row, model) ?? []);
    if (batch.length > 0) yield batch;
  }
}
