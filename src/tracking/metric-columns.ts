/**
 * One metric's history as three columns, read for charts: the database builds each column
 * as one value (a JSON array in SQLite, an array in PostgreSQL), so a 100,000-point history
 * costs one row instead of 100,000 row objects and 100,000 `Metric` objects. The order is
 * `getMetricHistory`'s: step, then timestamp.
 *
 * A chart a few hundred pixels wide cannot show more than a few thousand points, so the
 * history can be downsampled to `maxPoints` inside the database: window functions number the
 * points, put them in buckets and find each bucket's lowest and highest value, and only the
 * kept rows leave the database (SQLite rendering 300,000 numbers as JSON was most of the cost).
 */
import { sql, type RawBuilder } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { DialectKind } from '../core/sql-dialect.js';
import type { TrackingKysely } from './tracking-tables.js';

/**
 * A metric's points column by column, in step then timestamp order; a NaN value reads as NaN.
 * `total` is how many points the run logged for the key (the columns hold fewer when downsampled).
 */
export interface MetricColumns {
  total: number;
  steps: number[];
  values: number[];
  timestamps: number[];
}

/**
 * How many points to keep. 0 keeps every point. Otherwise, when the history is longer than
 * `maxPoints`, the kept points are the first and the last, and between them the other points
 * cut into floor((maxPoints - 2) / 2) buckets of equal size (bucket b of B holds inner points
 * floor(b * (n - 2) / B) to floor((b + 1) * (n - 2) / B) - 1), each giving its lowest and
 * highest finite value (the earliest of equal values; one point when they coincide; its
 * first point when it has no finite value, so a gap still shows). `maxPoints` 1 to 3 is
 * treated as 4: first, last and one bucket's min and max.
 */
export interface MetricColumnsOptions {
  maxPoints?: number;
}

/** NaN is stored as 0 with is_nan = 1; both databases' arrays carry it as null, read back here as NaN. */
const nanOfNull = (values: (number | null)[]): number[] => values.map((v) => (v === null ? Number.NaN : v));

/** The downsampling's sizes: at most `maxPoints` (at least 4) points, from 2 ends and `buckets` min/max pairs. */
function downsampleSizes(maxPoints: number): { limit: number; buckets: number } {
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 0) {
    throw new LoomError('INVALID_ARGUMENT', `maxPoints must be a whole number of 0 or more, not ${maxPoints}`, { field: 'maxPoints', fix: 'pass 0 to keep every point, or the most points the chart can show' });
  }
  const limit = Math.max(4, maxPoints);
  return { limit, buckets: Math.floor((limit - 2) / 2) };
}

/**
 * The rows to read, each with its 1-based position `i` in step-then-timestamp order and the
 * history's length `n`: every row, or only the kept ones (see `MetricColumnsOptions`).
 */
function keptRows(runKey: number, key: string, maxPoints: number): RawBuilder<unknown> {
  // The count is its own query (the index alone answers it): once, not a window over every row.
  const total = sql`(select count(*) from tracking_metric where run_key = ${runKey} and key = ${key})`;
  const numbered = sql`select step, timestamp, value, is_nan, row_number() over (order by step, timestamp) as i, ${total} as n
    from tracking_metric where run_key = ${runKey} and key = ${key}`;
  if (maxPoints === 0) return numbered;
  const { limit, buckets } = downsampleSizes(maxPoints);
  // Bucket -1 holds what is kept whatever it is: the ends, or every point of a short history.
  // Integer division in both databases: inner point i (2..n-1) has 0-based inner index j = i - 2
  // and falls in the last bucket b whose start floor(b (n-2) / B) <= j, i.e. b = ((j+1) B - 1) div (n-2).
  // `fin` is the value when finite (NaN is stored as 0 with is_nan = 1; an infinity's abs is above
  // the largest double), so NaN and infinities are never a bucket's min or max.
  // One window (one sort) finds each bucket's min, max and first row; the candidates holding them
  // are few, and a second window over them keeps the earliest of equal values (one row when min = max).
  return sql`select step, timestamp, value, is_nan, i, n from (
      select candidates.*, row_number() over (partition by bucket, fin = low, fin = high order by i) as pick
      from (
        select * from (
          select bucketed.*, min(fin) over w as low, max(fin) over w as high, min(i) over w as first_i
          from (
            select numbered.*,
              case when n <= cast(${limit} as bigint) or i = 1 or i = n then -1 else ((i - 1) * cast(${buckets} as bigint) - 1) / (n - 2) end as bucket,
              case when is_nan = 0 and abs(value) <= cast(${Number.MAX_VALUE} as double precision) then value end as fin
            from (${numbered}) numbered
          ) bucketed
          window w as (partition by bucket)
        ) extremes
        where bucket = -1 or fin = low or fin = high or (low is null and i = first_i)
      ) candidates
    ) picked
    where bucket = -1 or pick = 1`;
}

/**
 * The columns of `key` in the run whose row id is `runKey`, downsampled to `options.maxPoints`
 * (empty columns when it has no such key). INVALID_ARGUMENT for a negative or fractional `maxPoints`.
 */
export async function readMetricColumns(db: TrackingKysely, dialect: DialectKind, runKey: number, key: string, options: MetricColumnsOptions = {}): Promise<MetricColumns> {
  const rows = keptRows(runKey, key, options.maxPoints ?? 0);
  if (dialect === 'postgres') {
    // float8 arrays: `pg` parses them element by element into numbers (Infinity included); steps
    // and timestamps are safe integers (checked on write), exact as doubles.
    const result = await sql<{ s: number[] | null; t: number[] | null; v: (number | null)[] | null; n: string | null }>`
      select array_agg(step::float8 order by i) as s, array_agg(timestamp::float8 order by i) as t,
        array_agg(case when is_nan = 1 then null else value end order by i) as v, max(n) as n
      from (${rows}) kept`.execute(db);
    const row = result.rows[0];
    return { total: Number(row?.n ?? 0), steps: row?.s ?? [], values: nanOfNull(row?.v ?? []), timestamps: row?.t ?? [] };
  }
  // SQLite (3.44+) takes ORDER BY inside an aggregate like PostgreSQL; it writes an infinite
  // double into JSON as 9.0e+999, which JSON.parse reads back as Infinity, and doubles in full.
  const result = await sql<{ s: string; t: string; v: string; n: number | null }>`
    select json_group_array(step order by i) as s, json_group_array(timestamp order by i) as t,
      json_group_array(case when is_nan = 1 then null else value end order by i) as v, max(n) as n
    from (${rows}) kept`.execute(db);
  const row = result.rows[0]!;
  return { total: row.n ?? 0, steps: JSON.parse(row.s) as number[], values: nanOfNull(JSON.parse(row.v) as (number | null)[]), timestamps: JSON.parse(row.t) as number[] };
}
