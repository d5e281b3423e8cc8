/**
 * Exact counts of a relation's numeric values in bins (`numericBinEdges`), in one scan for
 * every feature: what binned drift measures need when the rows are at hand (monitoring
 * reads them from the prediction log and the training split), instead of counts
 * interpolated from quantile sketches. Bins are NumPy's: [e_i, e_{i+1}), the last closed;
 * a value's bin is the number of inner edges at or below it, so an edge is compared, never
 * recomputed. Values are those statistics count (finite; BOOL as 0/1).
 *
 * Counting the inner edges at or below a value costs one comparison per edge (about 21 per
 * value for a million rows' Sturges bins). Where the edges allow it (always for
 * `numericBinEdges`' evenly spaced ones), the bin is instead guessed by arithmetic and the
 * guess corrected by comparing with the two exact edges around it: the same bin, in three
 * operations (see `guessedBin`); integers of a small span are counted per distinct value and
 * those values binned in JavaScript. Value counts already at hand (the statistics' own,
 * `statisticsWithValueCounts`, or a relation's kept by the caller, `discreteValueCounts`)
 * are binned without any scan.
 *
 * Usage: `const counts = await exactBinCounts(db, 'SELECT * FROM window', [{ name: 'distance', type: 'INT', edges }])`
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlIdent } from '../data/duckdb.js';
import { MAX_DISCRETE_SPAN, numericValueSql, type DatasetStatistics, type FeatureType } from './statistics.js';
import type { ValueCounts } from './value-counts.js';

export interface BinnedColumn {
  name: string;
  type: FeatureType;
  /** Ascending edges; n + 1 of them for n bins. */
  edges: number[];
}

/**
 * Counts per bin for each column, by name. Columns whose every present value and its count
 * are in `known` (by name) are binned from those; the others in one scan of `relation`.
 */
export async function exactBinCounts(
  db: DuckDBConnection,
  relation: string,
  columns: readonly BinnedColumn[],
  known: ReadonlyMap<string, ValueCounts> = new Map(),
): Promise<Map<string, number[]>> {
  const result = new Map<string, number[]>(columns.map((c) => [c.name, new Array<number>(Math.max(1, c.edges.length - 1)).fill(0)]));
  for (const column of columns) {
    const counts = known.get(column.name);
    if (counts) binValueCounts(column.edges, counts, result.get(column.name)!);
  }
  const scanned = columns.filter((c) => !known.has(c.name));
  if (scanned.length === 0) return result;
  const values = scanned.map((column, i) => `${numericValueSql({ ident: sqlIdent(column.name), type: column.type })} AS v${i}`);
  // Integers of a small span (and booleans) have few distinct values: grouping the rows by
  // value is cheaper than binning each row, and those few values are binned here.
  const discrete = scanned.map((c) => c.type === 'BOOL' || (c.type === 'INT' && c.edges.at(-1)! - c.edges[0]! <= MAX_DISCRETE_SPAN));
  const guesses: string[] = [];
  const keys = scanned.map((column, i) => {
    const v = `v${i}`;
    const inner = column.edges.slice(1, -1);
    if (discrete[i]) return `${v} AS k${i}`;
    // NULL (missing) stays NULL; a value's bin is how many inner edges are ≤ it.
    const guessed = inner.length === 0 ? undefined : guessedBin(column.edges, v, `g${i}`);
    if (guessed) guesses.push(`${guessed.guess} AS g${i}`);
    const bin = inner.length === 0 ? '0' : (guessed?.bin ?? inner.map((edge) => `(${v} >= ${literal(edge)})::INTEGER`).join(' + '));
    return `CASE WHEN ${v} IS NOT NULL THEN ${bin} END::DOUBLE AS k${i}`;
  });
  const which = `CASE ${scanned.map((_, i) => `WHEN GROUPING(k${i}) = 0 THEN ${i}`).join(' ')} END`;
  const names = scanned.map((_, i) => `k${i}`);
  // Per column: its bins' counts, or (discrete) its values' counts.
  const rows = await queryRows(
    db,
    `SELECT ${which} AS col, coalesce(${names.join(', ')}, NULL) AS k, count(*)::DOUBLE AS n
     FROM (SELECT ${keys.join(', ')} FROM (SELECT *${guesses.map((g) => `, ${g}`).join('')} FROM (SELECT ${values.join(', ')} FROM (${relation}))))
     GROUP BY GROUPING SETS (${names.map((k) => `(${k})`).join(', ')})`,
  );
  for (const row of rows) {
    if (row.k === null) continue;
    const i = Number(row.col);
    const column = scanned[i]!;
    const bin = discrete[i] ? edgesAtOrBelow(column.edges, Number(row.k)) : Number(row.k);
    result.get(column.name)![bin]! += Number(row.n);
  }
  return result;
}

/**
 * The value counts of `relation`'s integer and boolean columns among `names` whose span
 * `statistics` (of the same rows) shows small, in one scan: what a caller keeps to bin the
 * same rows on other edges later without reading them again (monitoring's training rows,
 * binned on new edges by every window).
 */
export async function discreteValueCounts(db: DuckDBConnection, relation: string, statistics: DatasetStatistics, names: readonly string[]): Promise<Map<string, ValueCounts>> {
  const result = new Map<string, ValueCounts>();
  const columns = statistics.features.filter(
    (f) => names.includes(f.name) && f.numeric && (f.type === 'BOOL' || (f.type === 'INT' && f.numeric.max - f.numeric.min <= MAX_DISCRETE_SPAN)),
  );
  if (columns.length === 0) return result;
  const which = `CASE ${columns.map((_, i) => `WHEN GROUPING(v${i}) = 0 THEN ${i}`).join(' ')} END`;
  const keys = columns.map((_, i) => `v${i}`);
  const rows = await queryRows(
    db,
    `SELECT ${which} AS col, coalesce(${keys.map((v) => `${v}::DOUBLE`).join(', ')}, NULL) AS v, count(*)::DOUBLE AS n
     FROM (SELECT ${columns.map((c, i) => `${sqlIdent(c.name)} AS v${i}`).join(', ')} FROM (${relation}))
     GROUP BY GROUPING SETS (${keys.map((v) => `(${v})`).join(', ')})`,
  );
  columns.forEach((c) => result.set(c.name, { values: [], counts: [] }));
  for (const row of rows) {
    if (row.v === null) continue;
    const counts = result.get(columns[Number(row.col)]!.name)!;
    counts.values.push(Number(row.v));
    counts.counts.push(Number(row.n));
  }
  return result;
}

/** Adds each value's count to its bin. */
function binValueCounts(edges: readonly number[], { values, counts }: ValueCounts, bins: number[]): void {
  values.forEach((value, i) => {
    bins[edgesAtOrBelow(edges, value)]! += counts[i]!;
  });
}

/** A value's bin: how many inner edges are ≤ it (a binary search). */
function edgesAtOrBelow(edges: readonly number[], value: number): number {
  let low = 0;
  let high = Math.max(0, edges.length - 2);
  // The answer is in [low, high]: inner edges are edges[1 .. length - 2].
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (edges[middle]! <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** A DOUBLE literal that round-trips exactly (JavaScript prints the shortest exact form). */
function literal(value: number): string {
  return `${String(value)}::DOUBLE`;
}

/**
 * A value's bin as SQL in three steps instead of one comparison per edge: the guess
 * g = floor((v − e₀) / step), clamped to the bins (step = (e_last − e₀) / bins, how
 * `numericBinEdges` spaces them), then one down if v is below g's lower edge and one up
 * if v is at or above its upper edge, both compared with the exact edges. The guess is
 * monotone in v (IEEE subtraction, division and floor are, and DuckDB's DOUBLE arithmetic is
 * the same as JavaScript's), so if it is within one bin at every edge, it is within one for
 * every value, and the correction lands on the bin counting edges gives. That is checked
 * here on the edges themselves; undefined (count the edges) when it does not hold.
 */
function guessedBin(edges: readonly number[], v: string, g: string): { guess: string; bin: string } | undefined {
  const bins = edges.length - 1;
  const first = edges[0]!;
  const step = (edges[bins]! - first) / bins;
  if (!(step > 0) || !Number.isFinite(step)) return undefined;
  const guess = (x: number) => Math.min(bins - 1, Math.max(0, Math.floor((x - first) / step)));
  // Bin i holds [e_i, e_{i+1}): its values' guesses lie between those of its two edges.
  for (let i = 0; i < bins; i++) {
    if (!(edges[i + 1]! > edges[i]!)) return undefined;
    if (guess(edges[i]!) < i - 1 || guess(edges[i + 1]!) > i + 1) return undefined;
  }
  const list = `[${edges.map(literal).join(', ')}]`;
  // DuckDB lists are 1-based: edge e_g is list[g + 1].
  return {
    guess: `least(${bins - 1}, greatest(0, floor((${v} - ${literal(first)}) / ${literal(step)})))::INTEGER`,
    bin: `${g} - (${g} > 0 AND ${v} < ${list}[${g} + 1])::INTEGER + (${g} < ${bins - 1} AND ${v} >= ${list}[${g} + 2])::INTEGER`,
  };
}
