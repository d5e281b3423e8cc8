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
 * (`statisticsOfValueCounts`), and one builder (`statisticsOfGroups`) makes the statistics
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
import { duckdbTypeKind, type DuckDBTypeKind } from '../data/duckdb-types.js';
import { summariseSketch, type HistogramBucket } from './histograms.js';
import { emptySketch, sketchFromKeyCounts, sketchKeySql, type QuantileSketch } from './sketch.js';
import { floatCountsOf, floatKeySql } from './float-counts.js';
import { momentsOfValueCounts, type ValueCounts } from './value-counts.js';

export type { ValueCounts } from './value-counts.js';

/** Feature types as the schema knows them; `FEATURE_TYPES` is also the runtime check. */
export const FEATURE_TYPES = ['INT', 'FLOAT', 'STRING', 'BOOL', 'TIMESTAMP'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
/** The layout version of `DatasetStatistics`. */
export const STATISTICS_VERSION = 2;

export type NumericStatistics = {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Present values equal to 0. */
  zeros: number;
  /** FLOAT only (else 0): NaN and ±Infinity values, counted in `missing` too. */
  nan: number;
  posInf: number;
  negInf: number;
  /** From the sketch, within its bound. */
  median: number;
  quantiles: { q: number; value: number }[];
  /** Equal-width histogram, 10 buckets from min to max. */
  histogram: HistogramBucket[];
  /** 10 buckets between deciles, each with a tenth of the values. */
  quantileHistogram: HistogramBucket[];
  sketch: QuantileSketch;
};

export type ValueCount = { value: string; count: number };

export type StringStatistics = {
  /** Distinct present values; exact unless `uniqueExact` is false (merged truncated lists: a lower bound). */
  unique: number;
  uniqueExact: boolean;
  /** The most frequent values, most frequent first, ties by value; at most `topK` (20). */
  topValues: ValueCount[];
  /**
   * The most frequent values, like `topValues` but up to `histogramSize` (1000) long: it holds
   * every value whenever `complete`. Domains are inferred, unseen categories counted and
   * categorical drift measured from it.
   */
  rankHistogram: ValueCount[];
  /** Whether `rankHistogram` holds every distinct value with its exact count. */
  complete: boolean;
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
  version: typeof STATISTICS_VERSION;
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
  return FEATURE_TYPE_OF_KIND[duckdbTypeKind(sqlType)];
}

// Types with no summary of their own (TIME, BLOB, nested) are summarised as text.
const FEATURE_TYPE_OF_KIND: Record<DuckDBTypeKind, FeatureType> = { integer: 'INT', float: 'FLOAT', boolean: 'BOOL', time: 'TIMESTAMP', string: 'STRING', other: 'STRING' };

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
  // The counts summed once (a value may come from several profiles), then read twice.
  const table = `__loom_stats_counts_${viewCounter++}`;
  await db.run(
    `CREATE TEMP TABLE ${table} AS SELECT col, v, s, sum(n)::DOUBLE AS n FROM (${counts}) WHERE (v IS NOT NULL OR s IS NOT NULL) AND col IN (${counted.join(', ') || 'NULL'}) GROUP BY col, v, s`,
  );
  try {
    const ranges = numeric.flatMap((c) => {
      const finite = `col = ${c.i}${c.type === 'FLOAT' ? ' AND isfinite(v)' : ''}`;
      return [`min(v) FILTER (WHERE ${finite}) AS c${c.i}_min`, `max(v) FILTER (WHERE ${finite}) AS c${c.i}_max`];
    });
    const totals = ranges.length > 0 ? (await queryRows(db, `SELECT ${ranges.join(', ')} FROM ${table}`))[0]! : {};
    for (const c of columns) if (c.type === 'TIMESTAMP') Object.assign(totals, { [`c${c.i}_count`]: 0, [`c${c.i}_min`]: null, [`c${c.i}_max`]: null });
    const floats = numeric.filter((c) => c.type === 'FLOAT').map((c) => c.i);
    const groups = await groupedRows(db, `SELECT col, NULL::INTEGER AS k, v, s, n FROM ${table}`, histogramSize, floats);
    return statisticsOfGroups(columns, { totals, groups, discrete, rowCount }, options);
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** What statistics are built from, however it was counted: see `statisticsOfGroups`. */
interface GroupedCounts {
  /** The aggregates of `aggregatesOf` (and `momentsOf` for integers not in `discrete`). */
  totals: Record<string, DuckDBValue>;
  /** Per column index: the rows of `groupedRows`. */
  groups: Map<number, Record<string, DuckDBValue>[]>;
  /** Numeric columns counted by value (their `v` rows hold every present value). */
  discrete: ReadonlySet<number>;
  rowCount: number;
}

/**
 * The statistics of every column from its grouped counts, whether a scan grouped the rows
 * (`statisticsWithValueCounts`) or value counts merged from profiles were grouped again
 * (`statisticsOfValueCounts`): the one place statistics are built.
 */
function statisticsOfGroups(columns: StatisticsColumn[], grouped: GroupedCounts, options: StatisticsOptions): { statistics: DatasetStatistics; valueCounts: Map<string, ValueCounts> } {
  const topK = options.topK ?? 20;
  const { totals, groups: counts, discrete, rowCount } = grouped;
  const valueCountsByName = new Map<string, ValueCounts>();
  const features = columns.map((column): FeatureStatistics => {
    const i = column.i;
    // A string's present values are its groups' (see valueCounts), counted there.
    const groups = counts.get(i) ?? [];
    let values: ValueCounts | undefined;
    if (discrete.has(i)) {
      // A FLOAT's NaN and ±Infinity are missing: its present values are the finite ones.
      const rows = groups.filter((row) => row.v !== null && Number.isFinite(num(row.v)));
      values = { values: rows.map((row) => num(row.v)), counts: rows.map((row) => num(row.n)) };
      valueCountsByName.set(column.name, values);
    }
    const keyCounts = groups.filter((row) => row.k !== null).map((row): [number, number] => [num(row.k), num(row.n)]);
    const float = column.type === 'FLOAT' ? floatCountsOf(keyCounts) : undefined;
    const moments = values
      ? momentsOfValueCounts(values)
      : { count: float?.count ?? num(totals[`c${i}_count`]), mean: num(totals[`c${i}_mean`]), std: num(totals[`c${i}_std`]), zeros: float?.zeros ?? num(totals[`c${i}_zeros`]) };
    const count = column.type === 'STRING' ? num(groups[0]?.total) : moments.count;
    const feature: FeatureStatistics = { name: column.name, type: column.type, sqlType: column.sqlType, count, missing: rowCount - count };
    if (isNumeric(column.type)) {
      const sketch = sketchFromKeyCounts(float?.sketch ?? keyCounts);
      const min = num(totals[`c${i}_min`]);
      const max = num(totals[`c${i}_max`]);
      feature.numeric = {
        mean: moments.mean,
        std: moments.std,
        min,
        max,
        zeros: moments.zeros,
        nan: float?.nan ?? 0,
        posInf: float?.posInf ?? 0,
        negInf: float?.negInf ?? 0,
        ...summariseSketch(count > 0 ? sketch : emptySketch(), min, max, count, column.type !== 'FLOAT'),
        sketch,
      };
    } else if (column.type === 'TIMESTAMP') {
      feature.timestamp = { min: str(totals[`c${i}_min`]), max: str(totals[`c${i}_max`]) };
    } else {
      const rankHistogram = groups.map((row) => ({ value: String(row.s), count: num(row.n) }));
      const unique = groups.length > 0 ? num(groups[0]!.u) : 0;
      feature.string = {
        unique,
        uniqueExact: true,
        topValues: rankHistogram.slice(0, topK),
        rankHistogram,
        complete: rankHistogram.length >= unique,
        avgLength: count > 0 ? num(groups[0]!.chars) / count : 0,
      };
    }
    return feature;
  });
  return { statistics: { version: STATISTICS_VERSION, rowCount, features }, valueCounts: valueCountsByName };
}

let viewCounter = 0;

/** A column statistics summarise: its index and name in the relation, its DuckDB and schema types, its quoted name. */
export type StatisticsColumn = { i: number; name: string; sqlType: string; type: FeatureType; ident: string };
type Column = StatisticsColumn;

function isNumeric(type: FeatureType): boolean {
  return type === 'INT' || type === 'FLOAT' || type === 'BOOL';
}

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

/**
 * The rows statistics are built from, per column index, out of `grouped`: a relation of
 * `(col, k, v, s, n)` rows, each a sketch key (`k`), a number counted by value (`v`) or a
 * string (`s`) with its count. Values are keyed for the sketch (FLOAT columns among `floats`
 * by their float key, float-counts.ts), strings ranked (top `limit` kept) with their
 * distinct count `u`, present count `total` and summed lengths `chars`, and the `v` rows
 * returned as they are (for `ValueCounts`).
 */
async function groupedRows(db: DuckDBConnection, grouped: string, limit: number, floats: readonly number[] = []): Promise<Map<number, Record<string, DuckDBValue>[]>> {
  const key = floats.length > 0 ? `CASE WHEN col IN (${floats.join(', ')}) THEN ${floatKeySql('v')} ELSE ${sketchKeySql('v')} END` : sketchKeySql('v');
  // The grouped rows are few (distinct keys and values), but windowing them straight off the
  // GROUPING SETS aggregate costs more than reading them back from a materialized CTE.
  const sql = `
    WITH grouped AS MATERIALIZED (${grouped}), keyed AS (
      SELECT col, k, s, n FROM grouped WHERE k IS NOT NULL OR s IS NOT NULL
      UNION ALL
      SELECT col, ${key} AS k, NULL AS s, sum(n) AS n FROM grouped WHERE v IS NOT NULL GROUP BY col, 2
    )
    SELECT * FROM (
      SELECT col, k, s, NULL::DOUBLE AS v, n, count(*) OVER (PARTITION BY col) AS u,
        sum(n) OVER (PARTITION BY col) AS total, sum(length(s) * n) OVER (PARTITION BY col) AS chars
      FROM keyed
      QUALIFY s IS NULL OR row_number() OVER (PARTITION BY col ORDER BY n DESC, s) <= ${limit}
      UNION ALL
      SELECT col, NULL, NULL, v, n, NULL, NULL, NULL FROM grouped WHERE v IS NOT NULL
    )
    ORDER BY col, n DESC, s, v`;
  const result = new Map<number, Record<string, DuckDBValue>[]>();
  for (const row of await queryRows(db, sql)) {
    const col = num(row.col);
    let list = result.get(col);
    if (!list) result.set(col, (list = []));
    list.push(row);
  }
  return result;
}

function num(value: DuckDBValue | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function str(value: DuckDBValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}
