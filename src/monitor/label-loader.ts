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
 * Usage: `await loadLabels(platform.labels, location, { model: 'flights', source: { file: 'labels.csv' }, labelColumn: 'delayed' })`
 */
import { LoomError } from '../core/errors.js';
import { queryRows, readSource, sqlIdent, sqlString, withDuckDB } from '../data/duckdb.js';
import type { LabelStore, NewLabel } from './label-store.js';
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

/** Labels written per batch. */
const BATCH = 10_000;

export async function loadLabels(store: LabelStore, log: PredictionLogLocation, request: LabelLoadRequest): Promise<LabelLoadResult> {
  const labelColumn = request.labelColumn ?? 'label';
  const source = 'file' in request.source ? `SELECT * FROM ${readSource(request.source.file)}` : request.source.sql;
  const sourceName = 'file' in request.source ? `load:${request.source.file}` : 'load:sql';
  return withDuckDB(async (db) => {
    const columns = await queryRows(db, `DESCRIBE SELECT * FROM (${source})`).catch((error: unknown) => {
      throw new LoomError('INVALID_ARGUMENT', `cannot read the labels: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, {
        field: 'source',
        fix: 'give a CSV, Parquet or NDJSON file, or a DuckDB query that selects the labels',
      });
    });
    const names = new Set(columns.map((c) => String(c.column_name)));
    const need = (column: string, field: string) => {
      if (!names.has(column)) throw new LoomError('INVALID_ARGUMENT', `the labels have no column "${column}" (columns: ${[...names].join(', ')})`, { field, fix: `name the column with --${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` });
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
      const rows = await queryRows(db, select);
      const labels: NewLabel[] = [];
      let unmatched = 0;
      for (const row of rows) {
        if (row.__id === null || row.__id === undefined) {
          unmatched++;
          continue;
        }
        const label = typeof row.__label === 'bigint' ? Number(row.__label) : row.__label;
        labels.push({ requestId: String(row.__id), modelName: request.model, label: label as number, ...(row.__observed !== null && { observedAt: Number(row.__observed) }) });
      }
      let written = 0;
      for (let i = 0; i < labels.length; i += BATCH) written += (await store.putLabels(labels.slice(i, i + BATCH), sourceName)).written;
      return { rows: rows.length, written, unmatched };
    } finally {
      await close();
    }
  });
}
