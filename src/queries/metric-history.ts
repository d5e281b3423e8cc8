/**
 * A run's metric history as columns, for charts: `{ key, steps, values, timestamps }` is a
 * fraction of the size of MLflow's one-object-per-point JSON, and a chart a few hundred pixels
 * wide cannot show more than a few thousand points anyway, so the history can be downsampled
 * to at most `maxPoints`, keeping each bucket's lowest and highest value (so a spike or a dip
 * survives) and the first and last point. The store downsamples inside the database, so only
 * the kept points leave it.
 *
 * Usage: `const h = await metricHistoryColumns(db.tracking, runId, 'loss', { maxPoints: 4000 });`
 * or, every metric of the run: `const all = await runMetricHistories(db.tracking, runId, { maxPoints: 4000 });`
 */
import { LoomError } from '../core/errors.js';
import type { MetricColumns } from '../tracking/metric-columns.js';
import type { TrackingStore } from '../tracking/store.js';

/** One metric's points in step order, column by column; non-finite values stay as they are logged. */
export interface MetricHistoryColumns extends MetricColumns {
  key: string;
}

/**
 * `key`'s points as columns (one store query, no object per point), downsampled to at most
 * `maxPoints` as `MetricColumnsOptions` describes; `maxPoints: 0` keeps them all. A run
 * without the key gives empty columns; an unknown run fails with the store's NOT_FOUND.
 */
export async function metricHistoryColumns(tracking: TrackingStore, runId: string, key: string, options: { maxPoints: number }): Promise<MetricHistoryColumns> {
  const { total, steps, values, timestamps } = await tracking.getMetricColumns(runId, key, { maxPoints: options.maxPoints });
  return { key, total, steps, values, timestamps };
}

/**
 * Every metric the run logged, by key (in code-unit order), each as `metricHistoryColumns`
 * gives it: a page can ask for this beside the run rather than after the run named its keys.
 * NOT_FOUND for an unknown run.
 */
export async function runMetricHistories(tracking: TrackingStore, runId: string, options: { maxPoints: number }): Promise<MetricHistoryColumns[]> {
  const run = await tracking.getRun(runId);
  if (!run) throw new LoomError('NOT_FOUND', `no run with id ${JSON.stringify(runId)}`, { field: 'run_id', fix: 'list runs with `loom track ls`' });
  const keys = [...new Set(run.data.metrics.map((m) => m.key))].sort();
  return Promise.all(keys.map((key) => metricHistoryColumns(tracking, runId, key, options)));
}
