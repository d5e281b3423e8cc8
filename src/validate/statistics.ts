/**
 * Statistics of a dataset, per feature: the one implementation validation, drift, skew
 * and monitoring all use. TFDV's statistics in two SQL passes over the data, whatever the
 * number of columns:
 * 1. one aggregate query: the range of every number and timestamp, the mean and std of
 *    FLOAT columns (their count, zeros, NaN and ±inf come from their keys in the second:
 *    float-counts.ts);
 * 2. one GROUP BY GROUPING SETS query: for each number the bucket counts of its quantile
 *    sketch (sketch.ts), for each string its value counts (top `histogramSize` kept, the
 *    number of groups giving the exact unique count; the groups' counts and lengths give
 *    its count and mean length). Integers whose range the first query found small are
 *    counted per value and those values keyed after, not keyed per row; their count, mean,
 *    std and zeros are read off those value counts (value-counts.ts), which are also handed
 *    on for exact bins. Integers of a wide range get those four from a third aggregate query.
 * Median, quantiles and histograms are derived from the sketch (histograms.ts), so the
 * statistics of shards merge into those of the whole (merge.ts).
 * Rows that are not scanned but counted by value elsewhere (the prediction log's profiles,
 * monitor/log-profiles.ts) give the same grouped rows from their counts
 * (`statisticsOfValueCounts`), and one builder (`statisticsOfGroups`, statistics-groups.ts) makes the statistics
 * from either.
 *
 * Conventions (close to TFDV's): `count` is the number of present values and `missing`
 * the number of rows without one, so `count + missing = rowCount`. For FLOAT columns NaN
 * and ±Infinity count as missing and are also counted in `nan`/`posInf`/`negInf`. BOOL
 * columns get a numeric block over 0/1 (mean is the share of `true`). Columns of other
 * DuckDB types (lists, structs, blobs, ...) are summarised as STRING over their text
 * form. `std` is the population standard deviation. With no present values the numeric
 * block is all zeros.
 *
 * Usage: `const stats = await computeStatistics(join(examples.path, 'train', 'data.parquet'))`
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { queryRows, readSource, sqlIdent, withDuckDB, type DuckDBOptions } from '../data/duckdb.js';
import { sketchKeySql } from './sketch.js';
import { floatKeySql } from './float-counts.js';
import { groupedRows, isNumeric, num, statisticsOfGroups, type StatisticsColumn } from './statistics-groups.js';
import { featureTypeOf, type DatasetStatistics, type FeatureType, type StatisticsOptions } from './statistics-types.js';
import type { ValueCounts } from './value-counts.js';

export type { ValueCounts } from './value-counts.js';
export type { StatisticsColumn } from './statistics-groups.js';
export {
  FEATURE_TYPES,
  STATISTICS_VERSION,
  featureTypeOf,
  type DatasetStatistics,
  type FeatureStatistics,
  type FeatureType,
  type NumericStatistics,
  type StatisticsOptions,
  type StringStatistics,
  type TimestampStatistics,
  type ValueCount,
} from './statistics-types.js';

/** Statistics of a Parquet (or CSV, NDJSON) file. */
export async function computeStatistics(path: string, options: StatisticsOptions = {}, duckdb: DuckDBOptions = {}): Promise<DatasetStatistics> {
  return withDuckDB((db) => statisticsOfRelation(db, `SELECT * FROM ${readSource(path)}`, options), duckdb);
}

/** Statistics of the rows of a SQL query on an open connection (e.g. one month of a file). */
export async function statisticsOfRelation(db: DuckDBConnection, relation: string, options: StatisticsOptions = {}): Promise<DatasetStatistics> {
  return (await statisticsWithValueCounts(db, relation, options)).statistics;
}

/**
 * `statisticsOfRelation`, with the value counts it grouped along the way: those of each
 * integer or boolean column of a small span, by column name (other columns are absent).
 */
export async function statisticsWithValueCounts(
  db: DuckDBConnection,
  relation: string,
  options: StatisticsOptions = {},
): Promise<{ statistics: DatasetStatistics; valueCounts: Map<string, ValueCounts> }> {
  const histogramSize = Math.max(options.histogramSize ?? 1000, options.topK ?? 20);
  const view = `__loom_stats_${viewCounter++}`;
  await db.run(`CREATE TEMP VIEW ${view} AS ${relation}`);
  try {
    const columns = await statisticsColumns(db, `SELECT * FROM ${view}`);
    const totals = (await queryRows(db, `SELECT ${columns.flatMap(aggregatesOf).concat('count(*)::DOUBLE AS row_count').join(', ')} FROM ${view}`))[0]!;
    // Integers whose range the first query found small: grouped by value (see valueCounts),
    // their moments read off those counts; the others' aggregated from the rows (rarely needed).
    const integers = columns.filter((c) => c.type === 'INT' || c.type === 'BOOL');
    const discrete = new Set(integers.filter((c) => num(totals[`c${c.i}_max`]) - num(totals[`c${c.i}_min`]) <= MAX_DISCRETE_SPAN).map((c) => c.i));
    const wide = integers.filter((c) => !discrete.has(c.i));
    if (wide.length > 0) Object.assign(totals, (await queryRows(db, `SELECT ${wide.flatMap(momentsOf).join(', ')} FROM ${view}`))[0]!);
    const groups = await valueCounts(db, view, columns, histogramSize, discrete);
    return statisticsOfGroups(columns, { totals, groups, discrete, rowCount: num(totals.row_count) }, options);
  } finally {
    await db.run(`DROP VIEW IF EXISTS ${view}`);
  }
}

/**
 * A relation's columns as statistics see them (its DESCRIBE, no row read): what
 * `statisticsOfValueCounts` is given for rows it does not scan.
 */
export async function statisticsColumns(db: DuckDBConnection, relation: string): Promise<StatisticsColumn[]> {
  return (await queryRows(db, `DESCRIBE SELECT * FROM (${relation})`)).map((row, i) => {
    const sqlType = String(row.column_type);
    return { i, name: String(row.column_name), sqlType, type: featureTypeOf(sqlType), ident: sqlIdent(String(row.column_name)) };
  });
}

/**
 * `statisticsWithValueCounts` of rows that are not scanned, from every column's full value
 * counts (mergeable profiles: monitoring/log-profiles.ts). `counts` is a SQL relation of
 * `(col, v, s, n)`: the column's index in `columns`, its value (`v` a DOUBLE for numbers, NaN
 * and ±Infinity included for FLOAT, BOOL as 0/1; `s` for strings), and that value's number
 * of rows; a value may appear in several rows (they are summed). `rowCount` counts the rows
 * missing values too. The same statistics as a scan of the rows (the same grouped rows go
 * through the same code), but for FLOAT means and every std, summed in another order (their
 * last digits may differ). TIMESTAMP columns cannot be counted by value: they are taken as
 * all missing (a window's timestamp feature that no row logged), any counts given them ignored.
 */
export async function statisticsOfValueCounts(
  db: DuckDBConnection,
  columns: StatisticsColumn[],
  counts: string,
  rowCount: number,
  options: StatisticsOptions = {},
): Promise<{ statistics: DatasetStatistics; valueCounts: Map<string, ValueCounts> }> {
  const histogramSize = Math.max(options.histogramSize ?? 1000, options.topK ?? 20);
  const numeric = columns.filter((c) => isNumeric(c.type));
  // Every number is counted by value: all of them "discrete", their moments read off the counts.
  const discrete = new Set(numeric.map((c) => c.i));
  const counted = columns.filter((c) => c.type !== 'TIMESTAMP').map((c) => c.i);
  // The counts summed (a value may come from several profiles) in the grouping's materialized relation: read once.
  const summed = `SELECT col, NULL::INTEGER AS k, v, s, sum(n)::DOUBLE AS n FROM (${counts}) WHERE (v IS NOT NULL OR s IS NOT NULL) AND col IN (${counted.join(', ') || 'NULL'}) GROUP BY col, v, s`;
  const floats = numeric.filter((c) => c.type === 'FLOAT').map((c) => c.i);
  const groups = await groupedRows(db, summed, histogramSize, floats);
  const totals: Record<string, DuckDBValue> = {};
  for (const c of numeric) Object.assign(totals, rangeOfValues(c, groups.get(c.i) ?? []));
  for (const c of columns) if (c.type === 'TIMESTAMP') Object.assign(totals, { [`c${c.i}_count`]: 0, [`c${c.i}_min`]: null, [`c${c.i}_max`]: null });
  return statisticsOfGroups(columns, { totals, groups, discrete, rowCount }, options);
}

/**
 * A number's range as `totals` hold it (`c<i>_min`, `c<i>_max`; NULL when it has no value),
 * from its grouped value rows, which hold every present value: the least and greatest, a
 * FLOAT's finite ones only (NaN and ±Infinity are missing), as `min`/`max` over the rows would.
 */
function rangeOfValues(column: StatisticsColumn, rows: Record<string, DuckDBValue>[]): Record<string, number | null> {
  let [min, max]: (number | null)[] = [null, null];
  for (const row of rows) {
    if (row.v === null || row.v === undefined) continue;
    const v = Number(row.v);
    if (column.type === 'FLOAT' && !Number.isFinite(v)) continue;
    if (min === null || v < min) min = v;
    if (max === null || v > max) max = v;
  }
  return { [`c${column.i}_min`]: min, [`c${column.i}_max`]: max };
}

let viewCounter = 0;

type Column = StatisticsColumn;

/** The finite DOUBLE value of a numeric column, NULL otherwise: the values statistics count. */
export function numericValueSql(column: { ident: string; type: FeatureType }): string {
  return numericValue(column);
}

function numericValue(column: { ident: string; type: FeatureType }): string {
  const c = column.ident;
  if (column.type === 'FLOAT') return `(CASE WHEN isfinite(${c}::DOUBLE) THEN ${c}::DOUBLE END)`;
  return column.type === 'BOOL' ? `${c}::INTEGER::DOUBLE` : `${c}::DOUBLE`;
}

/** Count, mean, std and zeros of a numeric column's values, from its rows. */
function momentsOf(column: Column): string[] {
  const [i, v] = [column.i, numericValue(column)];
  return [`count(${v})::DOUBLE AS c${i}_count`, `avg(${v}) AS c${i}_mean`, `stddev_pop(${v}) AS c${i}_std`, `count_if(${comparable(column)} = 0)::DOUBLE AS c${i}_zeros`];
}

function stringValue(column: Column): string {
  return column.sqlType === 'VARCHAR' ? column.ident : `${column.ident}::VARCHAR`;
}

// Integers compared as they are: a cast to DOUBLE is monotone and keeps 0 alone at 0, so
// min, max and zeros are the same, without converting every row for them.
function comparable(column: Column): string {
  return column.type === 'INT' ? column.ident : column.type === 'BOOL' ? `${column.ident}::INTEGER` : numericValue(column);
}

/** The first query's aggregates: for integers and booleans only their range (their moments: `momentsOf` or their value counts). */
function aggregatesOf(column: Column): string[] {
  const i = column.i;
  if (isNumeric(column.type)) {
    const range = [`min(${comparable(column)})::DOUBLE AS c${i}_min`, `max(${comparable(column)})::DOUBLE AS c${i}_max`];
    if (column.type !== 'FLOAT') return range;
    // Count, zeros and the non-finite counts come from the grouped keys (float-counts.ts).
    const v = numericValue(column);
    return [`avg(${v}) AS c${i}_mean`, `stddev_pop(${v}) AS c${i}_std`, ...range];
  }
  if (column.type === 'TIMESTAMP') {
    const c = column.ident;
    return [`count(${c})::DOUBLE AS c${i}_count`, `strftime(min(${c})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S') AS c${i}_min`, `strftime(max(${c})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S') AS c${i}_max`];
  }
  // Strings are counted from their groups (valueCounts): nothing to read here.
  return [];
}

/**
 * Integer columns (and booleans) spanning at most this many values are grouped by value
 * rather than by a computed key: a hash of few distinct values costs less than a per-row
 * expression (statistics' sketch keys, exact-bins' bins), which is then computed per value.
 */
export const MAX_DISCRETE_SPAN = 100_000;

/**
 * One scan for every numeric sketch and every string's value counts: GROUPING SETS with
 * one set per column. Rows per column index: `k` (sketch key) or `s` (value), `n`, and
 * for strings `u`, the number of distinct values, `total` that of present values and `chars`
 * the sum of their lengths (the mean length's terms: whole numbers, summed exactly). Integers of a small span (`discrete`,
 * their indexes) are grouped by value as they are (hashing a BIGINT costs less than
 * converting it to DOUBLE and hashing that) and their few values keyed afterwards: the same
 * keys and counts, without the logarithm per row; those values also come back, as rows of
 * `v` and `n` (for `ValueCounts`).
 */
async function valueCounts(db: DuckDBConnection, view: string, columns: Column[], limit: number, discrete: ReadonlySet<number>): Promise<Map<number, Record<string, DuckDBValue>[]>> {
  const grouped = columns.filter((c) => c.type !== 'TIMESTAMP');
  if (grouped.length === 0) return new Map();
  const projection = (c: Column): string =>
    !isNumeric(c.type) ? stringValue(c) : discrete.has(c.i) ? c.ident : c.type === 'FLOAT' ? floatKeySql(c.ident) : sketchKeySql(numericValue(c));
  const keysOf = (pick: (c: Column) => boolean, cast: string): string => {
    const keys = grouped.filter(pick).map((c) => `g${c.i}::${cast}`);
    return keys.length ? `coalesce(${keys.join(', ')}, NULL)` : `NULL::${cast}`;
  };
  const which = `CASE ${grouped.map((c) => `WHEN GROUPING(g${c.i}) = 0 THEN ${c.i}`).join(' ')} END`;
  return groupedRows(
    db,
    `SELECT ${which} AS col,
        ${keysOf((c) => isNumeric(c.type) && !discrete.has(c.i), 'INTEGER')} AS k,
        ${keysOf((c) => discrete.has(c.i), 'DOUBLE')} AS v,
        ${keysOf((c) => !isNumeric(c.type), 'VARCHAR')} AS s,
        count(*)::DOUBLE AS n
      FROM (SELECT ${grouped.map((c) => `${projection(c)} AS g${c.i}`).join(', ')} FROM ${view})
      GROUP BY GROUPING SETS (${grouped.map((c) => `(g${c.i})`).join(', ')})`,
    limit,
  );
}
