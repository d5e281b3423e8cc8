/**
 * Statistics of a dataset, per feature: the one implementation validation, drift, skew
 * and monitoring all use. One SQL pass computes every per-column aggregate; one GROUP BY
 * per string column ranks its values.
 *
 * Conventions (close to TFDV's): `count` is the number of present values and `missing`
 * the number of rows without one, so `count + missing = rowCount`. For FLOAT columns NaN
 * and ±Infinity count as missing. BOOL columns get a numeric block over 0/1 (mean is the
 * share of `true`). Columns of other DuckDB types (lists, structs, blobs, ...) are
 * summarised as STRING over their text form. `std` is the population standard deviation.
 * With no present values the numeric block is all zeros.
 *
 * Usage: `const stats = await computeStatistics(join(examples.path, 'train', 'data.parquet'))`
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { queryRows, readSource, sqlIdent, withDuckDB } from '../data/duckdb.js';

/** Feature types as the schema knows them; `FEATURE_TYPES` is also the runtime check. */
export const FEATURE_TYPES = ['INT', 'FLOAT', 'STRING', 'BOOL', 'TIMESTAMP'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

export type NumericStatistics = {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Present values equal to 0. */
  zeros: number;
};

export type ValueCount = { value: string; count: number };

export type StringStatistics = {
  /** Distinct present values (exact). */
  unique: number;
  /** The most frequent values, most frequent first, ties by value; at most `topK` (20). */
  topValues: ValueCount[];
  /**
   * The most frequent values, like `topValues` but up to `histogramSize` (1000) long: it holds
   * every value whenever `unique <= histogramSize`. Domains are inferred and unseen
   * categories counted from it.
   */
  rankHistogram: ValueCount[];
  /** Mean length in characters of the present values. */
  avgLength: number;
};

export type TimestampStatistics = {
  /** Earliest and latest values, ISO 8601 without a time zone (`2001-01-01T00:15:00`). */
  min: string | null;
  max: string | null;
};

export type FeatureStatistics = {
  name: string;
  type: FeatureType;
  /** The column's type as DuckDB read it, e.g. `BIGINT`, `DECIMAL(10,2)`. */
  sqlType: string;
  count: number;
  missing: number;
  /** For INT, FLOAT and BOOL. */
  numeric?: NumericStatistics;
  /** For STRING. */
  string?: StringStatistics;
  /** For TIMESTAMP. */
  timestamp?: TimestampStatistics;
};

export type DatasetStatistics = {
  /** Bumped when the layout changes, so readers can tell old files. */
  version: 1;
  rowCount: number;
  /** In column order. */
  features: FeatureStatistics[];
};

export interface StatisticsOptions {
  /** Length of `topValues`; default 20. */
  topK?: number;
  /** Length limit of `rankHistogram`; default 1000. */
  histogramSize?: number;
}

/** The schema type of a DuckDB column type. */
export function featureTypeOf(sqlType: string): FeatureType {
  if (/^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT))$/.test(sqlType)) return 'INT';
  if (/^(FLOAT|DOUBLE|REAL|DECIMAL)/.test(sqlType)) return 'FLOAT';
  if (sqlType === 'BOOLEAN') return 'BOOL';
  if (/^(DATE|TIMESTAMP)/.test(sqlType)) return 'TIMESTAMP';
  return 'STRING';
}

/** Statistics of a Parquet (or CSV, NDJSON) file. */
export async function computeStatistics(path: string, options: StatisticsOptions = {}): Promise<DatasetStatistics> {
  const topK = options.topK ?? 20;
  const histogramSize = Math.max(options.histogramSize ?? 1000, topK);
  return withDuckDB(async (db) => {
    await db.run(`CREATE TEMP VIEW __loom_data AS SELECT * FROM ${readSource(path)}`);
    const columns = (await queryRows(db, 'DESCRIBE __loom_data')).map((row) => {
      const sqlType = String(row.column_type);
      return { name: String(row.column_name), sqlType, type: featureTypeOf(sqlType) };
    });

    // One pass: every aggregate of every column in a single SELECT, aliased by position.
    const aggregates = ['count(*)::DOUBLE AS row_count'];
    columns.forEach((column, i) => {
      const c = sqlIdent(column.name);
      if (column.type === 'INT' || column.type === 'FLOAT' || column.type === 'BOOL') {
        const v =
          column.type === 'FLOAT' ? `(CASE WHEN isfinite(${c}::DOUBLE) THEN ${c}::DOUBLE END)` : column.type === 'BOOL' ? `${c}::INTEGER::DOUBLE` : `${c}::DOUBLE`;
        aggregates.push(
          `count(${v})::DOUBLE AS c${i}_count`,
          `avg(${v}) AS c${i}_mean`,
          `stddev_pop(${v}) AS c${i}_std`,
          `min(${v}) AS c${i}_min`,
          `max(${v}) AS c${i}_max`,
          `count_if(${v} = 0)::DOUBLE AS c${i}_zeros`,
        );
      } else if (column.type === 'TIMESTAMP') {
        aggregates.push(
          `count(${c})::DOUBLE AS c${i}_count`,
          `strftime(min(${c})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S') AS c${i}_min`,
          `strftime(max(${c})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S') AS c${i}_max`,
        );
      } else {
        const s = column.sqlType === 'VARCHAR' ? c : `${c}::VARCHAR`;
        aggregates.push(
          `count(${s})::DOUBLE AS c${i}_count`,
          `count(DISTINCT ${s})::DOUBLE AS c${i}_unique`,
          `coalesce(avg(length(${s})), 0) AS c${i}_avglen`,
        );
      }
    });
    const totals = (await queryRows(db, `SELECT ${aggregates.join(', ')} FROM __loom_data`))[0];
    const rowCount = num(totals.row_count);

    const features: FeatureStatistics[] = [];
    for (const [i, column] of columns.entries()) {
      const count = num(totals[`c${i}_count`]);
      const feature: FeatureStatistics = { name: column.name, type: column.type, sqlType: column.sqlType, count, missing: rowCount - count };
      if (column.type === 'INT' || column.type === 'FLOAT' || column.type === 'BOOL') {
        feature.numeric = {
          mean: num(totals[`c${i}_mean`]),
          std: num(totals[`c${i}_std`]),
          min: num(totals[`c${i}_min`]),
          max: num(totals[`c${i}_max`]),
          zeros: num(totals[`c${i}_zeros`]),
        };
      } else if (column.type === 'TIMESTAMP') {
        feature.timestamp = { min: str(totals[`c${i}_min`]), max: str(totals[`c${i}_max`]) };
      } else {
        const rankHistogram = await rankValues(db, column.name, column.sqlType, histogramSize);
        feature.string = {
          unique: num(totals[`c${i}_unique`]),
          topValues: rankHistogram.slice(0, topK),
          rankHistogram,
          avgLength: num(totals[`c${i}_avglen`]),
        };
      }
      features.push(feature);
    }
    return { version: 1, rowCount, features };
  });
}

async function rankValues(db: DuckDBConnection, name: string, sqlType: string, limit: number): Promise<ValueCount[]> {
  const s = sqlType === 'VARCHAR' ? sqlIdent(name) : `${sqlIdent(name)}::VARCHAR`;
  const result = await queryRows(
    db,
    `SELECT ${s} AS value, count(*)::DOUBLE AS n FROM __loom_data WHERE ${s} IS NOT NULL
     GROUP BY ALL ORDER BY n DESC, value LIMIT ${limit}`,
  );
  return result.map((row) => ({ value: String(row.value), count: num(row.n) }));
}

function num(value: DuckDBValue | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function str(value: DuckDBValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}
