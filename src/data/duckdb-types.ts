/**
 * The one classification of DuckDB column types (as `DESCRIBE` reports them) into the
 * kinds the rest of Loom reasons about: statistics pick numeric or string summaries by
 * it, ingest checks time columns with it, analyzers and evaluation configs check
 * feature types with it. Keeping one list means a type DuckDB adds (UHUGEINT,
 * TIMESTAMP_NS, DECIMAL(p,s)) is handled the same everywhere.
 *
 * Usage: `if (duckdbTypeKind(column.type) === 'time') ...`, or `isNumericType(column.type)`.
 */

export const DUCKDB_TYPE_KINDS = ['integer', 'float', 'boolean', 'string', 'time', 'other'] as const;
/** `integer` and `float` are numeric; `time` is DATE and every TIMESTAMP; `other` is TIME, BLOB, nested types... */
export type DuckDBTypeKind = (typeof DUCKDB_TYPE_KINDS)[number];

const INTEGER = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/;
const FLOAT = /^(FLOAT|DOUBLE|REAL|DECIMAL(\(\s*\d+\s*,\s*\d+\s*\))?)$/;
const TIME = /^(DATE|TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?|TIMESTAMPTZ)$/;

/** The kind of a DuckDB column type; case and surrounding spaces do not matter. */
export function duckdbTypeKind(sqlType: string): DuckDBTypeKind {
  const type = sqlType.trim().toUpperCase();
  if (INTEGER.test(type)) return 'integer';
  if (FLOAT.test(type)) return 'float';
  if (type === 'BOOLEAN') return 'boolean';
  if (TIME.test(type)) return 'time';
  if (type === 'VARCHAR' || type.startsWith('ENUM(')) return 'string';
  return 'other';
}

/** Integer and floating-point types (DECIMAL included); BOOLEAN is not numeric here. */
export function isNumericType(sqlType: string): boolean {
  const kind = duckdbTypeKind(sqlType);
  return kind === 'integer' || kind === 'float';
}

/** DATE and every TIMESTAMP variant. */
export function isTimeType(sqlType: string): boolean {
  return duckdbTypeKind(sqlType) === 'time';
}

/**
 * SQL reading the DATE or TIMESTAMP column `column` (a quoted identifier) as a model input
 * that takes timestamps as int64 epoch milliseconds or as ISO 8601 text: what a client
 * sends for the same row. A value without a zone keeps its wall-clock time (as text
 * without an offset; as epoch milliseconds it is read as UTC); a TIMESTAMP WITH TIME
 * ZONE is its instant, as text in UTC (`Z`). Seconds are whole: no part reads less.
 */
export function timeColumnAs(column: string, sqlType: string, as: 'int64' | 'string'): string {
  const type = sqlType.trim().toUpperCase();
  if (as === 'int64') return `epoch_ms(${column})`;
  if (type === 'DATE') return `strftime(${column}, '%Y-%m-%d')`;
  if (type === 'TIMESTAMPTZ' || type.endsWith('WITH TIME ZONE')) return `strftime(make_timestamp(epoch_us(${column})), '%Y-%m-%dT%H:%M:%SZ')`;
  return `strftime(${column}, '%Y-%m-%dT%H:%M:%S')`;
}
