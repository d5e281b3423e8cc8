/**
 * One interface for every kind of source. A connector makes two relations in the DuckDB
 * connection it is given: `__loom_input`, every good row, and `__loom_rejects`, every bad
 * row it met (file, line, reason, message, raw text). Rows stay in DuckDB: no connector
 * holds a dataset in JavaScript.
 *
 * Usage: `const loaded = await connectorFor(spec).load({ db, workDir })`
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FileFormat, SourceSpec } from '../source-spec.js';

/** Why a row was quarantined. */
export const BAD_ROW_REASONS = [
  'too_few_columns',
  'too_many_columns',
  'unparseable_value',
  'bad_encoding',
  'malformed_json',
  'not_an_object',
  'malformed_csv',
] as const;
export type BadRowReason = (typeof BAD_ROW_REASONS)[number];

export interface LoadContext {
  db: DuckDBConnection;
  /** A private, empty directory for temporary files (a PostgreSQL extract); removed after the ingest. */
  workDir: string;
  /** The span asked for; a `{SPAN}` file pattern reads only that span's files (default: the newest). */
  span?: number;
}

export interface LoadedSource {
  format: FileFormat | 'postgres';
  /** Files read, absolute and sorted; empty for a database. */
  files: string[];
  /** The span the source itself names (a `{SPAN}` file pattern), if any. */
  span?: number;
}

export interface DataSource {
  readonly spec: SourceSpec;
  /** Creates `__loom_input` (good rows) and `__loom_rejects` (bad rows). */
  load(context: LoadContext): Promise<LoadedSource>;
}

/** The table every connector fills with the rows it could not read. */
export const CREATE_REJECTS = `CREATE TEMP TABLE __loom_rejects (file VARCHAR, line BIGINT, reason VARCHAR, message VARCHAR, raw VARCHAR)`;
