/**
 * One-value conveniences over `TrackingStore.logBatch`, the one write path (as MLflow's
 * log_metric is a one-item log_batch).
 */
import type { TrackingStore } from './store.js';

export function logMetric(store: TrackingStore, runId: string, key: string, value: number, options: { step?: number; timestamp?: number } = {}): Promise<void> {
  return store.logBatch(runId, { metrics: [{ key, value, step: options.step ?? 0, timestamp: options.timestamp ?? Date.now() }] });
}

export function logParam(store: TrackingStore, runId: string, key: string, value: string): Promise<void> {
  return store.logBatch(runId, { params: [{ key, value }] });
}

export function setTag(store: TrackingStore, runId: string, key: string, value: string): Promise<void> {
  return store.logBatch(runId, { tags: [{ key, value }] });
}
