/**
 * Rows as chart series: the queries read one row per group and window (ordered by group, then
 * window start) and answer one series per group with a column per measure, which the
 * dashboard plots as is.
 *
 * Usage: `groupSeries(rows, (r) => String(r.version), (r) => ({ version: r.version, starts: [] }), (s, r) => s.starts.push(r.start))`
 */

/**
 * One series per distinct `key(row)`, in the order the groups first appear: `make` builds a
 * series (its fixed fields, empty columns) from the group's first row and `add` appends each
 * row's values to its columns.
 */
export function groupSeries<R, S>(rows: readonly R[], key: (row: R) => string, make: (row: R) => S, add: (series: S, row: R) => void): S[] {
  const series = new Map<string, S>();
  for (const row of rows) {
    const k = key(row);
    let s = series.get(k);
    if (!s) series.set(k, (s = make(row)));
    add(s, row);
  }
  return [...series.values()];
}

/** A SQL value as a number, keeping NULL (a window without a value) as null. */
export function numberOrNull(value: unknown): number | null {
  return value === null ? null : Number(value);
}
