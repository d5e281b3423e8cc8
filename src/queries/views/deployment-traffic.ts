/**
 * The answers of `/api/loom/deployments/:name/traffic` and `/shadow` (queries/deployment-traffic.ts,
 * queries/shadow-results.ts), as types: the dashboard imports them too, so this module imports
 * nothing (no Node). `TRAFFIC_WINDOWS` is the one value here: the list the window type comes from.
 */

/** Traffic windows are calendar ones: a window of N requests says nothing about time. */
export const TRAFFIC_WINDOWS = ['hourly', 'daily'] as const;
export type TrafficWindow = (typeof TRAFFIC_WINDOWS)[number];

/** A prediction log file that could not be read and was left out (monitor/prediction-log-reader.ts's `SkippedFile`). */
interface SkippedLogFile {
  file: string;
  reason: string;
}

/** One version in one role, a point per window with traffic (windows without any are absent). */
export interface TrafficSeries {
  version: number;
  role: string;
  /** Window starts (UTC hour or day), epoch ms. */
  starts: number[];
  /** Requests answered. */
  requests: number[];
  rows: number[];
  /** Latency per answered request in ms; null in a window where every request failed. */
  p50: (number | null)[];
  p95: (number | null)[];
  max: (number | null)[];
  /** Requests that failed with a 4xx status (the client's input) and with a 5xx (the server's fault). */
  clientErrors: number[];
  serverErrors: number[];
  /** Failed requests' share of all requests that reached the version, 0 to 1. */
  errorShare: number[];
}

/** A served model's traffic per version, role and window. */
export interface DeploymentTraffic {
  model: string;
  window: TrafficWindow;
  series: TrafficSeries[];
  /** Log files that could not be read and were left out. */
  skipped: SkippedLogFile[];
}

/** One output of the model as compared: by agreement of labels, or by the difference of scores. */
export interface ShadowOutput {
  name: string;
  kind: 'label' | 'score';
  /** Per window: for a label, the share of rows (0 to 1) where shadow and served agree; for a score, the mean absolute difference. */
  values: (number | null)[];
}

/** A shadow version against one served version and role, a point per window with compared rows. */
export interface ShadowComparison {
  shadowVersion: number;
  servedVersion: number;
  servedRole: string;
  /** Window starts (UTC hour or day), epoch ms. */
  starts: number[];
  /** Rows compared, and the requests they came in. */
  rows: number[];
  requests: number[];
  outputs: ShadowOutput[];
  /** Latency per request in ms, median and 95th percentile, of each side over the same requests. */
  shadowP50: number[];
  shadowP95: number[];
  servedP50: number[];
  servedP95: number[];
}

/** How each shadow compares with the served versions over the same requests. */
export interface ShadowResults {
  model: string;
  window: TrafficWindow;
  comparisons: ShadowComparison[];
  /** Log files that could not be read and were left out. */
  skipped: SkippedLogFile[];
}
