/**
 * A served model's traffic over time, from its prediction log: per version and serving role
 * (primary, canary, shadow) and per hourly or daily window (UTC), the requests answered, the
 * rows they carried, and their latency (median, 95th percentile and maximum, in ms, as
 * `loom serve` timed them). A request of several rows is logged once per row with the same
 * latency, so it counts once in the latency figures.
 *
 * Failed requests are not in the log (it records the answers served): their count lives only
 * in each serving process's `loom_serve_request_errors_total` counter on `/metrics`, so
 * nothing here says how many failed; `errorsLogged: false` tells the reader so.
 *
 * Usage: `const traffic = await deploymentTraffic(predictionLogLocation(config), { model: 'flights', window: 'daily' });`
 */
import { queryRows, withDuckDB } from '../data/duckdb.js';
import { openPredictionLog, type PredictionLogLocation, type SkippedFile } from '../monitor/prediction-log-reader.js';
import { windowKey } from '../monitor/windows.js';

/** Traffic windows are calendar ones: a window of N requests says nothing about time. */
export const TRAFFIC_WINDOWS = ['hourly', 'daily'] as const;
export type TrafficWindow = (typeof TRAFFIC_WINDOWS)[number];

export interface TrafficQuery {
  model: string;
  window: TrafficWindow;
  /** Requests logged in [from, to), epoch ms. */
  from?: number;
  to?: number;
}

/** One version in one role, a point per window with traffic (windows without any are absent). */
export interface TrafficSeries {
  version: number;
  role: string;
  /** Window starts (UTC hour or day), epoch ms. */
  starts: number[];
  requests: number[];
  rows: number[];
  /** Latency per request in ms. */
  p50: number[];
  p95: number[];
  max: number[];
}

export interface DeploymentTraffic {
  model: string;
  window: TrafficWindow;
  series: TrafficSeries[];
  /** Always false: the log records answered requests only (see the module comment). */
  errorsLogged: false;
  /** Log files that could not be read and were left out. */
  skipped: SkippedFile[];
}

export async function deploymentTraffic(location: PredictionLogLocation, query: TrafficQuery): Promise<DeploymentTraffic> {
  return withDuckDB(async (db) => {
    const log = await openPredictionLog(db, location, { model: query.model, from: query.from, to: query.to });
    try {
      // One row per request first (its rows share one latency), then per window.
      const rows = await queryRows(
        db,
        `SELECT model_version AS version, role, ${windowKey({ kind: query.window })}::BIGINT AS start, count(*) AS requests, sum(n) AS rows,
           quantile_cont(latency_ms, 0.5) AS p50, quantile_cont(latency_ms, 0.95) AS p95, max(latency_ms) AS max
         FROM (SELECT request_id, model_version, role, min(logged_at) AS logged_at, max(latency_ms) AS latency_ms, count(*) AS n
               FROM (${log.relation}) GROUP BY request_id, model_version, role)
         GROUP BY ALL ORDER BY version, role, start`,
      );
      const series = new Map<string, TrafficSeries>();
      for (const r of rows) {
        const key = `${r.version}\u0000${r.role}`;
        let s = series.get(key);
        if (!s) series.set(key, (s = { version: Number(r.version), role: String(r.role), starts: [], requests: [], rows: [], p50: [], p95: [], max: [] }));
        s.starts.push(Number(r.start));
        s.requests.push(Number(r.requests));
        s.rows.push(Number(r.rows));
        s.p50.push(Number(r.p50));
        s.p95.push(Number(r.p95));
        s.max.push(Number(r.max));
      }
      return { model: query.model, window: query.window, series: [...series.values()], errorsLogged: false, skipped: log.skipped };
    } finally {
      await log.close();
    }
  });
}
