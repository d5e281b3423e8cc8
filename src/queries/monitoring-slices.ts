/**
 * A served version's online quality per slice over time, shaped for a table and charts. The
 * monitoring history keeps each window's overall figures only, so the slices are computed on
 * request by `loom monitor quality`'s own code (`monitor/quality-run.ts`: the prediction log
 * cut into the chosen windows, the labels that arrived, the evaluation's slicing specs and
 * minimum slice size) over the asked range; nothing is recorded.
 *
 * A slice is measured on its labelled rows only (the estimate from scores is overall), and a
 * slice with fewer labelled rows than the evaluation's minimum has no figure (null), as offline.
 *
 * Usage: `const view = await sliceQualityView(platform, location, { model: 'flights', version: 1, window: { kind: 'daily' } });`
 */
import type { PredictionLogLocation } from '../monitor/prediction-log-reader.js';
import { onlineQuality, type QualityStores } from '../monitor/quality-run.js';
import { QUALITY_METRICS } from '../monitor/quality.js';
import { windowKindName, type WindowSpec } from '../monitor/windows.js';
import type { SliceQualityView, SliceSeries } from './views/monitoring.js';

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export type { SliceQualityView, SliceSeries } from './views/monitoring.js';

export interface SliceQualityQuery {
  model: string;
  version: number;
  window: WindowSpec;
  /** Epoch ms, [from, to). */
  from?: number;
  to?: number;
}

const finite = (value: number | undefined) => (value !== undefined && Number.isFinite(value) ? value : null);

export async function sliceQualityView(stores: QualityStores, log: PredictionLogLocation, query: SliceQualityQuery): Promise<SliceQualityView> {
  const report = await onlineQuality(stores, log, { ref: `${query.model}@${query.version}`, window: query.window, from: query.from, to: query.to });
  const windows = [...report.windows].sort((a, b) => a.start - b.start);
  const slices = new Map<string, SliceSeries>();
  for (const w of windows) {
    for (const s of w.slices) {
      const id = `${s.spec}\u0000${s.key}`;
      let series = slices.get(id);
      if (!series) slices.set(id, (series = { spec: s.spec, key: s.key, offline: s.offline, starts: [], labelled: [], sized: [], measured: Object.fromEntries(QUALITY_METRICS.map((m) => [m, []])) }));
      series.starts.push(w.start);
      series.labelled.push(s.labelled);
      series.sized.push(s.measured !== null);
      for (const m of QUALITY_METRICS) series.measured[m]!.push(s.measured ? finite(s.measured[m]) : null);
    }
  }
  return {
    model: report.model,
    version: report.version,
    windowKind: windowKindName(query.window),
    metrics: QUALITY_METRICS,
    windows: windows.map((w) => ({ start: w.start, end: w.end, rows: w.rows, labelled: w.labelled })),
    slices: [...slices.values()].sort((a, b) => a.spec.localeCompare(b.spec) || a.key.localeCompare(b.key)),
    multiRowRequests: report.multiRowRequests,
  };
}
