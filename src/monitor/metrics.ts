/**
 * Prometheus gauges of monitoring, for `loom server`'s `/metrics`: for the `champion` of
 * every registered model, the latest window's drift figures (the rows `loom monitor drift`
 * prints: `driftRows`), its row count and its PCA reconstruction error. On the platform
 * server, not `loom serve`: a window costs DuckDB scans of the log and the training rows,
 * which must not share the event loop (or the CPU budget) of inference, and the platform
 * server already holds the registry and lineage the baseline comes from.
 *
 * Figures are computed when scraped, at most once per `ttlMs` (default 60 s; a scrape in
 * between is answered from the last pass), so a Grafana refresh does not rescan the log.
 * A model whose pass fails (no lineage, no log yet) is left out; the others are still shown.
 *
 * Given the label store, the online quality of binary classifiers too: the latest window's
 * estimated (CBPE) and measured figures, as `loom monitor quality` reports them
 * (`qualityHistoryRows`); a model that is not a binary classifier, or has no evaluation,
 * has no quality gauges.
 */
import { Gauge, type Registry } from 'prom-client';
import type { LabelStore } from './label-store.js';
import { driftRows, monitorVersion, type MonitorReport, type MonitorSources } from './monitor.js';
import { onlineQuality, qualityHistoryRows, type QualityReport } from './quality-run.js';
import type { WindowSpec } from './windows.js';

/** What the gauges read: the monitor's sources, and the labels for measured quality. */
export interface MonitorMetricsSources extends MonitorSources {
  /** Without it, no quality gauges. */
  labels?: LabelStore;
}

interface ServedPass {
  drift: MonitorReport[];
  quality: QualityReport[];
}

export interface MonitorMetricsOptions {
  window?: WindowSpec;
  ttlMs?: number;
  /** The alias monitored; default champion. */
  alias?: string;
}

/** Registers the gauges on `registry`; they fill themselves on each scrape. */
export function registerMonitorMetrics(registry: Registry, sources: MonitorMetricsSources, options: MonitorMetricsOptions = {}): void {
  const window = options.window ?? { kind: 'daily' };
  const ttl = options.ttlMs ?? 60_000;
  let last: { at: number; pass: Promise<ServedPass> } | undefined;
  const served = (): Promise<ServedPass> => {
    if (!last || Date.now() - last.at >= ttl) last = { at: Date.now(), pass: pass(sources, window, options.alias ?? 'champion') };
    return last.pass;
  };
  const reports = async (): Promise<MonitorReport[]> => (await served()).drift;
  new Gauge({
    name: 'loom_monitor_drift',
    help: "Drift of each feature in the latest window of a served version (against: training, previous window, or prediction), as `loom monitor drift` reports it; p-values for ks and chi_squared",
    labelNames: ['model', 'version', 'feature', 'against', 'measure'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const report of await reports()) {
        const latest = report.windows.at(-1)?.index;
        for (const row of driftRows(report)) {
          if (row.window !== latest || row.value === null) continue;
          this.set({ model: report.model, version: String(report.version), feature: row.feature, against: row.against, measure: row.measure }, row.value);
        }
      }
    },
  });
  new Gauge({
    name: 'loom_monitor_window_rows',
    help: 'Logged predictions in the latest window of a served version',
    labelNames: ['model', 'version'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const report of await reports()) {
        const w = report.windows.at(-1);
        if (w) this.set({ model: report.model, version: String(report.version) }, w.rows);
      }
    },
  });
  new Gauge({
    name: 'loom_monitor_reconstruction_error',
    help: 'Mean PCA reconstruction error of the latest window (NannyML multivariate drift)',
    labelNames: ['model', 'version'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const report of await reports()) {
        const m = report.windows.at(-1)?.multivariate;
        if (m) this.set({ model: report.model, version: String(report.version) }, m.error);
      }
    },
  });

  new Gauge({
    name: 'loom_monitor_quality',
    help: 'Online quality of a served binary classifier in its latest window, as `loom monitor quality` reports it: estimated from the scores (CBPE) or measured on the labelled rows',
    labelNames: ['model', 'version', 'kind', 'metric'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const report of (await served()).quality) {
        const latest = report.windows.at(-1)?.start;
        for (const row of qualityHistoryRows(report, window)) {
          if (row.start === latest && row.value !== null) this.set({ model: report.model, version: String(report.version), kind: row.kind, metric: row.metric }, row.value);
        }
      }
    },
  });
  new Gauge({
    name: 'loom_monitor_quality_labelled',
    help: 'Rows of the latest window whose label has arrived (the measured quality is of these)',
    labelNames: ['model', 'version'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const report of (await served()).quality) {
        const w = report.windows.at(-1);
        if (w) this.set({ model: report.model, version: String(report.version) }, w.labelled);
      }
    },
  });
}

async function pass(sources: MonitorMetricsSources, window: WindowSpec, alias: string): Promise<ServedPass> {
  const names: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await sources.registry.listRegisteredModels({ pageSize: 100, ...(pageToken && { pageToken }) });
    for (const model of page.items) if (model.aliases[alias] !== undefined) names.push(model.name);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const result: ServedPass = { drift: [], quality: [] };
  for (const name of names) {
    const version = await sources.registry.getVersionByAlias(name, alias);
    if (!version) continue;
    try {
      result.drift.push(await monitorVersion(sources, { model: name, version: version.version, window }));
    } catch {
      // Not monitorable yet (no lineage, no traffic): the other models' gauges still show.
    }
    if (!sources.labels) continue;
    try {
      result.quality.push(await onlineQuality({ ...sources, labels: sources.labels }, sources.location, { ref: `${name}@${version.version}`, window }));
    } catch {
      // Not a binary classifier, or no evaluation to calibrate on: no quality gauges for it.
    }
  }
  return result;
}
