/**
 * A served model's traffic over time, from its prediction log: per version and serving role
 * (primary, canary, shadow) and per hourly or daily window (UTC), the requests answered, the
 * rows they carried, their latency (median, 95th percentile and maximum, in ms, as
 * `loom serve` timed them), and the requests that failed after they reached the version
 * (a body it could not read: 4xx; a failed run: 5xx), which the server logs as one row each
 * with its status. A request of several rows is logged once per row with the same latency,
 * so it counts once in the latency figures. Requests refused before routing (an unknown
 * model, a missing permission) name no version and are counted only in each process's
 * `loom_serve_request_errors_total` on `/metrics`.
 *
 * Usage: `const traffic = await deploymentTraffic(predictionLogLocation(config), { model: 'flights', window: 'daily' });`
 */
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { openPredictionLog, type PredictionLogLocation } from '../monitor/prediction-log-reader.js';
import { windowKey } from '../monitor/windows.js';
import { groupSeries, numberOrNull } from './series.js';
import type { DeploymentTraffic, TrafficSeries, TrafficWindow } from './views/deployment-traffic.js';

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export { TRAFFIC_WINDOWS, type DeploymentTraffic, type TrafficSeries, type TrafficWindow } from './views/deployment-traffic.js';

export interface TrafficQuery {
  model: string;
  window: TrafficWindow;
  /** Requests logged in [from, to), epoch ms. */
  from?: number;
  to?: number;
}

export async function deploymentTraffic(location: PredictionLogLocation, query: TrafficQuery): Promise<DeploymentTraffic> {
  return withDuckDB(async (db) => {
    const log = await openPredictionLog(db, location, { model: query.model, from: query.from, to: query.to, outcomes: 'all' });
    try {
      // One row per request first (its rows share one latency), then per window.
      const answered = 'FILTER (WHERE status IS NULL)';
      const rows = await queryRows(
        db,
        `SELECT model_version AS version, role, ${windowKey({ kind: query.window })}::BIGINT AS start, count(*) ${answered} AS requests, coalesce(sum(n) ${answered}, 0) AS rows,
           quantile_cont(latency_ms, 0.5) ${answered} AS p50, quantile_cont(latency_ms, 0.95) ${answered} AS p95, max(latency_ms) ${answered} AS max,
           count(*) FILTER (WHERE status BETWEEN 400 AND 499) AS client_errors, count(*) FILTER (WHERE status >= 500) AS server_errors,
           count(status) / count(*) AS error_share
         FROM (SELECT request_id, model_version, role, status, min(logged_at) AS logged_at, max(latency_ms) AS latency_ms, count(*) AS n
               FROM (${log.relation}) GROUP BY request_id, model_version, role, status)
         GROUP BY model_version, role, start ORDER BY version, role, start`,
      );
      const series = groupSeries(
        rows,
        (r) => `${r.version}\u0000${r.role}`,
        (r): TrafficSeries => ({ version: Number(r.version), role: String(r.role), starts: [], requests: [], rows: [], p50: [], p95: [], max: [], clientErrors: [], serverErrors: [], errorShare: [] }),
        (s, r) => {
          s.starts.push(Number(r.start));
          s.requests.push(Number(r.requests));
          s.rows.push(Number(r.rows));
          s.p50.push(numberOrNull(r.p50));
          s.p95.push(numberOrNull(r.p95));
          s.max.push(numberOrNull(r.max));
          s.clientErrors.push(Number(r.client_errors));
          s.serverErrors.push(Number(r.server_errors));
          s.errorShare.push(Number(r.error_share));
        },
      );
      return { model: query.model, window: query.window, series, skipped: log.skipped };
    } finally {
      await log.close();
    }
  });
}
