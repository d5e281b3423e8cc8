/**
 * The value counts of an integer (or boolean) column of a small span: every present value
 * and how many rows hold it. Statistics group such columns by value anyway (statistics.ts),
 * so their count, mean, standard deviation and zeros are read off the counts instead of
 * being aggregated row by row, and exact bins (exact-bins.ts) are counted from them without
 * a scan of their own.
 *
 * Usage: `const { mean, std } = momentsOfValueCounts(counts)`
 */

/** Every present value and its number of rows, in no particular order. */
export type ValueCounts = { values: number[]; counts: number[] };

/** What statistics report of a numeric column that the value counts determine. */
export type ValueMoments = { count: number; mean: number; std: number; zeros: number };

/**
 * Count, mean, population standard deviation and zeros of the values counted. The mean is
 * the sum over the count: for integers (|sum| < 2^53) every term and partial sum is exact,
 * so it is the value DuckDB's avg gives to the bit. The deviation is summed about that mean
 * (two passes), as accurate as DuckDB's streaming stddev_pop, whose last bits already vary
 * with how its threads split the rows. No values: all zeros, as statistics report them.
 */
export function momentsOfValueCounts({ values, counts }: ValueCounts): ValueMoments {
  let count = 0;
  let sum = 0;
  let zeros = 0;
  values.forEach((value, i) => {
    count += counts[i]!;
    sum += value * counts[i]!;
    if (value === 0) zeros += counts[i]!;
  });
  if (count === 0) return { count: 0, mean: 0, std: 0, zeros: 0 };
  const mean = sum / count;
  let squares = 0;
  values.forEach((value, i) => {
    squares += counts[i]! * (value - mean) * (value - mean);
  });
  return { count, mean, std: Math.sqrt(squares / count), zeros };
}
