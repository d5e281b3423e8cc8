/**
 * Row <-> entity mapping and input checks for the tracking store. Keys follow MLflow's
 * rules (letters, digits, `_ - . / :` and spaces, at most 250 characters) so a key that
 * works here works with every MLflow client and in every filter.
 */
import { LoomError } from '../core/errors.js';
import type { TrackingExperimentTable, TrackingLatestMetricTable, TrackingRunTable } from './tracking-tables.js';
import type { Selectable } from 'kysely';

/** A checked metric point, not yet tied to a run. */
export type MetricRow = Omit<TrackingLatestMetricTable, 'run_id'>;
import type { Experiment, KeyValue, LifecycleStage, Metric, RunInfo, RunStatus } from './types.js';

export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
const KEY = /^[A-Za-z0-9_\-. /:]+$/;

export function checkedKey(key: unknown, field: string): string {
  if (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH || !KEY.test(key) || key.split('/').includes('..')) {
    throw new LoomError('INVALID_ARGUMENT', `${field} ${JSON.stringify(key)} is not a valid key`, {
      field,
      fix: `use 1 to ${MAX_KEY_LENGTH} letters, digits, spaces and _ - . / : (no ".." path parts)`,
    });
  }
  return key;
}

export function checkedValue(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) {
    throw new LoomError('INVALID_ARGUMENT', `${field} must be a string of at most ${max} characters`, { field });
  }
  return value;
}

export function checkedKeyValues(items: KeyValue[] | undefined, field: string, maxValue: number): KeyValue[] {
  return (items ?? []).map((item, i) => ({
    key: checkedKey(item?.key, `${field}[${i}].key`),
    value: checkedValue(item?.value, `${field}[${i}].value`, maxValue),
  }));
}

/** A metric point as a row; NaN is stored as 0 with is_nan = 1. */
export function checkedMetricRow(metric: Metric, i: number, checkedKeys?: Set<string>): MetricRow {
  const key = checkedKeys?.has(metric?.key) ? metric.key : checkedKey(metric?.key, `metrics[${i}].key`);
  checkedKeys?.add(key);
  const { value, timestamp } = metric;
  const step = metric.step ?? 0;
  if (typeof value !== 'number') throw new LoomError('INVALID_ARGUMENT', `metrics[${i}].value must be a number`, { field: `metrics[${i}].value` });
  if (!Number.isSafeInteger(timestamp)) {
    throw new LoomError('INVALID_ARGUMENT', `metrics[${i}].timestamp must be an integer (epoch milliseconds)`, { field: `metrics[${i}].timestamp` });
  }
  if (!Number.isSafeInteger(step)) throw new LoomError('INVALID_ARGUMENT', `metrics[${i}].step must be an integer`, { field: `metrics[${i}].step` });
  const nan = Number.isNaN(value);
  return { key, value: nan ? 0 : value, is_nan: nan ? 1 : 0, timestamp, step };
}

export function toMetric(row: MetricRow): Metric {
  return { key: row.key, value: row.is_nan ? Number.NaN : Number(row.value), timestamp: Number(row.timestamp), step: Number(row.step) };
}

export function toExperiment(row: Selectable<TrackingExperimentTable>, tags: Record<string, string>): Experiment {
  return {
    experimentId: String(row.id),
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    tags,
    creationTime: Number(row.creation_time),
    lastUpdateTime: Number(row.last_update_time),
  };
}

export function toRunInfo(row: Selectable<TrackingRunTable>): RunInfo {
  return {
    runId: row.run_id,
    experimentId: String(row.experiment_id),
    runName: row.run_name,
    userId: row.user_id,
    status: row.status as RunStatus,
    startTime: Number(row.start_time),
    endTime: row.end_time === null ? null : Number(row.end_time),
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    artifactUri: row.artifact_uri,
  };
}

/** An experiment id as the integer the table keys on, or undefined if it cannot be one. */
export function experimentIdNumber(id: unknown): number | undefined {
  if (typeof id !== 'string' || !/^\d{1,15}$/.test(id)) return undefined;
  return Number(id);
}

/** Run ids are 32 lowercase hex characters. */
export function isRunId(id: unknown): id is string {
  return typeof id === 'string' && /^[0-9a-f]{32}$/.test(id);
}

/** The latest point per key of a batch: highest step, then latest timestamp, then the later one logged. */
export function latestByKey(rows: MetricRow[]): MetricRow[] {
  const latest = new Map<string, MetricRow>();
  for (const row of rows) {
    const seen = latest.get(row.key);
    if (!seen || row.step > seen.step || (row.step === seen.step && row.timestamp >= seen.timestamp)) latest.set(row.key, row);
  }
  return [...latest.values()];
}
