/**
 * CSV through DuckDB's reader with its reject tables on: a row with too few or too many
 * fields, a value that does not parse as its column's type, or bytes that are not UTF-8
 * is left out of `__loom_input` and recorded in `__loom_rejects` with its line number.
 * Every column is parsed (the input is materialised with `SELECT *`), so a bad value in
 * a column nobody selects is still caught.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../duckdb.js';

/**
 * DuckDB's CSV reader takes a 32 MB buffer per thread by default, more than a small
 * memory limit holds (64 MB with two threads fails before a row is read); 8 MB buffers
 * cost little speed. Lines may be up to DuckDB's 2 MB default.
 */
export const CSV_BUFFER_BYTES = 8 * 1024 * 1024;

export interface CsvOptions {
  /** Column → DuckDB type overrides; the sniffer still finds the columns and their order. */
  types?: Record<string, string>;
  /** The full column list in order with types (nothing is sniffed): a PostgreSQL extract. */
  columns?: Record<string, string>;
  delimiter?: string;
  /** PostgreSQL writes NULL unquoted and '' quoted: keep '' a string. */
  quotedEmptyIsString?: boolean;
}

/** `{'a': 'BIGINT', ...}` as DuckDB reads a struct of names to types. */
export function typeStruct(types: Record<string, string>): string {
  return `{${Object.entries(types).map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ')}}`;
}

/** A DuckDB list of file paths. */
export function fileList(files: string[]): string {
  return `[${files.map(sqlString).join(', ')}]`;
}

export async function loadCsv(db: DuckDBConnection, files: string[], options: CsvOptions = {}): Promise<void> {
  const args = ['header = true', 'store_rejects = true', `rejects_table = '__loom_csv_errors'`, `rejects_scan = '__loom_csv_scans'`, `buffer_size = ${CSV_BUFFER_BYTES}`];
  if (options.types && Object.keys(options.types).length > 0) args.push(`types = ${typeStruct(options.types)}`);
  if (options.columns) args.push(`columns = ${typeStruct(options.columns)}`, `quote = '"'`, `escape = '"'`);
  if (options.delimiter) args.push(`delim = ${sqlString(options.delimiter)}`);
  if (options.quotedEmptyIsString) args.push('allow_quoted_nulls = false');
  await db.run(`CREATE TEMP TABLE __loom_input AS SELECT * FROM read_csv(${fileList(files)}, ${args.join(', ')})`);
  // DuckDB creates the reject tables lazily; they exist after any scan with store_rejects.
  await db.run(`INSERT INTO __loom_rejects
    SELECT s.file_path, e.line,
      CASE e.error_type
        WHEN 'CAST' THEN 'unparseable_value'
        WHEN 'MISSING COLUMNS' THEN 'too_few_columns'
        WHEN 'TOO MANY COLUMNS' THEN 'too_many_columns'
        WHEN 'INVALID ENCODING' THEN 'bad_encoding'
        WHEN 'INVALID UNICODE' THEN 'bad_encoding'
        ELSE 'malformed_csv' END,
      e.error_message, e.csv_line
    FROM __loom_csv_errors e JOIN __loom_csv_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id`);
}
