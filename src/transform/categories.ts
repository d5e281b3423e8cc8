/**
 * Fitting the category analyzers in DuckDB: vocabulary (top-k, minimum frequency,
 * out-of-vocabulary buckets), hash buckets, and crosses of two columns. Counting is SQL;
 * only the vocabulary is learned: every other value is hashed by the graph (hash.ts), so
 * a value the training split never showed gets a bucket of its own too.
 */
import { LoomError } from '../core/errors.js';
import { sqlIdent } from '../data/duckdb.js';
import type { CategoryTable, CategoryValue } from './fitted.js';

/** A DuckDB connection's query, as analyzers.ts passes it. */
export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

export interface TableOptions {
  /** Values with their own column; 0 for the hash analyzer. */
  topK: number;
  minFrequency: number;
  oovBuckets: number;
}

/** The SQL key of a category column: integers as BIGINT, the rest as VARCHAR. */
export function categoryKey(column: string, rawType: 'string' | 'int'): string {
  return rawType === 'int' ? `${sqlIdent(column)}::BIGINT` : `${sqlIdent(column)}::VARCHAR`;
}

/** Rows a category counts in: not NULL, and for strings not '' (serving sends a missing string as ''). */
export function presentCondition(column: string, rawType: 'string' | 'int'): string {
  return rawType === 'int' ? `${sqlIdent(column)} IS NOT NULL` : `${sqlIdent(column)} IS NOT NULL AND ${sqlIdent(column)}::VARCHAR <> ''`;
}

/** Counts a column's values in the source and builds its category table; `first` is the most frequent value (ties by value). */
export async function fitCategoryTable(
  query: Query,
  source: string,
  column: string,
  rawType: 'string' | 'int',
  options: TableOptions,
): Promise<{ table: CategoryTable<CategoryValue>; first: CategoryValue | undefined }> {
  // Sorted by count, so the k most frequent are all a vocabulary can hold (one more row names the most frequent for imputation).
  const rows = await query(
    `SELECT ${categoryKey(column, rawType)} AS v, count(*) AS c FROM ${source} WHERE ${presentCondition(column, rawType)}
     GROUP BY v ORDER BY c DESC, v ASC LIMIT ${Math.max(options.topK, 1)}`,
  );
  const values = rows.map((row) => ({ value: rawType === 'int' ? toSafeNumber(column, row.v) : String(row.v), count: Number(row.c) }));
  return { table: vocabularyOf(values, options), first: values[0]?.value };
}

/** Counts the observed pairs of two columns and builds the cross's table (no counting for a hashed cross: it has no vocabulary). */
export async function fitCrossTable(
  query: Query,
  source: string,
  columns: [string, string],
  rawTypes: ['string' | 'int', 'string' | 'int'],
  options: TableOptions,
): Promise<CategoryTable<[CategoryValue, CategoryValue]>> {
  if (options.topK === 0) return { vocabulary: [], oovBuckets: options.oovBuckets };
  const rows = await query(
    `SELECT ${categoryKey(columns[0], rawTypes[0])} AS a, ${categoryKey(columns[1], rawTypes[1])} AS b, count(*) AS c FROM ${source}
     WHERE ${presentCondition(columns[0], rawTypes[0])} AND ${presentCondition(columns[1], rawTypes[1])}
     GROUP BY a, b ORDER BY c DESC, a ASC, b ASC LIMIT ${options.topK}`,
  );
  const side = (i: 0 | 1, value: unknown): CategoryValue => (rawTypes[i] === 'int' ? toSafeNumber(columns[i], value) : String(value));
  const pairs = rows.map((row) => ({ value: [side(0, row.a), side(1, row.b)] as [CategoryValue, CategoryValue], count: Number(row.c) }));
  return vocabularyOf(pairs, options);
}

/** The vocabulary of counted values (most frequent first): the first k at or above the minimum frequency. */
function vocabularyOf<K>(values: { value: K; count: number }[], options: TableOptions): CategoryTable<K> {
  const vocabulary = values.filter(({ count }) => count >= options.minFrequency).slice(0, options.topK).map(({ value }) => value);
  return { vocabulary, oovBuckets: options.oovBuckets };
}

export function toSafeNumber(name: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new LoomError('INVALID_ARGUMENT', `feature "${name}" has the category ${String(value)}, beyond the ±2^53 a vocabulary can hold`, {
      field: `overrides.${name}`,
      fix: 'z-score it instead, or map it to a string',
    });
  }
  return number;
}
