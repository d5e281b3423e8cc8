/**
 * Exact counts of a relation's numeric values in bins (`numericBinEdges`), in one scan for
 * every feature: what binned drift measures need when the rows are at hand (monitoring
 * reads them from the prediction log and the training split), instead of counts
 * interpolated from quantile sketches. Bins are NumPy's: [e_i, e_{i+1}), the last closed;
 * a value's bin is the number of inner edges at or below it, so an edge is compared, never
 * recomputed. Values are those statistics count (finite; BOOL as 0/1).
 *
 * Usage: `const counts = await exactBinCounts(db, 'SELECT * FROM window', [{ name: 'distance', type: 'INT', edges }])`
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlIdent } from '../data/duckdb.js';
import { numericValueSql, type FeatureType } from './statistics.js';

export interface BinnedColumn {
  name: string;
  type: FeatureType;
  /** Ascending edges; n + 1 of them for n bins. */
  edges: number[];
}

/** Counts per bin for each column, by name. */
export async function exactBinCounts(db: DuckDBConnection, relation: string, columns: readonly BinnedColumn[]): Promise<Map<string, number[]>> {
  const result = new Map<string, number[]>(columns.map((c) => [c.name, new Array<number>(Math.max(1, c.edges.length - 1)).fill(0)]));
  if (columns.length === 0) return result;
  const projections = columns.map((column, i) => {
    const value = numericValueSql({ ident: sqlIdent(column.name), type: column.type });
    const inner = column.edges.slice(1, -1);
    // NULL (missing) stays NULL; a value's bin is how many inner edges are ≤ it.
    const bin = inner.length === 0 ? '0' : inner.map((edge) => `(${value} >= ${literal(edge)})::INTEGER`).join(' + ');
    return `CASE WHEN ${value} IS NOT NULL THEN ${bin} END AS b${i}`;
  });
  const which = `CASE ${columns.map((_, i) => `WHEN GROUPING(b${i}) = 0 THEN ${i}`).join(' ')} END`;
  const keys = columns.map((_, i) => `b${i}`);
  const rows = await queryRows(
    db,
    `SELECT ${which} AS col, coalesce(${keys.join(', ')}, NULL) AS bin, count(*)::DOUBLE AS n
     FROM (SELECT ${projections.join(', ')} FROM (${relation}))
     GROUP BY GROUPING SETS (${keys.map((k) => `(${k})`).join(', ')})`,
  );
  for (const row of rows) {
    if (row.bin === null) continue;
    const counts = result.get(columns[Number(row.col)]!.name)!;
    counts[Number(row.bin)]! += Number(row.n);
  }
  return result;
}

/** A DOUBLE literal that round-trips exactly (JavaScript prints the shortest exact form). */
function literal(value: number): string {
  return `${String(value)}::DOUBLE`;
}
