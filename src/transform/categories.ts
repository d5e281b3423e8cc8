/**
 * Fitting the category analyzers in DuckDB: vocabulary (top-k, minimum frequency,
 * out-of-vocabulary buckets), hash buckets, and crosses of two columns. Counting is SQL;
 * JavaScript only splits the counted values into the vocabulary and the hashed rest.
 */
import { LoomError } from '../core/errors.js';
import { sqlIdent } from '../data/duckdb.js';
import type { CategoryTable, CategoryValue } from './fitted.js';
import { CROSS_SEPARATOR, hashBucket } from './hash.js';

/**
 * At most this many distinct training values are hashed into buckets (the most frequent
 * first); rarer ones are treated like unseen values (bucket 0). It bounds the size of the
 * LabelEncoder table that carries the fit-time hashes.
 */
export const HASHED_VALUES_LIMIT = 100_000;

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
  // With one shared bucket every non-vocabulary value lands in it, so only the top k need counting out.
  const limit = options.oovBuckets === 1 ? Math.max(options.topK, 1) : Math.max(options.topK, 0) + HASHED_VALUES_LIMIT;
  const rows = await query(
    `SELECT ${categoryKey(column, rawType)} AS v, count(*) AS c FROM ${source} WHERE ${presentCondition(column, rawType)}
     GROUP BY v ORDER BY c DESC, v ASC LIMIT ${limit}`,
  );
  const values = rows.map((row) => ({ value: rawType === 'int' ? toSafeNumber(column, row.v) : String(row.v), count: Number(row.c) }));
  return { table: splitCounted(values, options, (value) => String(value)), first: values[0]?.value };
}

/** Counts the observed pairs of two columns and builds the cross's table. */
export async function fitCrossTable(
  query: Query,
  source: string,
  columns: [string, string],
  rawTypes: ['string' | 'int', 'string' | 'int'],
  options: TableOptions,
): Promise<CategoryTable<[CategoryValue, CategoryValue]>> {
  const limit = options.oovBuckets === 1 ? Math.max(options.topK, 1) : Math.max(options.topK, 0) + HASHED_VALUES_LIMIT;
  const rows = await query(
    `SELECT ${categoryKey(columns[0], rawTypes[0])} AS a, ${categoryKey(columns[1], rawTypes[1])} AS b, count(*) AS c FROM ${source}
     WHERE ${presentCondition(columns[0], rawTypes[0])} AND ${presentCondition(columns[1], rawTypes[1])}
     GROUP BY a, b ORDER BY c DESC, a ASC, b ASC LIMIT ${limit}`,
  );
  const side = (i: 0 | 1, value: unknown): CategoryValue => (rawTypes[i] === 'int' ? toSafeNumber(columns[i], value) : String(value));
  const pairs = rows.map((row) => ({ value: [side(0, row.a), side(1, row.b)] as [CategoryValue, CategoryValue], count: Number(row.c) }));
  return splitCounted(pairs, options, ([a, b]) => `${a}${CROSS_SEPARATOR}${b}`);
}

/** Counted values (most frequent first) into vocabulary and hashed rest; bucket-0 values need no entry (it is the default). */
function splitCounted<K>(values: { value: K; count: number }[], options: TableOptions, text: (value: K) => string): CategoryTable<K> {
  const vocabulary: K[] = [];
  const hashed: CategoryTable<K>['hashed'] = { values: [], buckets: [] };
  for (const { value, count } of values) {
    if (vocabulary.length < options.topK && count >= options.minFrequency) {
      vocabulary.push(value);
      continue;
    }
    if (options.oovBuckets === 1) continue;
    const bucket = hashBucket(text(value), options.oovBuckets);
    if (bucket === 0) continue;
    hashed.values.push(value);
    hashed.buckets.push(bucket);
  }
  return { vocabulary, oovBuckets: options.oovBuckets, hashed };
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
