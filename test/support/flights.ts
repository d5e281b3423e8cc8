/**
 * Small real slices of the vega-datasets flights (3M US flights, Jan–Jun 2001) for
 * fast tests. A slice keeps every Nth row of the chosen months, in file order, so it is
 * the same on every run.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flightsParquetPath } from '../../src/data/datasets.js';
import { sqlString, withDuckDB } from '../../src/data/duckdb.js';

/** The full 3M-row file shipped by the `vega-datasets` package. */
export const FLIGHTS_PARQUET: string = flightsParquetPath();

export interface SliceOptions {
  /** Months of 2001 to keep, 1–6. */
  months: number[];
  /** Keep one row in `every`. */
  every: number;
  format?: 'parquet' | 'csv';
}

/** Writes a slice to `path` and returns its row count. */
export async function writeFlightsSlice(path: string, options: SliceOptions): Promise<number> {
  const format = options.format ?? (path.endsWith('.csv') ? 'csv' : 'parquet');
  return withDuckDB(async (db) => {
    const months = options.months.join(', ');
    const query = `SELECT * FROM (
        SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(FLIGHTS_PARQUET)})
      ) WHERE month(date) IN (${months}) AND rn % ${options.every} = 0 ORDER BY rn`;
    await db.run(`COPY (SELECT * EXCLUDE (rn) FROM (${query})) TO ${sqlString(path)} (FORMAT ${format === 'csv' ? 'CSV, HEADER' : 'PARQUET'})`);
    const result = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${format === 'csv' ? `read_csv(${sqlString(path)})` : `read_parquet(${sqlString(path)})`}`);
    return Number(result.getRowObjects()[0]?.n ?? 0);
  });
}

/** A temporary directory removed after the test (pass `t.after`). */
export async function makeTempDir(after: (fn: () => Promise<void>) => void, prefix = 'loom-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the DuckDB table `examples` (with a row number `rn`) as Examples splits under `stage`: every fifth row to eval, the rest to train, `rn` dropped. */
export async function writeFifthsSplits(conn: DuckDBConnection, stage: string): Promise<void> {
  for (const [split, condition] of Object.entries({ train: 'rn % 5 <> 0', eval: 'rn % 5 = 0' })) {
    await mkdir(join(stage, split));
    await conn.run(`COPY (SELECT * EXCLUDE (rn) FROM examples WHERE ${condition} ORDER BY rn) TO ${sqlString(join(stage, split, 'data.parquet'))} (FORMAT PARQUET)`);
  }
}

/** Rows as a JSON client sends them: DuckDB's BIGINTs as numbers. */
export function asClientRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value])));
}
