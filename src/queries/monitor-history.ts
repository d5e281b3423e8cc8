/**
 * A model's monitoring as people ask about it: the drift and online-quality figures `loom monitor`
 * recorded, by time range, and the status of its latest recorded window. Read models over the
 * monitoring history store, shared by the HTTP API and any client; nothing here re-reads the
 * prediction log (that is `loom monitor`'s work, recorded as it runs).
 *
 * Usage: `const status = await monitorStatus(stores, { model: 'flights' });`
 */
import { LoomError } from '../core/errors.js';
import type { DriftHistoryQuery, DriftHistoryRow, MonitorHistoryStore, QualityHistoryRow } from '../monitor/history-store.js';
import type { RegistryStore } from '../registry/store.js';

/** The stores the monitoring queries read. */
export interface MonitorQueryStores {
  registry: RegistryStore;
  monitorHistory: MonitorHistoryStore;
}

export interface MonitorHistoryQuery extends DriftHistoryQuery {
  /** Only windows of this kind (`hourly`, `daily`, `requests:N`). */
  windowKind?: string;
}

/** The latest recorded window of a model version and what crossed its thresholds there. */
export interface MonitorStatus {
  model: string;
  /** The version the figures are about: the one asked for, else the newest version with figures; null without any. */
  version: number | null;
  window: { kind: string; start: number; end: number; rows: number; recordedAt: number } | null;
  /** Features whose drift against training or the previous window exceeded its threshold, sorted. */
  drifted: string[];
  /** Whether the predictions' own distribution drifted. */
  predictionDrift: boolean;
  /** The window's quality figures by `<estimated|measured>.<metric>` (null where undefined on the window). */
  quality: Record<string, number | null>;
  /** Every drift figure of the window. */
  figures: DriftHistoryRow[];
}

async function requireModel(registry: RegistryStore, model: string): Promise<void> {
  if (!(await registry.getRegisteredModel(model))) {
    throw new LoomError('NOT_FOUND', `registered model ${JSON.stringify(model)} not found`, { field: 'name', fix: 'list the registered models with `loom models ls`' });
  }
}

/** Recorded drift figures of a registered model, oldest window first. */
export async function driftHistory(stores: MonitorQueryStores, query: MonitorHistoryQuery): Promise<DriftHistoryRow[]> {
  await requireModel(stores.registry, query.model);
  const rows = await stores.monitorHistory.driftHistory(query);
  return query.windowKind === undefined ? rows : rows.filter((r) => r.windowKind === query.windowKind);
}

/** Recorded online-quality figures of a registered model, oldest window first. */
export async function qualityHistory(stores: MonitorQueryStores, query: MonitorHistoryQuery): Promise<QualityHistoryRow[]> {
  await requireModel(stores.registry, query.model);
  const rows = await stores.monitorHistory.qualityHistory(query);
  return query.windowKind === undefined ? rows : rows.filter((r) => r.windowKind === query.windowKind);
}

/**
 * The status of a model's latest recorded window: of the version asked for (else the newest
 * version with figures) and the window kind asked for (else the kind recorded last).
 */
export async function monitorStatus(stores: MonitorQueryStores, query: Pick<MonitorHistoryQuery, 'model' | 'version' | 'windowKind'>): Promise<MonitorStatus> {
  let rows = await driftHistory(stores, query);
  const version = query.version ?? (rows.length ? Math.max(...rows.map((r) => r.version)) : null);
  rows = rows.filter((r) => r.version === version);
  const empty: MonitorStatus = { model: query.model, version, window: null, drifted: [], predictionDrift: false, quality: {}, figures: [] };
  if (rows.length === 0) return empty;
  const kind = query.windowKind ?? rows.reduce((a, b) => (b.recordedAt >= a.recordedAt ? b : a)).windowKind;
  const ofKind = rows.filter((r) => r.windowKind === kind);
  const start = Math.max(...ofKind.map((r) => r.start));
  const figures = ofKind.filter((r) => r.start === start);
  const quality = (await stores.monitorHistory.qualityHistory({ model: query.model, version: version!, from: start, to: start + 1 })).filter((q) => q.windowKind === kind);
  return {
    model: query.model,
    version,
    window: { kind, start, end: figures[0]!.end, rows: figures[0]!.rows, recordedAt: Math.max(...figures.map((r) => r.recordedAt)) },
    drifted: [...new Set(figures.filter((r) => r.exceeded && r.against !== 'prediction').map((r) => r.feature))].sort(),
    predictionDrift: figures.some((r) => r.exceeded && r.against === 'prediction'),
    quality: Object.fromEntries(quality.map((q) => [`${q.kind}.${q.metric}`, q.value])),
    figures,
  };
}
