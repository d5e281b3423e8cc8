/**
 * One-value conveniences over `TrackingStore.logBatch`, the one write path (as MLflow's
 * log_metric is a one-item log_batch).
 */
import { LoomError } from '../core/errors.js';
import { requireRun, type TrackingStore } from './store.js';

export function logMetric(store: TrackingStore, runId: string, key: string, value: number, options: { step?: number; timestamp?: number } = {}): Promise<void> {
  return store.logBatch(runId, { metrics: [{ key, value, step: options.step ?? 0, timestamp: options.timestamp ?? Date.now() }] });
}

export function logParam(store: TrackingStore, runId: string, key: string, value: string): Promise<void> {
  return store.logBatch(runId, { params: [{ key, value }] });
}

export function setTag(store: TrackingStore, runId: string, key: string, value: string): Promise<void> {
  return store.logBatch(runId, { tags: [{ key, value }] });
}

/** The run tag where MLflow 2 clients record each model they log (`runs/log-model`): a JSON list. */
export const LOGGED_MODELS_HISTORY_TAG = 'mlflow.log-model.history';

/**
 * Appends a model's MLmodel description (as `Model.get_tags_dict()` gives it) to the run's
 * `mlflow.log-model.history` tag, as MLflow's server does. NOT_FOUND for an unknown run.
 */
export async function recordLoggedModel(store: TrackingStore, runId: string, model: Record<string, unknown>): Promise<void> {
  const run = await requireRun(store, runId);
  const previous = run.data.tags[LOGGED_MODELS_HISTORY_TAG];
  const history = previous === undefined ? [] : parseHistory(previous);
  if (!history) {
    throw new LoomError('FAILED_PRECONDITION', `run ${runId} has a ${LOGGED_MODELS_HISTORY_TAG} tag that is not a JSON list`, {
      field: 'run_id',
      fix: `delete the tag (runs/delete-tag) or set it to a JSON list, then log the model again`,
    });
  }
  await setTag(store, runId, LOGGED_MODELS_HISTORY_TAG, JSON.stringify([...history, model]));
}

function parseHistory(text: string): unknown[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
