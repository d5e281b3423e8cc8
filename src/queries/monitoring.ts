/**
 * A served model's monitoring over time, shaped for charts: the drift of each feature and the
 * online quality (estimated beside measured) of one version and one window kind, as columns by
 * window start, with the alerts that fired for that version and the actions they took. Read
 * from the monitoring history (`monitor/history-store.ts`) and the alert history in lineage
 * (`monitor/alerts/history.ts`); nothing is recomputed from the prediction log here.
 *
 * Usage: `const view = await monitoringView({ history: platform.monitorHistory, metadata: platform.metadata }, 'flights', {});`
 */
import type { MetadataStore } from '../metadata/store.js';
import { listAlerts } from '../monitor/alerts/history.js';
import type { DriftHistoryRow, MonitorHistoryStore, QualityHistoryRow } from '../monitor/history-store.js';
import { groupSeries } from './series.js';
import type { DriftSeries, MonitoringView, QualitySeries } from './views/monitoring.js';

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export type { AlertView, DriftSeries, MonitoringView, QualitySeries } from './views/monitoring.js';

export interface MonitoringQuery {
  version?: number;
  window?: string;
  /** Windows starting in [from, to), epoch ms. */
  from?: number;
  to?: number;
}

/** The monitoring of `model` over time; a model with no history gives empty series, not an error. */
export async function monitoringView(stores: { history: MonitorHistoryStore; metadata: MetadataStore }, model: string, query: MonitoringQuery): Promise<MonitoringView> {
  const range = { model, from: query.from, to: query.to };
  const [drift, quality] = await Promise.all([stores.history.driftHistory(range), stores.history.qualityHistory(range)]);
  const versions = [...new Set([...drift, ...quality].map((r) => r.version))].sort((a, b) => b - a);
  const version = query.version ?? versions[0] ?? null;
  const ofVersion = <R extends DriftHistoryRow | QualityHistoryRow>(rows: R[]) => rows.filter((r) => r.version === version);
  const windowKinds = [...new Set([...ofVersion(drift), ...ofVersion(quality)].map((r) => r.windowKind))];
  const windowKind = query.window ?? windowKinds[0] ?? null;
  const shown = <R extends DriftHistoryRow | QualityHistoryRow>(rows: R[]) => ofVersion(rows).filter((r) => r.windowKind === windowKind);
  // An alert belongs to the range when the window it judged ended in it.
  const inRange = (at: number) => (query.from === undefined || at >= query.from) && (query.to === undefined || at < query.to);
  const alerts = version === null ? [] : (await listAlerts(stores.metadata, { model })).filter((a) => a.modelVersion === version && inRange(a.windowEnd));
  return {
    model,
    versions,
    version,
    windowKinds,
    windowKind,
    // The store gives the rows by window start, so each series' columns are in time order.
    drift: groupSeries(
      shown(drift),
      (r) => `${r.feature}\u0000${r.against}\u0000${r.measure}`,
      (r): DriftSeries => ({ feature: r.feature, against: r.against, measure: r.measure, threshold: r.threshold, starts: [], values: [], exceeded: [] }),
      (s, r) => {
        s.starts.push(r.start);
        s.values.push(r.value);
        s.exceeded.push(r.exceeded);
      },
    ),
    quality: groupSeries(
      shown(quality),
      (r) => `${r.metric}\u0000${r.kind}`,
      (r): QualitySeries => ({ metric: r.metric, kind: r.kind, starts: [], values: [], labelled: [] }),
      (s, r) => {
        s.starts.push(r.start);
        s.values.push(r.value);
        s.labelled.push(r.labelled);
      },
    ),
    alerts,
  };
}
