/**
 * DuckDB access for every step that reads or writes tables. Each call opens an
 * in-memory engine (files are read in place) with a memory limit, so data larger than
 * memory spills to a temporary directory instead of failing.
 *
 * Usage: `await withDuckDB(async (db) => db.runAndReadAll(`SELECT count(*) FROM ${readSource(path)}`))`
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { extname } from 'node:path';
import { LoomError } from '../core/errors.js';
import { MEMORY_LIMIT } from './memory-size.js';

// Still offered here, where the sizes are used, for the data steps that check one (ingest).
export { MEMORY_LIMIT };

export interface DuckDBOptions {
  /** e.g. '2GB'; default the process's (`setDuckDBDefaults`), else DuckDB's own (80% of RAM). */
  memoryLimit?: string;
  threads?: number;
  /** Where DuckDB spills past the memory limit; default the process's, else DuckDB's own. */
  tempDirectory?: string;
}

let processDefaults: DuckDBOptions = {};

/**
 * Sets the limits every DuckDB engine of this process runs with unless a call gives its
 * own. `openPlatform` sets them from the config (LOOM_DUCKDB_MEMORY_LIMIT, …), so every
 * step of a command runs under the project's limits without passing them down.
 */
export function setDuckDBDefaults(options: DuckDBOptions): void {
  duckDBSettings(options);
  processDefaults = { ...options };
}

/** The limits set by `setDuckDBDefaults` (the config's). */
export function duckDBDefaults(): Readonly<DuckDBOptions> {
  return processDefaults;
}

/** The options every data step runs DuckDB with: explicit ones win over the process's defaults. */
export function duckDBSettings(options: DuckDBOptions = {}): Record<string, string> {
  const settings: Record<string, string> = {};
  const memoryLimit = options.memoryLimit ?? processDefaults.memoryLimit;
  if (memoryLimit) {
    if (!MEMORY_LIMIT.test(memoryLimit)) {
      throw new LoomError('INVALID_ARGUMENT', `memoryLimit "${memoryLimit}" is not a memory size`, { field: 'memoryLimit', fix: 'write it like 64MB, 2GB or 512MiB' });
    }
    settings.memory_limit = memoryLimit;
  }
  const threads = options.threads ?? processDefaults.threads;
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new LoomError('INVALID_ARGUMENT', `DuckDB threads "${threads}" is not a positive integer`, { field: 'threads' });
    }
    settings.threads = String(threads);
  }
  const tempDirectory = options.tempDirectory ?? processDefaults.tempDirectory;
  if (tempDirectory) settings.temp_directory = tempDirectory;
  return settings;
}

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
