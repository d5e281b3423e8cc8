/**
 * One metric's whole history as three columns, read for charts: the database builds each column
 * as one value (a JSON array in SQLite, an array in PostgreSQL), so a 100,000-point history
 * costs one row instead of 100,000 row objects and 100,000 `Metric` objects. The order is
 * `getMetricHistory`'s: step, then timestamp.
 */
import { sql } from 'kysely';
import type { DialectKind } from '../core/sql-dialect.js';
import type { TrackingKysely } from './tracking-tables.js';

/** A metric's points column by column, in step then timestamp order; a NaN value reads as NaN. */
export interface MetricColumns {
  steps: number[];
  values: number[];
  timestamps: number[];
}

/** NaN is stored as 0 with is_nan = 1; both databases' arrays carry it as null, read back here as NaN. */
const nanOfNull = (values: (number | null)[]): number[] => values.map((v) => (v === null ? Number.NaN : v));

/** The columns of `key` in the run whose row id is `runKey` (empty columns when it has no such key). */
export async function readMetricColumns(db: TrackingKysely, dialect: DialectKind, runKey: number, key: string): Promise<MetricColumns> {
  if (dialect === 'postgres') {
    // float8 arrays: `pg` parses them element by element into numbers (Infinity included); steps
    // and timestamps are safe integers (checked on write), exact as doubles.
    const { rows } = await sql<{ s: number[] | null; t: number[] | null; v: (number | null)[] | null }>`
      select array_agg(step::float8 order by step, timestamp) as s, array_agg(timestamp::float8 order by step, timestamp) as t,
        array_agg(case when is_nan = 1 then null else value end order by step, timestamp) as v
      from tracking_metric where run_key = ${runKey} and key = ${key}`.execute(db);
    const row = rows[0];
    return { steps: row?.s ?? [], values: nanOfNull(row?.v ?? []), timestamps: row?.t ?? [] };
  }
  // SQLite (3.44+) takes ORDER BY inside an aggregate like PostgreSQL; it writes an infinite
  // double into JSON as 9.0e+999, which JSON.parse reads back as Infinity, and doubles in full.
  const { rows } = await sql<{ s: string; t: string; v: string }>`
    select json_group_array(step order by step, timestamp) as s, json_group_array(timestamp order by step, timestamp) as t,
      json_group_array(case when is_nan then null else value end order by step, timestamp) as v
    from tracking_metric where run_key = ${runKey} and key = ${key}`.execute(db);
  const row = rows[0]!;
  return { steps: JSON.parse(row.s) as number[], values: nanOfNull(JSON.parse(row.v) as (number | null)[]), timestamps: JSON.parse(row.t) as number[] };
}
