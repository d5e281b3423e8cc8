/**
 * One monitoring pass over a served version: read its rows from the prediction log, find
 * its training baseline through lineage, cut the rows into windows and analyse each. What
 * `loom monitor` prints and the Prometheus gauges expose both come from this.
 *
 * Usage: `const report = await monitorVersion({ metadata, registry, artifacts, location }, { model: 'flights', version: 3, window: { kind: 'daily' } })`
 */
import type { Progress } from '../core/progress.js';
import type { DuckDBOptions } from '../data/duckdb.js';
import { withSharedDuckDB } from '../data/duckdb-shared.js';
import type { MetadataStore } from '../metadata/store.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { FeatureComparison } from '../validate/drift.js';
import { trainingBaseline } from './baseline.js';
import type { DriftHistoryRow } from './history-store.js';
import { openLogProfiles } from './log-profiles.js';
import { openPredictionLog, type PredictionLogLocation, type PredictionLogRole, type SkippedFile } from './prediction-log-reader.js';
import type { FitStore } from './fit-store.js';
import { versionFits } from './version-fits.js';
import { analyseWindows, windowKindName, type WindowAnalysis, type WindowSpec } from './windows.js';

export interface MonitorSources {
  metadata: MetadataStore;
  registry: RegistryStore;
  artifacts: ArtifactStore;
  location: PredictionLogLocation;
  duckdb?: DuckDBOptions;
  /** Where the version's PCA is kept for later processes; without it, for this process only. */
  monitorFits?: FitStore;
}

export interface MonitorRequest {
  model: string;
  version: number;
  window: WindowSpec;
  roles?: readonly PredictionLogRole[];
  /** Epoch ms, [from, to). */
  from?: number;
  to?: number;
  progress?: Progress;
}

export interface MonitorReport {
  model: string;
  version: number;
  window: WindowSpec;
  /** Whether numeric bins came from the training rows (exact) or only its statistics. */
  trainingRows: boolean;
  /** Log files that could not be read. */
  skipped: SkippedFile[];
  windows: WindowAnalysis[];
}

export async function monitorVersion(sources: MonitorSources, request: MonitorRequest): Promise<MonitorReport> {
  const baseline = await trainingBaseline(sources, sources.artifacts, request.model, request.version);
  // On the process's engine: a server runs this pass on every scrape and alert check.
  return withSharedDuckDB(async (db) => {
    const log = await openPredictionLog(db, sources.location, {
      model: request.model,
      version: request.version,
      ...(request.roles && { roles: request.roles }),
      ...(request.from !== undefined && { from: request.from }),
      ...(request.to !== undefined && { to: request.to }),
    });
    try {
      // The version's PCA is kept between passes; its training rows' path names it apart from any other store's.
      const fits = versionFits.scope('drift', request.model, JSON.stringify([request.version, baseline.statisticsArtifactId, baseline.trainingRows ?? null]), sources.monitorFits);
      const profiles = await openLogProfiles(db, log);
      const windows = await analyseWindows(db, log.relation, baseline, { window: request.window, fits, ...(profiles && { profiles }), ...(request.progress && { progress: request.progress }) }).finally(() => profiles?.close());
      return { model: request.model, version: request.version, window: request.window, trainingRows: baseline.trainingRows !== undefined, skipped: log.skipped, windows };
    } finally {
      await log.close();
    }
  }, sources.duckdb);
}

/** One drift figure as the CLI and the gauges show it. */
export interface DriftRow {
  window: number;
  start: number;
  /** 'training', 'previous' or 'prediction'. */
  against: 'training' | 'previous' | 'prediction';
  feature: string;
  measure: string;
  value: number | null;
  threshold: number;
  exceeded: boolean;
}

/** A report's figures as the history stores them. */
export function historyRows(report: MonitorReport): Omit<DriftHistoryRow, 'recordedAt'>[] {
  const windowKind = windowKindName(report.window);
  const windows = new Map(report.windows.map((w) => [w.index, w]));
  return driftRows(report).map(({ window, ...row }) => ({ ...row, model: report.model, version: report.version, windowKind, end: windows.get(window)!.end, rows: windows.get(window)!.rows }));
}

/** Every drift figure of a report, flat: what `loom monitor drift` prints and /metrics exports. */
export function driftRows(report: MonitorReport): DriftRow[] {
  const rows: DriftRow[] = [];
  const add = (w: WindowAnalysis, against: DriftRow['against'], list: FeatureComparison[]) => {
    for (const c of list) rows.push({ window: w.index, start: w.start, against, feature: c.feature, measure: c.measure, value: Number.isFinite(c.value) ? c.value : null, threshold: c.threshold, exceeded: c.exceeded });
  };
  for (const w of report.windows) {
    add(w, 'training', w.training);
    add(w, 'previous', w.previous);
    add(w, 'prediction', w.prediction);
  }
  return rows;
}
