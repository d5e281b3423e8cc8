/**
 * DuckDB access for every step that reads or writes tables. Each call opens an
 * in-memory engine (files are read in place) with a memory limit, so data larger than
 * memory spills to a temporary directory instead of failing.
 *
 * Usage: `await withDuckDB(async (db) => db.runAndReadAll(`SELECT count(*) FROM ${readSource(path)}`))`
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk, type DuckDBValue, type DuckDBVector } from '@duckdb/node-api';
import { extname } from 'node:path';
import { LoomError } from '../core/errors.js';
import { duckDBSettings, type DuckDBOptions } from './duckdb-settings.js';

// The settings live apart so that opening a project (which sets the defaults) does not load
// DuckDB's binding; they are still offered here, beside the engine they configure.
export { MEMORY_LIMIT, duckDBDefaults, duckDBSettings, setDuckDBDefaults, type DuckDBOptions } from './duckdb-settings.js';

export async function withDuckDB<T>(work: (db: DuckDBConnection) => Promise<T>, options: DuckDBOptions = {}): Promise<T> {
  const settings = duckDBSettings(options);
  const instance = await DuckDBInstance.create(':memory:', settings);
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL identifier, quoted. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The table function that reads a CSV, Parquet or NDJSON file (or glob). */
export function readSource(path: string): string {
  const extension = extname(path).toLowerCase();
  if (extension === '.parquet') return `read_parquet(${sqlString(path)})`;
  if (extension === '.csv' || extension === '.tsv') return `read_csv(${sqlString(path)}, header = true)`;
  if (extension === '.json' || extension === '.ndjson' || extension === '.jsonl') return `read_json_auto(${sqlString(path)})`;
  throw new LoomError('INVALID_ARGUMENT', `cannot read "${path}": unknown file type "${extension || '(none)'}"`, {
    field: 'source',
    fix: 'give a .csv, .parquet or .ndjson file',
  });
}

/** The rows of a query as objects keyed by column name. */
export async function queryRows(db: DuckDBConnection, sql: string): Promise<Record<string, DuckDBValue>[]> {
  return (await db.runAndReadAll(sql)).getRowObjects();
}

/** Rows in a CSV, Parquet or NDJSON file (for Parquet, read from its metadata). */
export async function countRows(path: string): Promise<number> {
  return withDuckDB(async (db) => Number((await queryRows(db, `SELECT count(*)::BIGINT AS n FROM ${readSource(path)}`))[0]?.n ?? 0));
}

/** A query's result as its chunks, every one fetched, and the rows they hold. */
export interface ResultChunks {
  chunks: DuckDBDataChunk[];
  rows: number;
}

/** Runs `sql` and fetches its result chunk by chunk: for columns read straight into typed arrays (`numberColumn`), without a value object per cell. */
export async function queryChunks(db: DuckDBConnection, sql: string): Promise<ResultChunks> {
  const result = await db.run(sql);
  const chunks: DuckDBDataChunk[] = [];
  let rows = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    chunks.push(chunk);
    rows += chunk.rowCount;
  }
  return { chunks, rows };
}

/** Column `column` (a number type) of fetched chunks as one Float64Array; NULL reads as NaN. */
export function numberColumn({ chunks, rows }: ResultChunks, column: number): Float64Array {
  const out = new Float64Array(rows);
  let offset = 0;
  for (const chunk of chunks) {
    const vector = chunk.getColumnVector(column) as DuckDBVector<number>;
    for (let i = 0; i < chunk.rowCount; i++) out[offset + i] = vector.getItem(i) ?? Number.NaN;
    offset += chunk.rowCount;
  }
  return out;
}
