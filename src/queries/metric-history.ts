/**
 * A run's metric history as columns, for charts: `{ key, steps, values, timestamps }` is a
 * fraction of the size of MLflow's one-object-per-point JSON, and a chart a few hundred pixels
 * wide cannot show more than a few thousand points anyway, so the history can be downsampled
 * on the server to at most `maxPoints`, keeping each bucket's lowest and highest value (so a
 * spike or a dip survives) and the first and last point.
 *
 * Usage: `const h = await metricHistoryColumns(db.tracking, runId, 'loss', { maxPoints: 4000 });`
 * or, every metric of the run: `const all = await runMetricHistories(db.tracking, runId, { maxPoints: 4000 });`
 */
import { requireRun, type TrackingStore } from '../tracking/store.js';

/** One metric's points in step order, column by column; non-finite values stay as they are logged. */
export interface MetricHistoryColumns {
  key: string;
  /** How many points the run logged for this key (the columns may hold fewer, downsampled). */
  total: number;
  steps: number[];
  values: number[];
  timestamps: number[];
}

/**
 * Reads every point of `key` as columns (one store query, no object per point) and downsamples
 * it to at most `maxPoints` points; `maxPoints: 0` keeps them all. A run without the key gives
 * empty columns; an unknown run fails with the store's NOT_FOUND.
 */
export async function metricHistoryColumns(tracking: TrackingStore, runId: string, key: string, options: { maxPoints: number }): Promise<MetricHistoryColumns> {
  const { steps, values, timestamps } = await tracking.getMetricColumns(runId, key);
  const total = steps.length;
  if (options.maxPoints <= 0 || total <= options.maxPoints) return { key, total, steps, values, timestamps };
  const kept = downsampleMinMax(values, options.maxPoints);
  return { key, total, steps: kept.map((i) => steps[i]!), values: kept.map((i) => values[i]!), timestamps: kept.map((i) => timestamps[i]!) };
}

/**
 * Every metric the run logged, by key (in code-unit order), each as `metricHistoryColumns`
 * gives it: a page can ask for this beside the run rather than after the run named its keys.
 * NOT_FOUND for an unknown run.
 */
export async function runMetricHistories(tracking: TrackingStore, runId: string, options: { maxPoints: number }): Promise<MetricHistoryColumns[]> {
  const run = await requireRun(tracking, runId);
  const keys = [...new Set(run.data.metrics.map((m) => m.key))].sort();
  return Promise.all(keys.map((key) => metricHistoryColumns(tracking, runId, key, options)));
}

/**
 * The indexes (ascending) of at most `maxPoints` of `values` to draw: all of them when they fit;
 * otherwise the first and the last, and between them equal buckets each giving the index of
 * its lowest and its highest finite value (a bucket with none gives its first index, so a gap
 * still shows). `maxPoints` below 4 is treated as 4: first, last and one bucket's min and max.
 */
export function downsampleMinMax(values: readonly number[], maxPoints: number): number[] {
  const n = values.length;
  if (n <= maxPoints) return values.map((_, i) => i);
  const buckets = Math.max(1, Math.floor((Math.max(4, maxPoints) - 2) / 2));
  const inner = n - 2;
  const kept = [0];
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * inner) / buckets);
    const to = 1 + Math.floor(((b + 1) * inner) / buckets);
    // Fewer inner points than buckets leaves some empty; they keep nothing (else an end repeats).
    if (from >= to) continue;
    let low = -1;
    let high = -1;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (low < 0 || v < values[low]!) low = i;
      if (high < 0 || v > values[high]!) high = i;
    }
    if (low < 0) kept.push(from);
    else if (low === high) kept.push(low);
    else kept.push(Math.min(low, high), Math.max(low, high));
  }
  kept.push(n - 1);
  return kept;
}
