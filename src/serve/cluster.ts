/**
 * `loom serve --workers N`: the shared cluster (`http/cluster.ts`) plus what only the model
 * server needs: its primary aggregates every worker's metrics, so `/metrics` in any worker
 * answers for all (prom-client's AggregatorRegistry over IPC).
 *
 * Usage (in the CLI): `if (cluster.isPrimary && workers > 1) return runPrimary({ workers, onListening })`,
 * and in each worker `await serveInWorker(() => startModelServer(...))`.
 */
import { runPrimary as runClusterPrimary, serveInWorker, warnOnStderr, type PrimaryOptions } from '../http/cluster.js';
import { serveClusterMetrics } from './metrics.js';

export { serveInWorker, type PrimaryOptions };

/** Forks the model server's workers and answers their metrics requests; resolves as `http/cluster`'s `runPrimary`. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  serveClusterMetrics(options.onWarning ?? warnOnStderr);
  return runClusterPrimary(options);
}
