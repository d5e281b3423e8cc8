/**
 * The answers of `/api/loom/monitoring/:name` and `/slices` (queries/monitoring.ts,
 * queries/monitoring-slices.ts), as types: the dashboard imports them too, so this module
 * imports nothing (no Node).
 */

/** One feature's drift against one reference, one point per window. */
export interface DriftSeries {
  feature: string;
  /** 'training', 'previous' or 'prediction'. */
  against: string;
  measure: string;
  threshold: number;
  starts: number[];
  /** Null where the figure was inconclusive. */
  values: (number | null)[];
  exceeded: boolean[];
}

/** One quality metric, estimated or measured, one point per window. */
export interface QualitySeries {
  metric: string;
  /** monitor/history-store.ts's `QualityKind`: the query assigns one here, so the compiler refuses a kind this lacks. */
  kind: 'estimated' | 'measured';
  starts: number[];
  values: (number | null)[];
  /** Rows whose label had arrived for each window. */
  labelled: number[];
}

/**
 * A fired alert as the answer carries it: the `Alert` artifact's properties with its id, URI and
 * time (monitor/alerts/history.ts's `AlertRecord`, whose schema module needs Node). The query
 * returns `AlertRecord`s as these, so the compiler refuses the two parting.
 */
export interface AlertView {
  rule: string;
  severity: string;
  metric: string;
  modelName: string;
  modelVersion: number;
  /** The newest breaching window's end, epoch ms. */
  windowEnd: number;
  value: number;
  actions: { type: string; status: 'done' | 'failed' | 'requested'; detail: string }[];
  artifactId: number;
  uri: string;
  recordedAt: number;
}

/** A served model's drift and online quality over time, with the alerts that fired. */
export interface MonitoringView {
  model: string;
  /** Versions with any recorded figure, newest first. */
  versions: number[];
  /** The version shown: the one asked for, else the newest recorded; null with no history. */
  version: number | null;
  /** Window kinds recorded for that version ('daily', 'hourly', 'requests:N'). */
  windowKinds: string[];
  /** The window kind shown: the one asked for, else the first recorded. */
  windowKind: string | null;
  drift: DriftSeries[];
  quality: QualitySeries[];
  /** Alerts that fired for the version shown (their window ending in the range), newest first, with their actions. */
  alerts: AlertView[];
}

/** One slice (spec and key), a point per window where it had labelled rows. */
export interface SliceSeries {
  spec: string;
  key: string;
  /** The offline evaluation's figures for the same slice, when it had one. */
  offline: Record<string, number | null> | null;
  starts: number[];
  labelled: number[];
  /** Whether the slice had the evaluation's minimum of labelled rows in each window (below it: no figures). */
  sized: boolean[];
  /** Per metric, a value per window; null below the minimum slice size or where undefined (AUC on one class). */
  measured: Record<string, (number | null)[]>;
}

/** A served version's online quality per slice over time. */
export interface SliceQualityView {
  model: string;
  version: number;
  windowKind: string;
  metrics: readonly string[];
  /** Each window's bounds and rows, oldest first. */
  windows: { start: number; end: number; rows: number; labelled: number }[];
  slices: SliceSeries[];
  /** Requests of several rows, whose labels are not joined (see quality-run.ts). */
  multiRowRequests: number;
}
