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
import { ESTIMATED_METRICS, countScores, estimateQualityOfCounts, type CbpeEstimator, type QualityEstimate, type ScoreCounts } from './cbpe.js';

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

/** A window as the log's reader gives it: its name and every scored row's score, counted (`readWindowScoreCounts`). */
export interface ScoredWindow {
  window: string;
  scores: ScoreCounts;
}

/** Quality of each window, in the order windows first appear, from every row of each held in JS. */
export function windowQuality(rows: QualityRows, options: QualityOptions): WindowQuality[] {
  const windows = groupByWindow(rows.windows);
  const labelled = Uint32Array.from(windows.flatMap(({ indices }) => [...indices].filter((i) => !Number.isNaN(rows.labels[i]!))));
  const labelledRows: QualityRows = {
    windows: Array.from(labelled, (i) => rows.windows[i]!),
    scores: gather(rows.scores, labelled),
    labels: gather(rows.labels, labelled),
    features: Object.fromEntries(Object.entries(rows.features).map(([name, values]) => [name, Array.from(labelled, (i) => values[i])])),
  };
  return scoredWindowQuality(labelledRows, windows.map(({ window, indices }) => ({ window, scores: countScores(gather(rows.scores, indices)) })), options);
}

/**
 * Quality of each of `windows`, in their order: estimated from the window's counted scores
 * (every scored row), measured on `labelled`, the rows whose label has arrived (a row of a
 * window not in `windows` is ignored). What online quality computes from the log, where only
 * the labelled rows are read whole.
 */
export function scoredWindowQuality(labelled: QualityRows, windows: readonly ScoredWindow[], options: QualityOptions): WindowQuality[] {
  const minSliceSize = options.minSliceSize ?? 30;
  const offlineSlices = new Map((options.offline?.slices ?? []).map((s) => [`${s.spec}\u0000${s.key}`, s.metrics]));
  const labelledOf = new Map(groupByWindow(labelled.windows).map(({ window, indices }) => [window, indices.filter((i) => !Number.isNaN(labelled.labels[i]!))]));
  return windows.map(({ window, scores }) => {
    const rows = labelledOf.get(window) ?? new Uint32Array(0);
    const slices: SliceQuality[] = [];
    for (const spec of options.slices ?? []) {
      const values = Object.fromEntries(spec.columns.map((c) => [c.feature, Array.from(rows, (i) => labelled.features[c.feature]?.[i] ?? null)]));
      for (const slice of groupSlices(spec.columns, values, rows.length)) {
        const members = Uint32Array.from(slice.rows, (k) => rows[k]!);
        slices.push({
          spec: spec.name,
          key: slice.key,
          labelled: members.length,
          measured: members.length >= minSliceSize ? measure(labelled, members, options.estimator.threshold) : null,
          offline: offlineSlices.get(`${spec.name}\u0000${slice.key}`) ?? null,
        });
      }
    }
    const estimated = estimateQualityOfCounts(options.estimator, scores);
    return {
      window,
      rows: estimated.rows,
      labelled: rows.length,
      estimated,
      measured: rows.length > 0 ? measure(labelled, rows, options.estimator.threshold) : null,
      offline: options.offline?.metrics ?? null,
      slices,
    };
  });
}

/**
 * Each window's row indices, windows in the order they first appear, rows in row order: a
 * stable counting sort by window (a window's rows are usually one run, so its name is looked
 * up once per run, not per row).
 */
function groupByWindow(windows: readonly string[]): { window: string; indices: Uint32Array }[] {
  const slots = new Map<string, number>();
  const slotOf = new Uint32Array(windows.length);
  let last: string | undefined;
  let slot = 0;
  for (let i = 0; i < windows.length; i++) {
    if (windows[i] !== last) {
      last = windows[i]!;
      slot = slots.get(last) ?? slots.set(last, slots.size).size - 1;
    }
    slotOf[i] = slot;
  }
  const starts = new Uint32Array(slots.size + 1);
  for (let i = 0; i < slotOf.length; i++) starts[slotOf[i]! + 1]!++;
  for (let k = 0; k < slots.size; k++) starts[k + 1]! += starts[k]!;
  const sorted = new Uint32Array(windows.length);
  const next = starts.slice(0, slots.size);
  for (let i = 0; i < slotOf.length; i++) sorted[next[slotOf[i]!]!++] = i;
  return [...slots.keys()].map((window, k) => ({ window, indices: sorted.subarray(starts[k]!, starts[k + 1]!) }));
}

/** `values` at `indices`. */
function gather(values: Float64Array, indices: Uint32Array): Float64Array {
  const out = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]!]!;
  return out;
}

function measure(rows: QualityRows, indices: Uint32Array, threshold: number): Metrics {
  const all = taskMetrics({ task: 'binary', scores: gather(rows.scores, indices), labels: gather(rows.labels, indices) }, { threshold });
  return Object.fromEntries(QUALITY_METRICS.map((m) => [m, all[m]!])) as Metrics;
}
