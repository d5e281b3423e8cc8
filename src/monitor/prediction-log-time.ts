/**
 * How a log file's `logged_at` reads as a TIMESTAMP, by its column type: epoch milliseconds
 * (the writer's BIGINT, or another number type) or a timestamp. One definition for the reader
 * and the profiles: a window served by profiles is cut by the times the reader reads, so the
 * two must read every file's times alike.
 *
 * Usage: `SELECT ${loggedAtSql(type)} AS logged_at FROM read_parquet(…)`
 */

/** `logged_at` as a TIMESTAMP, given the column's DuckDB type in the file(s) read (undefined: a timestamp). */
export function loggedAtSql(columnType: string | undefined): string {
  return /^(BIGINT|INTEGER|HUGEINT|UBIGINT|DOUBLE)$/.test(columnType ?? '') ? 'epoch_ms(logged_at::BIGINT)' : 'logged_at::TIMESTAMP';
}
