/**
 * A tracking run's metric history for a chart, read from `/api/loom/runs/:runId/metric-history`
 * (one key) or `/metric-histories` (every key):
 * columns (not one JSON object per point) downsampled on the server to `maxPoints` with each
 * bucket's min and max kept, so a 100,000-point run costs a few thousand points on the wire.
 * JSON has no NaN or Infinity: the server sends those as null, kept here as NaN (a gap).
 */
import { LOOM, get } from './api';
import type { Series } from './components/Chart';

/** A chart is at most a few thousand pixels wide: this many points draw it exactly. */
export const CHART_POINTS = 4000;

interface HistoryColumns {
  key: string;
  total: number;
  steps: number[];
  values: (number | null)[];
  timestamps: number[];
}

const toSeries = (h: HistoryColumns, label: string): Series => ({ label, x: Float64Array.from(h.steps), y: Float64Array.from(h.values, (v) => v ?? Number.NaN), total: h.total });

/** `key`'s history in `runId` as a chart series labelled `label` (the key when left out). */
export async function metricSeries(runId: string, key: string, signal: AbortSignal, options: { label?: string; maxPoints?: number } = {}): Promise<Series> {
  const h = await get<HistoryColumns>(`${LOOM}/runs/${encodeURIComponent(runId)}/metric-history`, { key, max_points: options.maxPoints ?? CHART_POINTS }, signal);
  return toSeries(h, options.label ?? key);
}

/**
 * Every metric of `runId` as a series labelled by its key, sorted by key, in one request that
 * needs no key: a page asks for it beside the run, not after the run named its metrics.
 */
export async function runMetricSeries(runId: string, signal: AbortSignal): Promise<Series[]> {
  const { metrics } = await get<{ metrics: HistoryColumns[] }>(`${LOOM}/runs/${encodeURIComponent(runId)}/metric-histories`, { max_points: CHART_POINTS }, signal);
  return metrics.map((h) => toSeries(h, h.key));
}
