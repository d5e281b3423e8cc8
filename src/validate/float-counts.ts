/**
 * A FLOAT column's counts from its grouped sketch keys: the grouping query that keys every
 * value for the quantile sketch (statistics.ts) also sets apart exact zeros, NaN and ±Infinity
 * under keys of their own, so the count of present values, the zeros and the non-finite
 * counts need no aggregate per row.
 *
 * Keys: the sketch's (sketch.ts: 0 for |x| ≤ 1e-9, else ±(k + 1,000,000) with |k| far below
 * 1,000,000) and four special ones no sketch key can be: −1 an exact zero (±0), −2 NaN,
 * −3 +Infinity, −4 −Infinity. NULL stays NULL (missing).
 *
 * Usage: `const counts = floatCountsOf(rows.map((r) => [Number(r.k), Number(r.n)]))`
 */
import { sketchKeySql } from './sketch.js';

const EXACT_ZERO = -1;
const NAN = -2;
const POS_INF = -3;
const NEG_INF = -4;

/** The grouping key of a FLOAT column (SQL): the sketch key of finite non-zero values, a special key otherwise. */
export function floatKeySql(ident: string): string {
  const d = `${ident}::DOUBLE`;
  // NaN first: DuckDB orders NaN above every number, so the sketch key's comparisons would take it for one.
  return `CASE WHEN isnan(${d}) THEN ${NAN} WHEN ${d} = 'inf'::DOUBLE THEN ${POS_INF} WHEN ${d} = '-inf'::DOUBLE THEN ${NEG_INF} WHEN ${d} = 0 THEN ${EXACT_ZERO} ELSE ${sketchKeySql(d)} END`;
}

/** The sketch's (key, count) pairs (exact zeros in the zero bucket), and the counts the special keys give. */
export function floatCountsOf(pairs: Iterable<[number, number]>): { sketch: [number, number][]; count: number; zeros: number; nan: number; posInf: number; negInf: number } {
  const result = { sketch: [] as [number, number][], count: 0, zeros: 0, nan: 0, posInf: 0, negInf: 0 };
  for (const [key, n] of pairs) {
    if (key === NAN) result.nan += n;
    else if (key === POS_INF) result.posInf += n;
    else if (key === NEG_INF) result.negInf += n;
    else {
      result.count += n;
      if (key === EXACT_ZERO) result.zeros += n;
      result.sketch.push([key === EXACT_ZERO ? 0 : key, n]);
    }
  }
  return result;
}
