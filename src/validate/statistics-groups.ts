/**
 * Statistics built from grouped counts (the second half of statistics.ts's work, whatever
 * counted the rows): `groupedRows` keys numbers for their sketch and ranks strings, out of a
 * relation of `(col, k, v, s, n)` rows that a scan's GROUPING SETS (`statisticsWithValueCounts`)
 * or merged value counts (`statisticsOfValueCounts`) give; `statisticsOfGroups` makes every
 * column's statistics from those rows. One builder, so both give the same figures.
 *
 * Usage: `statisticsOfGroups(columns, { totals, groups: await groupedRows(db, sql, 1000), discrete, rowCount }, options)`
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { queryRows } from '../data/duckdb.js';
import { summariseSketch } from './histograms.js';
import { emptySketch, sketchFromKeyCounts, sketchKeySql } from './sketch.js';
import { floatCountsOf, floatKeySql } from './float-counts.js';
import { STATISTICS_VERSION, type DatasetStatistics, type FeatureStatistics, type FeatureType, type StatisticsOptions } from './statistics-types.js';
import { momentsOfValueCounts, type ValueCounts } from './value-counts.js';

/** A column statistics summarise: its index and name in the relation, its DuckDB and schema types, its quoted name. */
export type StatisticsColumn = { i: number; name: string; sqlType: string; type: FeatureType; ident: string };

/** Whether a column of this type gets a numeric block (BOOL as 0/1). */
export function isNumeric(type: FeatureType): boolean {
  return type === 'INT' || type === 'FLOAT' || type === 'BOOL';
}

/** What statistics are built from, however it was counted: see `statisticsOfGroups`. */
export interface GroupedCounts {
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
export function statisticsOfGroups(columns: StatisticsColumn[], grouped: GroupedCounts, options: StatisticsOptions): { statistics: DatasetStatistics; valueCounts: Map<string, ValueCounts> } {
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

/**
 * The rows statistics are built from, per column index, out of `grouped`: a relation of
 * `(col, k, v, s, n)` rows, each a sketch key (`k`), a number counted by value (`v`) or a
 * string (`s`) with its count. Values are keyed for the sketch (FLOAT columns among `floats`
 * by their float key, float-counts.ts), strings ranked (top `limit` kept) with their
 * distinct count `u`, present count `total` and summed lengths `chars`, and the `v` rows
 * returned as they are (for `ValueCounts`).
 */
export async function groupedRows(db: DuckDBConnection, grouped: string, limit: number, floats: readonly number[] = []): Promise<Map<number, Record<string, DuckDBValue>[]>> {
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

export function num(value: DuckDBValue | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function str(value: DuckDBValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}
