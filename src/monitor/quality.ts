/**
 * Online quality of a binary classifier, per window: estimated from the scores alone
 * (CBPE, `cbpe.ts`) for every row, and measured on the rows whose label has arrived, for
 * the whole window and for each slice of the evaluation's slicing specs, each beside the
 * offline evaluation's figure for the same version (and slice). The metrics are the
 * evaluation's own (`evaluate/metrics.ts`), so online and offline numbers mean the same.
 *
 * Usage: `const windows = windowQuality(rows, { estimator, threshold, slices, offline });`
 */
import { taskMetrics } from '../evaluate/metrics.js';
import { groupSlices } from '../evaluate/slices.js';
import type { SliceColumn } from '../evaluate/config.js';
import { ESTIMATED_METRICS, estimateQuality, type CbpeEstimator, type QualityEstimate } from './cbpe.js';

/** The logged predictions of one model version, in row order. A missing label is NaN. */
export interface QualityRows {
  /** Each row's window (its start, as the caller names windows). */
  windows: string[];
  scores: Float64Array;
  labels: Float64Array;
  /** Feature values by name, for slicing. */
  features: Record<string, unknown[]>;
}

/** The offline evaluation of the same version: overall metrics and per-slice metrics by spec and key. */
export interface OfflineQuality {
  metrics: Record<string, number | null>;
  slices: { spec: string; key: string; metrics: Record<string, number | null> }[];
}

export interface QualityOptions {
  estimator: CbpeEstimator;
  /** Slicing specs (the evaluation's), each named. */
  slices?: { name: string; columns: SliceColumn[] }[];
  offline?: OfflineQuality;
  /** A slice with fewer labelled rows is reported without metrics. Default 30, as the evaluation's `minSliceSize`. */
  minSliceSize?: number;
}

/** The metrics shown side by side: estimated, measured and offline share these names. */
export const QUALITY_METRICS = ESTIMATED_METRICS;
type Metrics = Record<(typeof QUALITY_METRICS)[number], number>;

export interface SliceQuality {
  spec: string;
  key: string;
  labelled: number;
  /** Null below the minimum slice size. */
  measured: Metrics | null;
  offline: Record<string, number | null> | null;
}

export interface WindowQuality {
  window: string;
  rows: number;
  labelled: number;
  estimated: QualityEstimate;
  /** On the labelled rows; null while none has a label. */
  measured: Metrics | null;
  offline: Record<string, number | null> | null;
  slices: SliceQuality[];
}

/** Quality of each window, in the order windows first appear. */
export function windowQuality(rows: QualityRows, options: QualityOptions): WindowQuality[] {
  const byWindow = new Map<string, number[]>();
  rows.windows.forEach((window, i) => {
    let list = byWindow.get(window);
    if (!list) byWindow.set(window, (list = []));
    list.push(i);
  });
  const minSliceSize = options.minSliceSize ?? 30;
  const offlineSlices = new Map((options.offline?.slices ?? []).map((s) => [`${s.spec}\u0000${s.key}`, s.metrics]));
  return [...byWindow].map(([window, indices]) => {
    const labelled = indices.filter((i) => !Number.isNaN(rows.labels[i]!));
    const slices: SliceQuality[] = [];
    for (const spec of options.slices ?? []) {
      const values = Object.fromEntries(spec.columns.map((c) => [c.feature, labelled.map((i) => rows.features[c.feature]?.[i] ?? null)]));
      for (const slice of groupSlices(spec.columns, values, labelled.length)) {
        const members = slice.rows.map((k) => labelled[k]!);
        slices.push({
          spec: spec.name,
          key: slice.key,
          labelled: members.length,
          measured: members.length >= minSliceSize ? measure(rows, members, options.estimator.threshold) : null,
          offline: offlineSlices.get(`${spec.name}\u0000${slice.key}`) ?? null,
        });
      }
    }
    return {
      window,
      rows: indices.length,
      labelled: labelled.length,
      estimated: estimateQuality(options.estimator, indices.map((i) => rows.scores[i]!)),
      measured: labelled.length > 0 ? measure(rows, labelled, options.estimator.threshold) : null,
      offline: options.offline?.metrics ?? null,
      slices,
    };
  });
}

function measure(rows: QualityRows, indices: number[], threshold: number): Metrics {
  const all = taskMetrics(
    { task: 'binary', scores: Float64Array.from(indices, (i) => rows.scores[i]!), labels: Float64Array.from(indices, (i) => rows.labels[i]!) },
    { threshold },
  );
  return Object.fromEntries(QUALITY_METRICS.map((m) => [m, all[m]!])) as Metrics;
}
