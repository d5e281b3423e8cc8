/**
 * The one write path for a run's values: `writeBatch` runs inside the caller's
 * transaction. Metric points go in as one statement per 5,000 rows that carries the rows
 * as a few bound values and expands them in the database (SQLite: `json_each` over one
 * JSON array; PostgreSQL: `unnest` over one array per column), so the statement text is
 * the same for every batch and nothing is bound per row. The latest point per key is
 * upserted once per key, only where it is newer than the stored one.
 */
import { sql } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { DialectKind } from '../core/sql-dialect.js';
import type { TrackingKysely } from './tracking-tables.js';
import { chunks, IN_LIST_CHUNK, INSERT_CHUNK_ROWS } from '../metadata/query-helpers.js';
import { checkedKeyValues, checkedMetricRow, latestByKey, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH, type MetricRow } from './tracking-rows.js';
import { RUN_NAME_TAG, type KeyValue, type LogBatch } from './types.js';

export const METRIC_CHUNK_ROWS = 5000;

/** The batch checked and shaped as rows, before any database work. */
export interface CheckedBatch {
  metrics: MetricRow[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** The run a batch goes to: its MLflow id and the integer that keys its metric history. */
export interface RunKeys {
  runId: string;
  runKey: number;
}

export function checkBatch(batch: LogBatch): CheckedBatch {
  // A batch repeats a few keys many times (one per step); each distinct key is checked once.
  const keys = new Set<string>();
  const metrics = (batch.metrics ?? []).map((metric, i) => checkedMetricRow(metric, i, keys));
  const params = checkedKeyValues(batch.params, 'params', MAX_PARAM_VALUE_LENGTH);
  const tags = checkedKeyValues(batch.tags, 'tags', MAX_TAG_VALUE_LENGTH);
  return { metrics, params: distinctParams(params), tags: lastTagWins(tags) };
}

function paramConflict(key: string, old: string, value: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', `param "${key}" was already logged as ${JSON.stringify(old)}; params are immutable and cannot be changed to ${JSON.stringify(value)}`, {
    field: 'params',
    fix: 'log a changed value as a new run, or under another key; use a tag or a metric for values that change',
  });
}

function distinctParams(params: KeyValue[]): KeyValue[] {
  const byKey = new Map<string, string>();
  for (const { key, value } of params) {
    const seen = byKey.get(key);
    if (seen !== undefined && seen !== value) throw paramConflict(key, seen, value);
    byKey.set(key, value);
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

function lastTagWins(tags: KeyValue[]): KeyValue[] {
  return [...new Map(tags.map((t) => [t.key, t.value]))].map(([key, value]) => ({ key, value }));
}

/** Writes a checked batch to a run that the caller has found active. Run inside a transaction. */
export async function writeBatch(trx: TrackingKysely, dialect: DialectKind, run: RunKeys, batch: CheckedBatch): Promise<void> {
  const { runId } = run;
  if (batch.params.length > 0) await writeParams(trx, runId, batch.params);
  for (const part of chunks(batch.tags, INSERT_CHUNK_ROWS)) {
    await trx
      .insertInto('tracking_tag')
      .values(part.map(({ key, value }) => ({ run_id: runId, key, value })))
      .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
  }
  // MLflow keeps the run's name and its mlflow.runName tag the same.
  const renamed = batch.tags.find((t) => t.key === RUN_NAME_TAG);
  if (renamed) await trx.updateTable('tracking_run').set({ run_name: renamed.value }).where('run_id', '=', runId).execute();
  if (batch.metrics.length > 0) await writeMetrics(trx, dialect, run, batch.metrics);
}

async function writeParams(trx: TrackingKysely, runId: string, params: KeyValue[]): Promise<void> {
  for (const part of chunks(params, IN_LIST_CHUNK)) {
    const existing = await trx
      .selectFrom('tracking_param')
      .select(['key', 'value'])
      .where('run_id', '=', runId)
      .where('key', 'in', part.map((p) => p.key))
      .execute();
    const old = new Map(existing.map((row) => [row.key, row.value]));
    for (const { key, value } of part) {
      const was = old.get(key);
      if (was !== undefined && was !== value) throw paramConflict(key, was, value);
    }
  }
  for (const part of chunks(params, INSERT_CHUNK_ROWS)) {
    await trx
      .insertInto('tracking_param')
      .values(part.map(({ key, value }) => ({ run_id: runId, key, value })))
      .onConflict((oc) => oc.columns(['run_id', 'key']).doNothing())
      .execute();
  }
}

/** A double as SQLite's JSON reader takes it: JSON.stringify writes infinities as null, JSON5 spells them (NaN never gets here). */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : '-Infinity';
}

async function insertHistory(trx: TrackingKysely, dialect: DialectKind, runKey: number, rows: MetricRow[]): Promise<void> {
  if (dialect === 'postgres') {
    await sql`insert into tracking_metric (run_key, key, value, is_nan, timestamp, step)
      select ${runKey}, * from unnest(${rows.map((r) => r.key)}::text[], ${rows.map((r) => r.value)}::float8[],
        ${rows.map((r) => r.is_nan)}::int[], ${rows.map((r) => r.timestamp)}::int8[], ${rows.map((r) => r.step)}::int8[])`.execute(trx);
    return;
  }
  const json = rows.every((r) => Number.isFinite(r.value))
    ? JSON.stringify(rows.map((r) => [r.key, r.value, r.is_nan, r.timestamp, r.step]))
    : `[${rows.map((r) => `[${JSON.stringify(r.key)},${jsonNumber(r.value)},${r.is_nan},${r.timestamp},${r.step}]`).join(',')}]`;
  await sql`insert into tracking_metric (run_key, key, value, is_nan, timestamp, step)
    select ${runKey}, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
      json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]')
    from json_each(${json}) as j`.execute(trx);
}

async function writeMetrics(trx: TrackingKysely, dialect: DialectKind, run: RunKeys, rows: MetricRow[]): Promise<void> {
  for (const part of chunks(rows, METRIC_CHUNK_ROWS)) await insertHistory(trx, dialect, run.runKey, part);
  for (const part of chunks(latestByKey(rows), INSERT_CHUNK_ROWS)) {
    await trx
      .insertInto('tracking_latest_metric')
      .values(part.map((row) => ({ ...row, run_id: run.runId })))
      .onConflict((oc) =>
        oc
          .columns(['run_id', 'key'])
          .doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            is_nan: eb.ref('excluded.is_nan'),
            timestamp: eb.ref('excluded.timestamp'),
            step: eb.ref('excluded.step'),
          }))
          .where((eb) =>
            eb.or([
              eb('excluded.step', '>', eb.ref('tracking_latest_metric.step')),
              eb.and([
                eb('excluded.step', '=', eb.ref('tracking_latest_metric.step')),
                eb('excluded.timestamp', '>=', eb.ref('tracking_latest_metric.timestamp')),
              ]),
            ]),
          ),
      )
      .execute();
  }
}
